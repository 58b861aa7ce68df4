import type { NodeSnapshot, PodSnapshot } from '../../core/domain/kube-snapshots.ts';
import type { Action, EventReason, EventTarget } from './actions.ts';
import type { ChosenNotice } from './choose-notice.ts';
import type { ExecutorProgress, NoticeRecord } from './notice-record.ts';

export interface EventPlanInput {
  readonly node: NodeSnapshot;
  readonly record: NoticeRecord | null;
  readonly previous: NoticeRecord | null;
  readonly chosen: ChosenNotice | null;
  readonly finished: readonly ExecutorProgress[];
  readonly pods: readonly PodSnapshot[];
  readonly now: number;
}

/**
 * The Events a person reading `kubectl describe` needs, each once: keys of emitted Events are kept
 * in the record, so a restarted agent does not repeat them.
 */
export function planEvents(input: EventPlanInput): { actions: Action[]; record: NoticeRecord } {
  const { node, chosen } = input;
  const nodeTarget: EventTarget = { kind: 'Node', namespace: null, name: node.name, uid: node.uid };
  const actions: Action[] = [];
  if (!chosen || !input.record) {
    if (input.previous) {
      actions.push(event(nodeTarget, 'Normal', 'NoticeWithdrawn', `${describe(input.previous)} was withdrawn; spotguard removed its taints and labels`));
    }
    return { actions, record: input.record as NoticeRecord };
  }
  let record = input.record;
  const emitted = new Set(record.progress.emitted);
  const once = (key: string, target: EventTarget, type: 'Normal' | 'Warning', reason: EventReason, note: string): void => {
    if (emitted.has(key)) return;
    emitted.add(key);
    actions.push(event(target, type, reason, note));
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
    const executors = input.pods.filter((p) => p.sparkRole === 'executor');
    once(`notice:${record.id}`, nodeTarget, 'Warning', 'InterruptionNotice', `${describe(record)}, ${deadline}: decommissioning Spark executors on this node`);
    for (const [app, pods] of groupBy(executors, (p) => p.sparkAppId ?? 'unknown')) {
      const target = driverTarget(pods[0] as PodSnapshot, nodeTarget);
      once(`app:${app}`, target, 'Warning', 'ExecutorsDecommissioning', `${pods.length} executor(s) of ${app} on node ${node.name} are being decommissioned: ${describe(record)}, ${deadline}`);
      if (pods.some((p) => !p.decommissionHook)) {
        once(`disabled:${app}`, target, 'Warning', 'DecommissioningDisabled', `${app} did not set spark.decommission.enabled=true: its executors on ${node.name} stop without migrating shuffle blocks`);
      }
    }
    for (const f of input.finished) {
      const target: EventTarget = f.driver ? { kind: 'Pod', namespace: f.pod.split('/')[0] as string, name: f.driver.name, uid: f.driver.uid } : nodeTarget;
      const [reason, type] = outcomeEvent(f);
      once(`outcome:${f.uid}`, target, type, reason, `executor ${f.executor ?? '?'} (${f.pod}) on ${node.name}: ${f.outcome}, ${f.detail}`);
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

function driverTarget(executor: PodSnapshot, fallback: EventTarget): EventTarget {
  return executor.driver ? { kind: 'Pod', namespace: executor.namespace, name: executor.driver.name, uid: executor.driver.uid } : fallback;
}

function describe(r: NoticeRecord): string {
  return `${r.kind} (${r.action}) notice ${r.id}`;
}

function event(regarding: EventTarget, eventType: 'Normal' | 'Warning', reason: EventReason, note: string): Action {
  return { type: 'emit-event', regarding, eventType, reason, note: note.slice(0, 1024), why: reason };
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
