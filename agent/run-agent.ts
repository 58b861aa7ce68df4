import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import { backoffDelay } from '../core/backoff.ts';
import type { InstanceIdentity, Provider } from '../core/domain/notice.ts';
import { toSpotguardError } from '../core/errors.ts';
import type { Logger } from '../core/log/create-logger.ts';
import { startOpsServer } from '../core/ops/start-ops-server.ts';
import { createSourceMetrics } from './metrics/source-metrics.ts';
import { watchNotices } from './notices/watch-notices.ts';
import { resolveProvider } from './resolve-provider.ts';
import { createNoticeSource } from './sources/create-source.ts';
import type { NoticeSource } from './sources/notice-source.ts';

export interface AgentConfig {
  readonly provider: Provider | 'auto';
  readonly metadataEndpoint: string | undefined;
  readonly nodeName: string | undefined;
  readonly kubeconfig: string | undefined;
  readonly pollIntervalMs: number | undefined;
  readonly opsHost: string;
  readonly opsPort: number;
  readonly dryRun: boolean;
}

export interface AgentDeps {
  readonly log: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly signal: AbortSignal;
}

/** Wires the agent: ops server, provider, notice source, poll loop. Returns when the signal aborts. */
export async function runAgent(config: AgentConfig, deps: AgentDeps): Promise<void> {
  const { log, clock, registry, signal } = deps;
  let ready: string | null = 'no successful metadata poll yet';
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, log, readiness: () => ready });
  try {
    const provider = await resolveProvider({ ...config, log, signal });
    const source = createNoticeSource({
      provider,
      metadataEndpoint: config.metadataEndpoint,
      clock,
      log: log.child({ module: `source-${provider}` }),
      ...(config.pollIntervalMs === undefined ? {} : { pollIntervalMs: config.pollIntervalMs }),
    });
    try {
      const identity = await readIdentity(source, deps);
      if (identity) log.info({ provider, instance: identity.id, type: identity.type, zone: identity.zone, capacity: identity.capacity }, 'agent started');
      await watchNotices({
        source,
        clock,
        log: log.child({ module: 'notices' }),
        metrics: createSourceMetrics(registry),
        signal,
        onChanges: () => {
          ready = null;
        },
      });
    } finally {
      await source.close();
    }
  } finally {
    await ops.close();
    log.info({}, 'agent stopped');
  }
}

/** Identity is informative: retried a few times, then the agent goes on without it. */
async function readIdentity(source: NoticeSource, deps: AgentDeps): Promise<InstanceIdentity | null> {
  for (let attempt = 0; attempt < 5 && !deps.signal.aborted; attempt++) {
    try {
      return await source.identity(deps.signal);
    } catch (err) {
      const e = toSpotguardError(err, 'E_METADATA_UNAVAILABLE');
      deps.log.warn({ code: e.code, err: e.message, attempt }, 'instance identity not read');
      await deps.clock.sleep(backoffDelay(attempt, { baseMs: 500, maxMs: 5000 }), deps.signal).catch(() => undefined);
    }
  }
  return null;
}
