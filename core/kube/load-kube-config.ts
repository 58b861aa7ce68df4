import { ApiException, KubeConfig } from '@kubernetes/client-node';
import { SpotguardError } from '../errors.ts';

/** A kubeconfig file when given, else the in-cluster service account, else the default locations. */
export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
  } catch (err) {
    throw new SpotguardError('E_KUBE_CONFIG', `cannot load kubeconfig ${path ?? '(default)'}: ${(err as Error).message}`, { cause: err });
  }
  if (!kc.getCurrentCluster()) {
    throw new SpotguardError('E_KUBE_CONFIG', `kubeconfig ${path ?? '(default)'} has no current cluster; pass --kubeconfig or run in a pod`);
  }
  return kc;
}

/** Converts a client-node failure into a SpotguardError without carrying response bodies into logs. */
export function kubeError(err: unknown, what: string): SpotguardError {
  if (err instanceof SpotguardError) return err;
  if (err instanceof ApiException) {
    const status = err.code;
    let reason: string;
    try {
      const body = typeof err.body === 'string' ? (JSON.parse(err.body) as { message?: string }) : (err.body as { message?: string });
      reason = body?.message ? `: ${body.message}` : '';
    } catch {
      reason = '';
    }
    const code = status === 429 && what.startsWith('evict') ? 'E_EVICTION_BLOCKED' : 'E_KUBE_API';
    return new SpotguardError(code, `${what}: HTTP ${status}${reason}`, {
      retryable: status === 429 || status === 409 || status >= 500,
    });
  }
  return new SpotguardError('E_KUBE_API', `${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

/** HTTP status of a client-node failure, if it has one. */
export function kubeStatus(err: unknown): number | null {
  return err instanceof ApiException ? err.code : null;
}
