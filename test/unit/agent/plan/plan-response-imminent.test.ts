import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeSnapshot, PodSnapshot } from '../../../../core/domain/kube-snapshots.ts';
import type { Notice } from '../../../../core/domain/notice.ts';
import type { Action } from '../../../../agent/plan/actions.ts';
import { decodeRecord, noticeAnnotation, type NoticeRecord } from '../../../../agent/plan/notice-record.ts';
import { planResponse, type Plan } from '../../../../agent/plan/plan-response.ts';
import { defaultResponsePolicy, type ResponsePolicy } from '../../../../agent/plan/response-policy.ts';
import { aDriverPod, aNode, aNotice, aPod, anExecutorPod, t0, terminating, withNodeActions } from '../../../fixtures/kube-builders.ts';

const policy = defaultResponsePolicy; // margin 5 s, escalate 15 s before the deadline
const spot = aNotice({ provider: 'aws', kind: 'spot-interruption', action: 'terminate', deadline: t0 + 120_000 });

interface Pass {
  readonly notices?: readonly Notice[];
  readonly node: NodeSnapshot;
  readonly pods: readonly PodSnapshot[] | null;
  readonly record?: NoticeRecord | null;
  readonly now: number;
  readonly policy?: ResponsePolicy;
}

function plan(p: Pass): Plan {
  return planResponse({ notices: p.notices ?? [spot], node: p.node, pods: p.pods, record: p.record ?? null, liveJvms: null, now: p.now, policy: p.policy ?? policy });
}

function ofType<T extends Action['type']>(plan: Plan, type: T): Array<Extract<Action, { type: T }>> {
  return plan.actions.filter((a): a is Extract<Action, { type: T }> => a.type === type);
}

function reasons(plan: Plan): string[] {
  return ofType(plan, 'emit-event').map((e) => e.reason);
}

function evictedNames(plan: Plan): string[] {
  return ofType(plan, 'evict-pod').map((a) => a.pod.name);
}

function skipOf(plan: Plan, pod: PodSnapshot): string | undefined {
  return plan.skipped.find((s) => s.target === `${pod.namespace}/${pod.name}`)?.reason;
}

