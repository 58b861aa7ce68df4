import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeSnapshot, PodSnapshot } from '../../../../core/domain/kube-snapshots.ts';
import type { Notice } from '../../../../core/domain/notice.ts';
import { decodeRecord, noticeAnnotation, type NoticeRecord } from '../../../../agent/plan/notice-record.ts';
import { planResponse, type Plan } from '../../../../agent/plan/plan-response.ts';
import { defaultResponsePolicy } from '../../../../agent/plan/response-policy.ts';
import { aDriverPod, aNode, aNotice, anExecutorPod, t0, terminating, withNodeActions } from '../../../fixtures/kube-builders.ts';

const policy = { ...defaultResponsePolicy, mode: 'signal' as const };
const deadline = t0 + 30_000;
const preempted = aNotice({ provider: 'gcp', kind: 'spot-interruption', action: 'preempted', deadline });
const driver = aDriverPod({ app: 'spark-a', node: 'on-demand-1' });
const decom = anExecutorPod({ app: 'spark-a', executorId: '1', driver });
const noJvm = anExecutorPod({ app: 'spark-a', executorId: '2', driver });
const noHook = anExecutorPod({ app: 'spark-b', executorId: '1', decommission: false });

interface Pass {
  readonly pods: readonly PodSnapshot[];
  /** Pods whose executor JVM runs on the host; null: no scan was made. */
  readonly jvms: readonly PodSnapshot[] | null;
  readonly now: number;
  readonly notices?: readonly Notice[];
  /** The agent restarts before this pass and reads its record back from the node annotation. */
  readonly restart?: boolean;
}

/** Plans pass after pass as the agent does, carrying the node (as the actions left it) and the record. */
function run(passes: readonly Pass[]): Plan[] {
  let node: NodeSnapshot = aNode();
  let record: NoticeRecord | null = null;
  return passes.map((p) => {
    if (p.restart) record = decodeRecord(node.annotations[noticeAnnotation]);
    const liveJvms = p.jvms === null ? null : new Set(p.jvms.map((j) => j.uid));
    const result = planResponse({ notices: p.notices ?? [preempted], node, pods: p.pods, record, liveJvms, now: p.now, policy });
    node = withNodeActions(node, result.actions);
    record = result.record;
    return result;
  });
}

function signalled(plan: Plan): string[] {
  return plan.actions.flatMap((a) => (a.type === 'signal-executor' ? [a.pod.name] : []));
}

function removals(plan: Plan): string[] {
  return plan.actions.flatMap((a) => (a.type === 'evict-pod' || a.type === 'delete-pod' ? [`${a.type} ${a.pod.name} ${a.graceSeconds}s`] : []));
}

function outcomeOf(plan: Plan | undefined, pod: PodSnapshot): string | null | undefined {
  return plan?.record?.progress.executors.find((e) => e.uid === pod.uid)?.outcome;
}

describe('signal mode: SIGPWR to executor JVMs', () => {
  it('signals only executors whose JVM runs here and whose app enabled decommissioning, after recording it; evicts the rest', () => {
    const [first] = run([{ pods: [decom, noJvm, noHook], jvms: [decom, noHook], now: t0 + 1_000 }]);
    assert.ok(first);
    assert.deepEqual(signalled(first), [decom.name]);
    assert.deepEqual(
      removals(first).sort(),
      [`evict-pod ${noHook.name} 24s`, `evict-pod ${noJvm.name} 24s`].sort(),
      'an app without a SIGPWR handler is evicted, never signalled; a pod whose JVM is not in sight is evicted so its preStop hook decommissions',
    );
    assert.equal(outcomeOf(first, noJvm), null, 'followed like any evicted executor');
    assert.ok(first.actions.some((a) => a.type === 'emit-event' && a.reason === 'DecommissioningDisabled' && a.note.includes('spark-b')));
    const types = first.actions.map((a) => a.type);
    assert.ok(types.indexOf('write-record') < types.indexOf('signal-executor'), `record first: ${types.join(', ')}`);
  });

  it('never signals a JVM twice: not on later passes, not after a restart', () => {
    const passes = run([
      { pods: [decom], jvms: [decom], now: t0 + 1_000 },
      { pods: [decom], jvms: [decom], now: t0 + 3_000 },
      { pods: [decom], jvms: [decom], now: t0 + 5_000, restart: true },
      { pods: [decom], jvms: [decom], now: t0 + 7_000, restart: true },
    ]);
    assert.deepEqual(passes.map(signalled), [[decom.name], [], [], []]);
    assert.deepEqual(passes.slice(1).map((p) => p.actions), [[], [], []], 'nothing at all to do while the JVM migrates');
  });

  it('never signals twice when another imminent notice takes over', () => {
    const maintenance = aNotice({ provider: 'gcp', kind: 'scheduled-maintenance', action: 'MIGRATE_ON_HOST_MAINTENANCE', id: 'gcp:m:1', startsAt: null, deadline: t0 + 60_000 });
    const terminate = { ...maintenance, id: 'gcp:m:2', action: 'TERMINATE_ON_HOST_MAINTENANCE' };
    const passes = run([
      { notices: [maintenance], pods: [decom], jvms: [decom], now: t0 + 1_000 },
      { notices: [terminate], pods: [decom], jvms: [decom], now: t0 + 3_000 },
    ]);
    assert.deepEqual(passes.map(signalled), [[decom.name], []]);
    assert.equal(passes[1]?.record?.id, 'gcp:m:2');
    assert.equal(passes[1]?.record?.progress.executors[0]?.step, 'signalled');
  });

  const follow: Array<{ name: string; pods: PodSnapshot[]; jvms: PodSnapshot[] | null; now: number; outcome: string | null; removals: string[] }> = [
    { name: 'JVM exited, pod still there: decommissioned, pod deleted', pods: [decom], jvms: [], now: t0 + 10_000, outcome: 'decommissioned', removals: [`delete-pod ${decom.name} 0s`] },
    { name: 'JVM exited, pod already terminating: decommissioned', pods: [terminating(decom)], jvms: [], now: t0 + 10_000, outcome: 'decommissioned', removals: [] },
    { name: 'JVM exited, pod gone: decommissioned', pods: [], jvms: [], now: t0 + 10_000, outcome: 'decommissioned', removals: [] },
    { name: 'JVM still migrating: followed', pods: [decom], jvms: [decom], now: t0 + 10_000, outcome: null, removals: [] },
    { name: 'JVM still running at the deadline: killed-at-deadline', pods: [decom], jvms: [decom], now: deadline, outcome: 'killed-at-deadline', removals: [] },
    { name: 'no JVM scan this pass: nothing concluded, pod left alone', pods: [decom], jvms: null, now: t0 + 10_000, outcome: null, removals: [] },
  ];
  for (const f of follow) {
    it(f.name, () => {
      const [, next] = run([
        { pods: [decom], jvms: [decom], now: t0 + 1_000 },
        { pods: f.pods, jvms: f.jvms, now: f.now },
      ]);
      assert.equal(outcomeOf(next, decom), f.outcome);
      assert.deepEqual(next ? removals(next) : null, f.removals);
      assert.deepEqual(next ? signalled(next) : null, []);
    });
  }
});
