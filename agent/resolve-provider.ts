import { CoreV1Api } from '@kubernetes/client-node';
import type { Provider } from '../core/domain/notice.ts';
import { kubeError, loadKubeConfig } from '../core/kube/load-kube-config.ts';
import type { Logger } from '../core/log/create-logger.ts';
import { detectProviderByProbing, providerFromProviderId } from './sources/detect-provider.ts';

export interface ResolveProviderOptions {
  readonly provider: Provider | 'auto';
  readonly nodeName: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly metadataEndpoint: string | undefined;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/** `--provider` when set; else the Node's spec.providerID (one API read at start-up); else probing. */
export async function resolveProvider(options: ResolveProviderOptions): Promise<Provider> {
  if (options.provider !== 'auto') return options.provider;
  if (options.nodeName) {
    const api = loadKubeConfig(options.kubeconfig).makeApiClient(CoreV1Api);
    let providerId: string | undefined;
    try {
      const node = await api.readNode({ name: options.nodeName });
      providerId = node.spec?.providerID;
    } catch (err) {
      throw kubeError(err, `read node ${options.nodeName}`);
    }
    const provider = providerFromProviderId(providerId);
    if (provider) {
      options.log.info({ node: options.nodeName, providerId, provider }, 'provider detected from node');
      return provider;
    }
    options.log.warn({ node: options.nodeName, providerId: providerId ?? null }, 'node providerID names no known cloud; probing');
  }
  const provider = await detectProviderByProbing({ metadataEndpoint: options.metadataEndpoint, timeoutMs: 2000, signal: options.signal });
  options.log.info({ provider }, 'provider detected by probing');
  return provider;
}

