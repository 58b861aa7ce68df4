import type { Registry } from 'prom-client';
import type { Clock } from '../core/clock.ts';
import { backoffDelay } from '../core/backoff.ts';
import type { InstanceIdentity, Provider } from '../core/domain/notice.ts';
import { toSpotguardError } from '../core/errors.ts';
import { createKubeApis } from '../core/kube/kube-apis.ts';
import { loadKubeConfig } from '../core/kube/load-kube-config.ts';
import type { Logger } from '../core/log/create-logger.ts';
import { startOpsServer } from '../core/ops/start-ops-server.ts';
import { EventRecorder } from './execute/event-recorder.ts';
import { scanExecutorJvms } from './execute/executor-jvms.ts';
import { NodePatcher } from './execute/node-patcher.ts';
import { PodEvictor } from './execute/pod-evictor.ts';
import { signalExecutor } from './execute/signal-executor.ts';
import { createResponseMetrics } from './metrics/response-metrics.ts';
import { createSourceMetrics } from './metrics/source-metrics.ts';
import { watchNotices } from './notices/watch-notices.ts';
import type { ResponsePolicy } from './plan/response-policy.ts';
import { resolveProvider } from './resolve-provider.ts';
import { NoticeResponder } from './respond/notice-responder.ts';
import { createNoticeSource } from './sources/create-source.ts';
import type { NoticeSource } from './sources/notice-source.ts';

export interface AgentConfig {
  readonly provider: Provider | 'auto';
  readonly metadataEndpoint: string | undefined;
  readonly nodeName: string;
  readonly kubeconfig: string | undefined;
  readonly pollIntervalMs: number | undefined;
  readonly opsHost: string;
  readonly opsPort: number;
  readonly dryRun: boolean;
  readonly policy: ResponsePolicy;
  readonly procRoot: string;
  readonly passIntervalMs: number;
}

export interface AgentDeps {
  readonly log: Logger;
  readonly clock: Clock;
  readonly registry: Registry;
  readonly signal: AbortSignal;
}

/** Wires the agent: ops server, provider, notice source, poll loop, responder. Returns when the signal aborts. */
export async function runAgent(config: AgentConfig, deps: AgentDeps): Promise<void> {
  const { log, clock, registry, signal } = deps;
  let ready: string | null = 'no successful metadata poll yet';
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry, log, readiness: () => ready });
  try {
    const kc = loadKubeConfig(config.kubeconfig);
    const apis = createKubeApis(kc);
    const provider = await resolveProvider({ ...config, log, signal });
    const source = createNoticeSource({
      provider,
      metadataEndpoint: config.metadataEndpoint,
      clock,
      log,
      ...(config.pollIntervalMs === undefined ? {} : { pollIntervalMs: config.pollIntervalMs }),
    });
    const responder = new NoticeResponder({
      apis,
      nodeName: config.nodeName,
      policy: config.policy,
      clock,
      log: log.child({ module: 'responder', node: config.nodeName }),
      metrics: createResponseMetrics(registry),
      executor: {
        patcher: new NodePatcher(apis.core, config.nodeName),
        events: new EventRecorder(apis.events, `spotguard-agent-${config.nodeName}`),
        evictor: new PodEvictor(apis.core),
        signal: (pod) => signalExecutor(pod, config.procRoot),
        acknowledge: async (noticeId) => {
          if ('acknowledge' in source && typeof source.acknowledge === 'function') {
            await (source as { acknowledge: (ids: string[], s: AbortSignal) => Promise<void> }).acknowledge([noticeId], signal);
          }
        },
      },
      scanJvms: config.policy.mode === 'signal' ? () => scanExecutorJvms(config.procRoot) : null,
      dryRun: config.dryRun,
      passIntervalMs: config.passIntervalMs,
    });
    try {
      await retry('read node', deps, () => responder.resume());
      const identity = await readIdentity(source, deps);
      log.info(
        { provider, node: config.nodeName, instance: identity?.id, type: identity?.type, zone: identity?.zone, capacity: identity?.capacity, mode: config.policy.mode, dryRun: config.dryRun },
        'agent started',
      );
      const responding = responder.run(signal);
      await watchNotices({
        source,
        clock,
        log: log.child({ module: 'notices' }),
        metrics: createSourceMetrics(registry),
        signal,
        onChanges: (changes) => {
          ready = null;
          responder.update([...changes.current.values()]);
        },
      });
      await responding;
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

/** Start-up steps that need the API server keep trying (it may be restarting), with backoff. */
async function retry<T>(what: string, deps: AgentDeps, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const e = toSpotguardError(err, 'E_KUBE_API');
      if (!e.retryable || deps.signal.aborted) throw e;
      deps.log.warn({ code: e.code, err: e.message, attempt }, `${what} failed; retrying`);
      await deps.clock.sleep(backoffDelay(attempt, { baseMs: 500, maxMs: 10_000 }), deps.signal).catch(() => undefined);
    }
  }
}
