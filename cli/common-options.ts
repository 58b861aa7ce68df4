import type { Command } from 'commander';
import { defineOption } from '../core/config/define-option.ts';
import { parseBaseUrl, parseDuration, parseHost, parsePort } from '../core/config/parse-values.ts';

export const providerChoices = ['auto', 'aws', 'gcp', 'azure'] as const;
export type ProviderChoice = (typeof providerChoices)[number];

export function addLoggingOptions(command: Command): Command {
  defineOption(command, {
    flags: '--log-level <level>',
    env: 'SPOTGUARD_LOG_LEVEL',
    description: 'least severe log level written',
    default: 'info',
    choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'],
  });
  return defineOption(command, {
    flags: '--log-format <format>',
    env: 'SPOTGUARD_LOG_FORMAT',
    description: 'json (one object a line, for log pipelines) or pretty (for humans)',
    default: 'json',
    choices: ['json', 'pretty'],
  });
}

export function addMetadataOptions(command: Command): Command {
  defineOption(command, {
    flags: '--provider <provider>',
    env: 'SPOTGUARD_PROVIDER',
    description: "cloud whose metadata to read; auto reads the Node's spec.providerID, else probes the three services",
    default: 'auto',
    choices: providerChoices,
  });
  return defineOption(command, {
    flags: '--metadata-endpoint <url>',
    env: 'SPOTGUARD_METADATA_ENDPOINT',
    description: "base URL replacing the cloud's metadata address (simulators, tests); default http://169.254.169.254",
    parse: parseBaseUrl,
  });
}

export function addOpsOptions(command: Command, defaultPort: number): Command {
  defineOption(command, {
    flags: '--ops-host <host>',
    env: 'SPOTGUARD_OPS_HOST',
    description: 'address of the /healthz, /readyz and /metrics server',
    default: '0.0.0.0',
    parse: parseHost,
  });
  return defineOption(command, {
    flags: '--ops-port <port>',
    env: 'SPOTGUARD_OPS_PORT',
    description: 'port of the /healthz, /readyz and /metrics server (0 picks a free one)',
    default: String(defaultPort),
    parse: (v) => parsePort(v, { allowZero: true }),
  });
}

export function addKubeconfigOption(command: Command): Command {
  return defineOption(command, {
    flags: '--kubeconfig <path>',
    env: 'SPOTGUARD_KUBECONFIG',
    description: 'kubeconfig file; default: in-cluster service account, then $KUBECONFIG, then ~/.kube/config',
  });
}

export function durationOption(min: number, max: number): (v: string) => number {
  return (v) => parseDuration(v, { minMs: min, maxMs: max });
}
