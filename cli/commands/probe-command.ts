import { Command } from 'commander';
import { systemClock, toRfc3339 } from '../../core/clock.ts';
import type { InstanceIdentity, Notice, Provider } from '../../core/domain/notice.ts';
import { defineOption } from '../../core/config/define-option.ts';
import { freezeConfig } from '../../core/config/parse-values.ts';
import { isSpotguardError } from '../../core/errors.ts';
import { createLogger, type LogFormat, type LogLevel } from '../../core/log/create-logger.ts';
import { createNoticeSource } from '../../agent/sources/create-source.ts';
import { detectProviderByProbing } from '../../agent/sources/detect-provider.ts';
import { addLoggingOptions, addMetadataOptions, durationOption, type ProviderChoice } from '../common-options.ts';

interface ProbeConfig {
  provider: ProviderChoice;
  metadataEndpoint: string | undefined;
  output: 'json' | 'text';
  timeoutMs: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
}

export function probeCommand(): Command {
  const command = new Command('probe').description('read the instance metadata once: which cloud, which instance, which notices are in force');
  addMetadataOptions(command);
  defineOption(command, {
    flags: '--output <format>',
    env: 'SPOTGUARD_OUTPUT',
    description: 'json (one document) or text',
    default: 'text',
    choices: ['json', 'text'],
  });
  defineOption(command, {
    flags: '--timeout <duration>',
    env: 'SPOTGUARD_PROBE_TIMEOUT',
    description: 'give up on the metadata service after this long',
    default: '5s',
    parse: durationOption(100, 300_000),
  });
  addLoggingOptions(command);
  command.action(async (opts: Record<string, unknown>) => {
    const config = freezeConfig<ProbeConfig>({
      provider: opts.provider as ProviderChoice,
      metadataEndpoint: opts.metadataEndpoint as string | undefined,
      output: opts.output as ProbeConfig['output'],
      timeoutMs: opts.timeout as number,
      logLevel: opts.logLevel as LogLevel,
      logFormat: opts.logFormat as LogFormat,
    });
    process.exitCode = await runProbe(config);
  });
  return command;
}

export interface ProbeResult {
  provider: Provider;
  instance: { id: string; type: string; zone: string; capacity: string };
  notices: Array<{ id: string; kind: string; action: string; deadline: string | null; detectedAt: string }>;
}

async function runProbe(config: Readonly<ProbeConfig>): Promise<number> {
  const log = createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, format: config.logFormat });
  const signal = AbortSignal.timeout(config.timeoutMs);
  try {
    const provider =
      config.provider === 'auto'
        ? await detectProviderByProbing({ metadataEndpoint: config.metadataEndpoint, timeoutMs: Math.min(2000, config.timeoutMs), signal })
        : config.provider;
    const source = createNoticeSource({
      provider,
      metadataEndpoint: config.metadataEndpoint,
      clock: systemClock,
      log,
      requestTimeoutMs: config.timeoutMs,
    });
    try {
      const identity = await patiently(() => source.identity(signal), signal);
      const notices = await patiently(() => source.poll(signal, { wait: false }), signal);
      const result = toProbeResult(provider, identity, notices);
      process.stdout.write(config.output === 'json' ? `${JSON.stringify(result)}\n` : formatProbeText(result, systemClock.now()));
      return 0;
    } finally {
      await source.close();
    }
  } catch (err) {
    const e = err as { code?: string; message?: string; name?: string };
    const message = e.name === 'TimeoutError' ? `no answer within ${config.timeoutMs} ms` : (e.message ?? String(err));
    process.stderr.write(`spotguard probe: ${e.code ? `${e.code}: ` : ''}${message}\n`);
    return 1;
  }
}

/** Azure allows 5 requests a second, and detection may have used them: a throttled read waits and retries. */
async function patiently<T>(read: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!isSpotguardError(err, 'E_METADATA_THROTTLED') || attempt >= 3) throw err;
      const hint = (err as { retryAfterMs?: unknown }).retryAfterMs;
      await systemClock.sleep(typeof hint === 'number' ? Math.min(hint, 5000) : 1000, signal);
    }
  }
}

export function toProbeResult(provider: Provider, identity: InstanceIdentity, notices: readonly Notice[]): ProbeResult {
  return {
    provider,
    instance: { id: identity.id, type: identity.type, zone: identity.zone, capacity: identity.capacity },
    notices: notices.map((n) => ({
      id: n.id,
      kind: n.kind,
      action: n.action,
      deadline: n.deadline === null ? null : toRfc3339(n.deadline),
      detectedAt: toRfc3339(n.detectedAt),
    })),
  };
}

export function formatProbeText(result: ProbeResult, now: number): string {
  const i = result.instance;
  const lines = [`provider  ${result.provider}`, `instance  ${i.id} (${i.type}, ${i.zone}, ${i.capacity})`];
  if (result.notices.length === 0) lines.push('notices   none');
  for (const n of result.notices) {
    const left = n.deadline === null ? 'no deadline' : `deadline ${n.deadline} (${describeLeft(Date.parse(n.deadline) - now)})`;
    lines.push(`notice    ${n.kind} ${n.action}, ${left}, id ${n.id}`);
  }
  return `${lines.join('\n')}\n`;
}

function describeLeft(ms: number): string {
  if (ms <= 0) return 'passed';
  const s = Math.round(ms / 1000);
  return s >= 120 ? `in ${Math.round(s / 60)}m` : `in ${s}s`;
}
