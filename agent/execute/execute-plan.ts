import type { Clock } from '../../core/clock.ts';
import type { PodSnapshot } from '../../core/domain/kube-snapshots.ts';
import { toSpotguardError } from '../../core/errors.ts';
import type { Logger } from '../../core/log/create-logger.ts';
import type { ResponseMetrics } from '../metrics/response-metrics.ts';
import type { Action } from '../plan/actions.ts';
import type { EventRecorder } from './event-recorder.ts';
import type { NodePatcher } from './node-patcher.ts';
import type { PodEvictor } from './pod-evictor.ts';

export interface PlanExecutor {
  readonly patcher: NodePatcher;
  readonly events: EventRecorder;
  readonly evictor: PodEvictor;
  /** Sends SIGPWR to the executor JVM of a pod; false when none was found. */
  readonly signal: (pod: PodSnapshot) => Promise<boolean>;
  /** Lets the cloud go ahead (Azure StartRequests). */
  readonly acknowledge: (noticeId: string) => Promise<void>;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ResponseMetrics;
  readonly dryRun: boolean;
}

export interface ExecutionResult {
  readonly recordWritten: boolean;
  /** Keys of the Events that could not be created (the caller forgets them, so the next pass plans them again). */
  readonly failedEvents: readonly string[];
}

/**
 * Carries out a plan in order. Every action is idempotent; a failed one is logged with its code and
 * retried by the next pass. If the record cannot be written, nothing after it runs: no signal or
 * eviction is ever sent that a restarted agent would not know about.
 */
export async function executePlan(actions: readonly Action[], pods: readonly PodSnapshot[], exec: PlanExecutor): Promise<ExecutionResult> {
  const byUid = new Map(pods.map((p) => [p.uid, p] as const));
  const failedEvents: string[] = [];
  for (const action of actions) {
    if (exec.dryRun) {
      exec.log.info({ action: describeAction(action), why: action.why }, 'dry run: would act');
      continue;
    }
    try {
      await run(action, byUid, exec);
    } catch (err) {
      const e = toSpotguardError(err, 'E_KUBE_API');
      exec.metrics.actionErrors.inc({ action: action.type, code: e.code });
      exec.log.warn({ action: describeAction(action), code: e.code, err: e.message }, 'action failed; will retry');
      if (action.type === 'write-record') return { recordWritten: false, failedEvents };
      if (action.type === 'emit-event' && action.key !== null) failedEvents.push(action.key);
    }
  }
  return { recordWritten: true, failedEvents };
}

async function run(action: Action, pods: ReadonlyMap<string, PodSnapshot>, exec: PlanExecutor): Promise<void> {
  const { log, metrics } = exec;
  switch (action.type) {
    case 'add-taint':
      if (await exec.patcher.addTaint(action.taint)) log.info({ taint: action.taint, why: action.why }, 'node tainted');
      return;
    case 'remove-taint':
      if (await exec.patcher.removeTaint(action.key)) log.info({ taint: action.key, why: action.why }, 'node taint removed');
      return;
    case 'set-labels':
      await exec.patcher.setLabels(action.labels);
      log.info({ labels: action.labels, why: action.why }, 'node labelled');
      return;
    case 'write-record':
      await exec.patcher.writeRecord(action.value);
      return;
    case 'emit-event':
      await exec.events.emit(action.regarding, action.eventType, action.reason, action.note, exec.clock.now());
      log.info({ reason: action.reason, regarding: `${action.regarding.kind}/${action.regarding.name}`, note: action.note }, 'event emitted');
      return;
    case 'evict-pod':
    case 'delete-pod': {
      const role = pods.get(action.pod.uid)?.sparkRole ?? 'other';
      const method = action.type === 'evict-pod' ? 'evict' : 'delete';
      const result =
        action.type === 'evict-pod'
          ? await exec.evictor.evict(action.pod, action.graceSeconds)
          : await exec.evictor.delete(action.pod, action.graceSeconds);
      metrics.podRemovals.inc({ role, method, result });
      if (role === 'driver' && result !== 'blocked') metrics.driversOnInterruptedNodes.inc();
      const fields = { pod: `${action.pod.namespace}/${action.pod.name}`, role, graceSeconds: action.graceSeconds, result, why: action.why };
      if (result === 'blocked') log.warn(fields, 'eviction blocked by a PodDisruptionBudget; will retry');
      else log.info(fields, method === 'evict' ? 'pod evicted' : 'pod deleted');
      return;
    }
    case 'signal-executor': {
      const pod = pods.get(action.pod.uid);
      const sent = pod ? await exec.signal(pod) : false;
      metrics.signals.inc({ result: sent ? 'sent' : 'not-found' });
      if (sent) log.info({ pod: `${action.pod.namespace}/${action.pod.name}` }, 'executor JVM signalled (SIGPWR)');
      else log.warn({ pod: `${action.pod.namespace}/${action.pod.name}` }, 'executor JVM not found; not signalled');
      return;
    }
    case 'acknowledge-notice':
      await exec.acknowledge(action.noticeId);
      log.info({ noticeId: action.noticeId }, 'notice acknowledged');
      return;
  }
}

export function describeAction(action: Action): string {
  switch (action.type) {
    case 'add-taint':
      return `taint ${action.taint.key}=${action.taint.value ?? ''}:${action.taint.effect}`;
    case 'remove-taint':
      return `untaint ${action.key}`;
    case 'set-labels':
      return `label ${Object.entries(action.labels).map(([k, v]) => `${k}=${v ?? '(removed)'}`).join(',')}`;
    case 'write-record':
      return action.value === null ? 'remove notice annotation' : 'write notice annotation';
    case 'emit-event':
      return `event ${action.reason} on ${action.regarding.kind}/${action.regarding.name}`;
    case 'evict-pod':
      return `evict ${action.pod.namespace}/${action.pod.name} grace ${action.graceSeconds}s`;
    case 'delete-pod':
      return `delete ${action.pod.namespace}/${action.pod.name} grace ${action.graceSeconds}s`;
    case 'signal-executor':
      return `SIGPWR executor JVM of ${action.pod.namespace}/${action.pod.name}`;
    case 'acknowledge-notice':
      return `acknowledge ${action.noticeId}`;
  }
}