describe('imminent spot interruption (evict mode)', () => {
  const driver = aDriverPod({ app: 'spark-a', node: 'elsewhere' });
  const execA1 = anExecutorPod({ app: 'spark-a', executorId: '1', driver });
  const execA2 = anExecutorPod({ app: 'spark-a', executorId: '2', driver });
  const execB1 = anExecutorPod({ app: 'spark-b', executorId: '1' });

  it('taints and labels the node, records the notice, then evicts every executor at once', () => {
    const result = plan({ node: aNode(), pods: [execA1, execA2, execB1], now: t0 + 2_000 });

    assert.deepEqual(ofType(result, 'add-taint').map((a) => a.taint), [{ key: 'spotguard.io/interruption', value: 'spot-interruption', effect: 'NoSchedule' }]);
    assert.deepEqual(ofType(result, 'set-labels').map((a) => a.labels), [{ 'spotguard.io/risk': 'imminent' }]);
    assert.deepEqual(evictedNames(result).sort(), ['spark-a-exec-1', 'spark-a-exec-2', 'spark-b-exec-1']);
    const types = result.actions.map((a) => a.type);
    assert.ok(types.indexOf('write-record') < types.indexOf('evict-pod'), `record first: ${types.join(', ')}`);

    const [write] = ofType(result, 'write-record');
    const annotation = JSON.parse(write?.value ?? '{}') as Record<string, unknown>;
    assert.equal(annotation.id, spot.id);
    assert.equal(annotation.kind, 'spot-interruption');
    assert.equal(annotation.action, 'terminate');
    assert.equal(annotation.deadline, '2026-11-23T10:02:00.000Z');
    assert.equal(annotation.detectedAt, '2026-11-23T10:00:00.000Z');
    assert.equal((annotation.progress as { executors: unknown[] }).executors.length, 3);
    assert.equal(result.needsPods, true);
  });

  const graces: Array<{ name: string; now: number; marginMs: number; grace: number }> = [
    { name: '2 s after the notice, 5 s margin', now: t0 + 2_000, marginMs: 5_000, grace: 113 },
    { name: 'no margin', now: t0, marginMs: 0, grace: 120 },
    { name: 'fractions round down', now: t0 + 2_500, marginMs: 5_000, grace: 112 },
    { name: 'less than a second left before the margin', now: t0 + 114_500, marginMs: 5_000, grace: 1 },
    { name: 'already inside the margin', now: t0 + 119_000, marginMs: 5_000, grace: 1 },
  ];
  for (const g of graces) {
    it(`grants the time left before the deadline as eviction grace: ${g.name} → ${g.grace}s`, () => {
      const result = plan({ node: aNode(), pods: [execA1], now: g.now, policy: { ...policy, marginMs: g.marginMs } });
      assert.deepEqual(ofType(result, 'evict-pod').map((a) => a.graceSeconds), [g.grace]);
    });
  }

  it('works to now + the fallback window when the provider gives no time', () => {
    const noTime = aNotice({ provider: 'gcp', action: 'preempted', deadline: null, detectedAt: t0 });
    const result = plan({ notices: [noTime], node: aNode(), pods: [execA1], now: t0 });
    assert.deepEqual(ofType(result, 'evict-pod').map((a) => a.graceSeconds), [(policy.fallbackWindowMs - policy.marginMs) / 1000]);
  });

  it('evicts an executor whose app did not enable decommissioning, warns its driver, and reports it failed once gone', () => {
    const noHook = anExecutorPod({ app: 'spark-c', executorId: '4', decommission: false, driver });
    const first = plan({ node: aNode(), pods: [noHook], now: t0 + 1_000 });
    assert.deepEqual(evictedNames(first), ['spark-c-exec-4']);
    const [warning] = ofType(first, 'emit-event').filter((e) => e.reason === 'DecommissioningDisabled');
    assert.equal(warning?.eventType, 'Warning');
    assert.deepEqual(warning?.regarding, { kind: 'Pod', namespace: 'spark', name: driver.name, uid: driver.uid });

    const node = withNodeActions(aNode(), first.actions);
    const gone = plan({ node, pods: [], record: first.record, now: t0 + 20_000 });
    assert.equal(gone.record?.progress.executors[0]?.outcome, 'failed');
    assert.ok(reasons(gone).includes('ExecutorDecommissionFailed'));
  });

  it('needs the pod list while executors are being followed, and not once everything is done', () => {
    const node = aNode();
    const unlisted = plan({ node, pods: null, now: t0 + 1_000 });
    assert.equal(unlisted.needsPods, true);
    assert.equal(ofType(unlisted, 'evict-pod').length, 0);

    const first = plan({ node, pods: [execA1], now: t0 + 2_000 });
    assert.equal(first.needsPods, true);
    const following = plan({ node: withNodeActions(node, first.actions), pods: [terminating(execA1)], record: first.record, now: t0 + 10_000 });
    assert.equal(following.needsPods, true);
    const done = plan({ node: withNodeActions(node, first.actions), pods: [], record: first.record, now: t0 + 30_000 });
    assert.equal(done.needsPods, false);
  });

  it('leaves pods of other nodes alone', () => {
    const result = plan({ node: aNode(), pods: [anExecutorPod({ node: 'other-node' }), aPod({ node: 'other-node' })], now: t0 });
    assert.deepEqual(evictedNames(result), []);
  });
});

