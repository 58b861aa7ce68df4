import type { Provider } from '../../core/domain/notice.ts';
import { SpotguardError } from '../../core/errors.ts';
import { createMetadataHttp } from './metadata-http.ts';
import { defaultMetadataEndpoints } from './create-source.ts';

/** `spec.providerID` of a Node → its cloud: aws:///zone/i-…, gce://project/zone/name, azure:///subscriptions/…. */
export function providerFromProviderId(providerId: string | undefined): Provider | null {
  if (!providerId) return null;
  if (providerId.startsWith('aws://')) return 'aws';
  if (providerId.startsWith('gce://')) return 'gcp';
  if (providerId.startsWith('azure://')) return 'azure';
  return null;
}

/**
 * Asks each cloud's metadata service, with short timeouts, whether it is there. With an endpoint
 * override every probe goes to that address and the answer tells which service it is.
 */
export async function detectProviderByProbing(options: {
  metadataEndpoint?: string | undefined;
  timeoutMs: number;
  signal: AbortSignal;
}): Promise<Provider> {
  const probes: Record<Provider, (base: string) => Promise<boolean>> = {
    aws: async (base) => {
      const http = createMetadataHttp('aws', base);
      try {
        const res = await http.send('/latest/api/token', {
          method: 'PUT',
          headers: { 'x-aws-ec2-metadata-token-ttl-seconds': '60' },
          timeoutMs: options.timeoutMs,
          signal: options.signal,
        });
        if (res.status === 200 && res.headers['x-aws-ec2-metadata-token-ttl-seconds'] !== undefined) return true;
        const v1 = await http.send('/latest/meta-data/instance-id', { timeoutMs: options.timeoutMs, signal: options.signal });
        return v1.status === 200 && /^i-[0-9a-f]+$/.test(v1.body.trim());
      } finally {
        await http.close();
      }
    },
    gcp: async (base) => {
      const http = createMetadataHttp('gcp', base);
      try {
        const res = await http.send('/computeMetadata/v1/instance/id', {
          headers: { 'metadata-flavor': 'Google' },
          timeoutMs: options.timeoutMs,
          signal: options.signal,
        });
        return res.status === 200 && res.headers['metadata-flavor'] === 'Google';
      } finally {
        await http.close();
      }
    },
    azure: async (base) => {
      const http = createMetadataHttp('azure', base);
      try {
        const res = await http.send('/metadata/instance?api-version=2021-02-01', {
          headers: { metadata: 'true' },
          timeoutMs: options.timeoutMs,
          signal: options.signal,
        });
        return res.status === 200 && /"compute"\s*:/.test(res.body);
      } finally {
        await http.close();
      }
    },
  };
  const order: Provider[] = ['aws', 'gcp', 'azure'];
  const results = await Promise.all(
    order.map((p) => probes[p](options.metadataEndpoint ?? defaultMetadataEndpoints[p]).catch(() => false)),
  );
  const found = order.filter((_, i) => results[i]);
  if (found.length === 1) return found[0] as Provider;
  const where = options.metadataEndpoint ?? 'the link-local metadata address';
  throw new SpotguardError(
    'E_PROVIDER_UNKNOWN',
    found.length === 0
      ? `no AWS, GCP or Azure metadata service answered at ${where}; set --provider`
      : `several metadata services answered at ${where} (${found.join(', ')}); set --provider`,
  );
}
