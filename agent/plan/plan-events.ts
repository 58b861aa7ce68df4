import type { NodeSnapshot, PodSnapshot } from '../../core/domain/kube-snapshots.ts';
import type { Action, EventReason, EventTarget } from './actions.ts';
import type { ChosenNotice } from './choose-notice.ts';
import type { ExecutorProgress, NoticeRecord } from './notice-record.ts';

export interface EventPlanInput {
  readonly node: NodeSnapshot;
  readonly record: NoticeRecord;
  readonly previous: NoticeRecord | null;
  readonly chosen: ChosenNotice;
  readonly pods: readonly PodSnapshot[];
  readonly now: number;
}

/**
 * The Events a person reading `kubectl describe` needs, each once: keys of emitted Events are kept
 * in the record, so a restarted agent does not repeat them. An Event whose creation failed has its
 * key dropped by the responder, and is planned again on the next pass.
 */
export function planEvents(input: EventPlanInput): { actions: Action[]; record: NoticeRecord } {
  const { node, chosen } = input;
  const nodeTarget = nodeEventTarget(node);
  const actions: Action[] = [];
  let record = input.record;
  const emitted = new Set(record.progress.emitted);
  const once = (key: string, target: EventTarget, type: 'Normal' | 'Warning', reason: EventReason, note: string): void => {
    if (emitted.has(key)) return;
    emitted.add(key);
    actions.push(event(key, target, type, reason, note));
  };
  const deadline = chosen.deadline === Number.MAX_SAFE_INTEGER ? 'no deadline' : `deadline ${new Date(chosen.deadline).toISOString()}`;

  if (record.urgency === 'elevated') {
    // Keyed apart from the imminent notice Event, so maintenance that comes close still raises InterruptionNotice.
    if (record.kind === 'scheduled-maintenance') {
      once(`early:${record.id}`, nodeTarget, 'Normal', 'MaintenanceScheduled', `${describe(record)} starts ${deadline}; node marked elevated risk until it is close`);
    } else {
      once(`early:${record.id}`, nodeTarget, 'Warning', 'EarlyWarning', `${describe(record)}: node marked elevated risk, new pods prefer other nodes`);
    }
    if (record.progress.expired) once(`expired:${record.id}`, nodeTarget, 'Normal', 'EarlyWarningExpired', `${describe(record)} expired without escalating; risk marks removed`);
  } else {
    once(`notice:${record.id}`, nodeTarget, 'Warning', 'InterruptionNotice', `${describe(record)}, ${deadline}: decommissioning Spark executors on this node`);
    // From the record, not the pods: an Event that failed is tried again after the executors are gone.
    for (const [app, executors] of groupBy(record.progress.executors, (e) => e.app ?? 'unknown')) {
      const target = driverTarget(executors[0] as ExecutorProgress, nodeTarget);
      once(`app:${app}`, target, 'Warning', 'ExecutorsDecommissioning', `${executors.length} executor(s) of ${app} on node ${node.name} are being decommissioned: ${describe(record)}, ${deadline}`);
      if (executors.some((e) => !e.graceful)) {
        once(`disabled:${app}`, target, 'Warning', 'DecommissioningDisabled', `${app} did not set spark.decommission.enabled=true: its executors on ${node.name} stop without migrating shuffle blocks`);
      }
    }
    // Every executor with an outcome, not only those decided now: an Event that failed is tried again.
    for (const f of record.progress.executors.filter((e) => e.outcome !== null)) {
      const [reason, type] = outcomeEvent(f);
      once(`outcome:${f.uid}`, driverTarget(f, nodeTarget), type, reason, `executor ${f.executor ?? '?'} (${f.pod}) on ${node.name}: ${f.outcome}, ${f.detail}`);
    }
    // A completed driver pod (Spark leaves them behind) is no running app.
    for (const driver of input.pods.filter((p) => p.sparkRole === 'driver' && p.phase !== 'Succeeded' && p.phase !== 'Failed')) {
      once(`driver:${driver.uid}`, { kind: 'Pod', namespace: driver.namespace, name: driver.name, uid: driver.uid }, 'Warning', 'DriverOnInterruptedNode',
        `Spark driver of ${driver.sparkAppId ?? 'an app'} runs on ${node.name}, which is being interrupted (${deadline}): the app will fail; run drivers on on-demand nodes`);
    }
    if (record.progress.done) {
      const count = (o: string): number => record.progress.executors.filter((e) => e.outcome === o).length;
      once('summary', nodeTarget, count('decommissioned') === record.progress.executors.length ? 'Normal' : 'Warning', 'InterruptionHandled',
        `${describe(record)}: ${record.progress.executors.length} executor(s): ${count('decommissioned')} decommissioned, ${count('killed-at-deadline')} killed-at-deadline, ${count('failed')} failed; ${record.progress.evicted.length} other pod(s) evicted`);
    }
  }
  record = { ...record, progress: { ...record.progress, emitted: [...emitted] } };
  return { actions, record };
}

function outcomeEvent(p: ExecutorProgress): [EventReason, 'Normal' | 'Warning'] {
  if (p.outcome === 'decommissioned') return ['ExecutorDecommissioned', 'Normal'];
  if (p.outcome === 'killed-at-deadline') return ['ExecutorKilledAtDeadline', 'Warning'];
  return ['ExecutorDecommissionFailed', 'Warning'];
}

/** Events about an executor go to its app's driver pod (in the executor's namespace), else to the node. */
function driverTarget(executor: ExecutorProgress, fallback: EventTarget): EventTarget {
  const namespace = executor.pod.split('/')[0] as string;
  return executor.driver ? { kind: 'Pod', namespace, name: executor.driver.name, uid: executor.driver.uid } : fallback;
}

/** The Event that says a notice went away and spotguard undid its marks (no key: the record goes with it). */
export function withdrawnEvent(node: NodeSnapshot, withdrawn: NoticeRecord): Action {
  return event(null, nodeEventTarget(node), 'Normal', 'NoticeWithdrawn', `${describe(withdrawn)} was withdrawn; spotguard removed its taints and labels`);
}

function nodeEventTarget(node: NodeSnapshot): EventTarget {
  return { kind: 'Node', namespace: null, name: node.name, uid: node.uid };
}

function describe(r: NoticeRecord): string {
  return `${r.kind} (${r.action}) notice ${r.id}`;
}

function event(key: string | null, regarding: EventTarget, eventType: 'Normal' | 'Warning', reason: EventReason, note: string): Action {
  return { type: 'emit-event', key, regarding, eventType, reason, note: note.slice(0, 1024), why: reason };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