describe('draining the other pods', () => {
  const cases: Array<{ name: string; pod: PodSnapshot; karpenter?: boolean; drain?: ResponsePolicy['drain']; evicted: boolean; reason?: string }> = [
    { name: 'a plain pod', pod: aPod({ name: 'web' }), evicted: true },
    { name: 'a StatefulSet pod', pod: aPod({ name: 'db-0', owner: 'StatefulSet' }), evicted: true },
    { name: 'a DaemonSet pod', pod: aPod({ name: 'fluent-bit', owner: 'DaemonSet' }), evicted: false, reason: 'DaemonSet pod' },
    { name: 'a mirror pod', pod: aPod({ name: 'kube-proxy', owner: 'Node', mirror: true }), evicted: false, reason: 'static (mirror) pod' },
    { name: 'a terminating pod', pod: aPod({ name: 'web', terminating: true }), evicted: false, reason: 'already terminating' },
    { name: 'a completed pod', pod: aPod({ name: 'job', owner: 'Job', phase: 'Succeeded' }), evicted: false, reason: 'already succeeded' },
    { name: 'a failed pod', pod: aPod({ name: 'job', owner: 'Job', phase: 'Failed' }), evicted: false, reason: 'already failed' },
    { name: 'a plain pod on a Karpenter node (auto: executors only)', pod: aPod({ name: 'web' }), karpenter: true, evicted: false, reason: 'drain is none (executors only)' },
    { name: 'a plain pod with drain none', pod: aPod({ name: 'web' }), drain: 'none', evicted: false, reason: 'drain is none (executors only)' },
    { name: 'a plain pod on a Karpenter node with drain others', pod: aPod({ name: 'web' }), karpenter: true, drain: 'others', evicted: true },
  ];
  for (const c of cases) {
    it(`${c.evicted ? 'evicts' : 'leaves'} ${c.name}`, () => {
      const result = plan({ node: aNode({ karpenter: c.karpenter ?? false }), pods: [c.pod], now: t0 + 2_000, policy: { ...policy, drain: c.drain ?? 'auto' } });
      assert.deepEqual(evictedNames(result), c.evicted ? [c.pod.name] : []);
      assert.equal(skipOf(result, c.pod), c.reason);
    });
  }

  it("bounds a pod's grace by its own termination grace period and by the time left", () => {
    const short = aPod({ name: 'short', terminationGracePeriodSeconds: 10 });
    const long = aPod({ name: 'long', terminationGracePeriodSeconds: 600 });
    const result = plan({ node: aNode(), pods: [short, long], now: t0 + 2_000 });
    assert.deepEqual(
      ofType(result, 'evict-pod').map((a) => [a.pod.name, a.graceSeconds]),
      [['short', 10], ['long', 113]],
    );
  });

  it('evicts again a pod whose eviction did not take', () => {
    const web = aPod({ name: 'web' });
    const first = plan({ node: aNode(), pods: [web], now: t0 + 2_000 });
    const again = plan({ node: withNodeActions(aNode(), first.actions), pods: [web], record: first.record, now: t0 + 7_000 });
    assert.deepEqual(evictedNames(again), ['web']);
    assert.deepEqual(again.record?.progress.evicted, ['default/web']);
  });
});

describe('a Spark driver on the interrupted node', () => {
  const driver = aDriverPod({ app: 'spark-a' });
  const executor = anExecutorPod({ app: 'spark-a', driver });

  it('warns at once, and waits until the executors on the node are done before evicting the driver', () => {
    const first = plan({ node: aNode(), pods: [driver, executor], now: t0 + 2_000 });
    assert.deepEqual(evictedNames(first), [executor.name]);
    assert.match(skipOf(first, driver) ?? '', /waits until its executors/);
    const [warning] = ofType(first, 'emit-event').filter((e) => e.reason === 'DriverOnInterruptedNode');
    assert.equal(warning?.eventType, 'Warning');
    assert.equal(warning?.regarding.name, driver.name);

    const node = withNodeActions(aNode(), first.actions);
    const executorsDone = plan({ node, pods: [driver], record: first.record, now: t0 + 40_000 });
    assert.deepEqual(evictedNames(executorsDone), [driver.name]);
    assert.ok(!reasons(executorsDone).includes('DriverOnInterruptedNode'), 'the warning is not repeated');
  });

  it('evicts the driver near the deadline even while executors are still running', () => {
    const first = plan({ node: aNode(), pods: [driver, executor], now: t0 + 2_000 });
    const node = withNodeActions(aNode(), first.actions);
    const late = plan({ node, pods: [driver, terminating(executor)], record: first.record, now: t0 + 120_000 - policy.escalateBeforeMs });
    assert.deepEqual(evictedNames(late), [driver.name]);
  });

  it('does not warn about a completed driver pod left on the node', () => {
    const completed = aDriverPod({ app: 'spark-old', phase: 'Succeeded' });
    const result = plan({ node: aNode(), pods: [completed], now: t0 + 2_000 });
    assert.ok(!reasons(result).includes('DriverOnInterruptedNode'));
    assert.equal(skipOf(result, completed), 'already succeeded');
  });
});

