import type { Provider } from '../../core/domain/notice.ts';
import type { NoticeSource } from './notice-source.ts';
import type { SourceOptions } from './source-options.ts';
import { createAwsImdsSource } from './aws-imds.ts';
import { createGcpMetadataSource } from './gcp-metadata.ts';
import { createAzureScheduledEventsSource } from './azure-scheduled-events.ts';

/** Where each cloud serves instance metadata (link-local; reachable from pods unless blocked). */
export const defaultMetadataEndpoints: Record<Provider, string> = {
  aws: 'http://169.254.169.254',
  gcp: 'http://169.254.169.254',
  azure: 'http://169.254.169.254',
};

export interface CreateSourceOptions extends Omit<SourceOptions, 'baseUrl'> {
  readonly provider: Provider;
  /** Replaces the cloud's address (simulators, tests, proxies). */
  readonly metadataEndpoint?: string | undefined;
}

export function createNoticeSource(options: CreateSourceOptions): NoticeSource {
  const { provider, metadataEndpoint, ...rest } = options;
  const baseUrl = metadataEndpoint ?? defaultMetadataEndpoints[provider];
  const sourceOptions: SourceOptions = { ...rest, baseUrl };
  switch (provider) {
    case 'aws':
      return createAwsImdsSource(sourceOptions);
    case 'gcp':
      return createGcpMetadataSource(sourceOptions);
    case 'azure':
      return createAzureScheduledEventsSource(sourceOptions);
  }
}