describe('events and the summary across passes and restarts', () => {
  const driver = aDriverPod({ app: 'spark-a', node: 'elsewhere' });
  const executors = [anExecutorPod({ app: 'spark-a', executorId: '1', driver }), anExecutorPod({ app: 'spark-a', executorId: '2', driver })];
  const web = aPod({ name: 'web' });

  /** Plans pass after pass the way the agent does: the node as left by the last pass, the record it kept. */
  function run(steps: Array<{ pods: PodSnapshot[]; now: number; restart?: boolean }>): Plan[] {
    let node = aNode();
    let record: NoticeRecord | null = null;
    return steps.map((s) => {
      if (s.restart) record = decodeRecord(node.annotations[noticeAnnotation]);
      const result = plan({ node, pods: s.pods, record, now: s.now });
      node = withNodeActions(node, result.actions);
      record = result.record;
      return result;
    });
  }

  it('emits each Event once and one InterruptionHandled summary, even when the agent restarts', () => {
    const passes = run([
      { pods: [...executors, web], now: t0 + 2_000 },
      { pods: [...executors.map((e) => terminating(e)), terminating(web)], now: t0 + 4_000 },
      { pods: [...executors.map((e) => terminating(e)), terminating(web)], now: t0 + 6_000, restart: true },
      { pods: [], now: t0 + 30_000 },
      { pods: [], now: t0 + 32_000 },
      { pods: [], now: t0 + 34_000, restart: true },
    ]);
    assert.deepEqual(
      passes.map(reasons),
      [
        ['InterruptionNotice', 'ExecutorsDecommissioning'],
        [],
        [],
        ['ExecutorDecommissioned', 'ExecutorDecommissioned', 'InterruptionHandled'],
        [],
        [],
      ],
    );
    const summary = ofType(passes[3] as Plan, 'emit-event').find((e) => e.reason === 'InterruptionHandled');
    assert.equal(summary?.eventType, 'Normal');
    assert.match(summary?.note ?? '', /2 executor\(s\): 2 decommissioned, 0 killed-at-deadline, 0 failed; 1 other pod\(s\) evicted/);
  });

  it('does nothing more once a pass changed nothing, and a restarted agent resumes without acting again', () => {
    const passes = run([
      { pods: [...executors, web], now: t0 + 2_000 },
      { pods: [...executors.map((e) => terminating(e)), terminating(web)], now: t0 + 4_000 },
      { pods: [...executors.map((e) => terminating(e)), terminating(web)], now: t0 + 6_000, restart: true },
    ]);
    assert.deepEqual(passes[1]?.actions, []);
    assert.deepEqual(passes[2]?.actions, []);
  });

  it('summarises a response where executors were killed at the deadline as a warning', () => {
    const passes = run([
      { pods: executors, now: t0 + 2_000 },
      { pods: executors.map((e) => terminating(e)), now: t0 + 120_000 },
    ]);
    const summary = ofType(passes[1] as Plan, 'emit-event').find((e) => e.reason === 'InterruptionHandled');
    assert.equal(summary?.eventType, 'Warning');
    assert.deepEqual(passes[1]?.record?.progress.executors.map((e) => e.outcome), ['killed-at-deadline', 'killed-at-deadline']);
  });
});

describe('Azure scheduled events', () => {
  const preempt = aNotice({ provider: 'azure', kind: 'spot-interruption', action: 'Preempt', id: 'azure:6E9A5C2B', deadline: t0 + 30_000 });
  const executor = anExecutorPod({ app: 'spark-a' });

  it('acknowledges the event once the executors are done, and only once', () => {
    const acks: string[][] = [];
    let node = aNode({ providerId: 'azure:///subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm-1' });
    let record: NoticeRecord | null = null;
    for (const [pods, now] of [[[executor], t0 + 1_000], [[terminating(executor)], t0 + 3_000], [[], t0 + 9_000], [[], t0 + 11_000]] as const) {
      const result = plan({ notices: [preempt], node, pods, record, now });
      acks.push(ofType(result, 'acknowledge-notice').map((a) => a.noticeId));
      const ack = result.actions.findIndex((a) => a.type === 'acknowledge-notice');
      if (ack !== -1) assert.equal(ack, result.actions.length - 1, 'acknowledged after everything else');
      node = withNodeActions(node, result.actions);
      record = result.record;
    }
    assert.deepEqual(acks, [[], [], ['azure:6E9A5C2B'], []]);
  });

  it('never acknowledges an AWS or GCP notice', () => {
    const result = plan({ node: aNode(), pods: [], now: t0 + 1_000 });
    assert.deepEqual(ofType(result, 'acknowledge-notice'), []);
  });
});
