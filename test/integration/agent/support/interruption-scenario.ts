// One whole interruption as a user sees it, for any cloud: the real agent on
// a spot node with a Spark app's executors, a notice from the simulator, and
// everything the agent must show in the cluster afterwards.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import type { Provider } from '../../../../core/domain/notice.ts';
import { waitFor } from '../../../harness/k8s/wait-for.ts';
import type { AgentWorld } from './agent-world.ts';
import {
  agentEventsAbout, eventMs, interruptionTaint, noticeOf, podOrNull, reasons, riskLabel, seconds, taintOf, waitForEvent, waitForNode,
} from './cluster-view.ts';
import type { NoticeAnnotation } from './cluster-view.ts';
import type { ScheduledNotice, SimulatorControl } from './simulator-control.ts';
import { createSparkScene, podName, podNamespace } from './spark-scene.ts';
import type { SparkScene } from './spark-scene.ts';
import { waitForReady } from './start-agent.ts';
import type { RunningAgent } from './start-agent.ts';

export interface InterruptionCase {
  provider: Provider;
  /** The control request that schedules the notice. */
  notice: Record<string, unknown>;
  /** The provider's word the annotation must carry (terminate, preempted, Preempt). */
  action: string;
  /** Seconds between the notice and the deadline, as the cloud gives them. */
  leadSeconds: number;
  /**
   * provider: the notice carries the time (AWS instance-action, Azure NotBefore; whole seconds);
   * detection: it carries none and the deadline is the cloud's lead after detection (GCP preempted).
   */
  deadlineFrom: 'provider' | 'detection';
}

export interface InterruptionResult {
  scene: SparkScene;
  simulator: SimulatorControl;
  agent: RunningAgent;
  scheduled: ScheduledNotice;
  /** The annotation once the summary Event was emitted. */
  record: NoticeAnnotation;
  deadlineMs: number;
  /** The grace each executor's eviction granted (s). */
  graceSeconds: number[];
}

const marginSeconds = 5;

/** Runs the interruption and asserts everything a user expects of it. */
export async function interruptionEndToEnd(t: TestContext, world: AgentWorld, c: InterruptionCase): Promise<InterruptionResult> {
  const { k } = world;
  const scene = await createSparkScene(k, {
    provider: c.provider === 'gcp' ? 'gce' : c.provider,
    // EKS managed node groups: the default drain evicts every pod (on Karpenter nodes it would leave them to Karpenter).
    ...(c.provider === 'aws' ? { node: { awsCapacityLabel: 'eks' as const } } : {}),
    executors: 3,
    plainPods: 2,
  });
  const simulator = await world.startSimulator(c.provider);
  const agent = await world.startAgent({ nodeName: scene.nodeName, simulator, args: ['--deadline-margin', `${marginSeconds}s`] });
  await waitForReady(agent);

  const t0 = Date.now();
  const scheduled = await simulator.notice(c.notice);

  // Marks: the taint first (it keeps new pods off), the label, the annotation.
  const taintSeenAt = await waitForNode(k, scene.nodeName, 'spotguard taint', (n) => (taintOf(n, interruptionTaint) ? Date.now() : undefined));
  t.diagnostic(`${c.provider}: notice → NoSchedule taint in ${seconds(taintSeenAt - t0)}`);
  const marked = await waitForNode(k, scene.nodeName, 'label and annotation', (n) =>
    n.metadata?.labels?.[riskLabel] && noticeOf(n) ? n : undefined);
  assert.deepEqual({ ...taintOf(marked, interruptionTaint) }, { key: interruptionTaint, value: 'spot-interruption', effect: 'NoSchedule' });
  assert.equal(marked.metadata!.labels![riskLabel], 'imminent');
  const first = noticeOf(marked)!;
  assert.equal(first.kind, 'spot-interruption');
  assert.equal(first.action, c.action);
  assert.ok(first.id.length > 0, 'the notice has an id');
  assert.ok(first.deadline && first.detectedAt, 'the annotation carries the deadline and the detection time');
  const deadlineMs = Date.parse(first.deadline);
  const detectedMs = Date.parse(first.detectedAt);
  assert.ok(detectedMs >= t0 - 1_000 && detectedMs <= taintSeenAt, `detected at ${first.detectedAt}: after the notice came, before the taint`);
  if (c.deadlineFrom === 'provider') {
    assert.ok(deadlineMs <= Date.parse(scheduled.at) && deadlineMs > Date.parse(scheduled.at) - 1_000,
      `deadline ${first.deadline} is the cloud's time ${scheduled.at} (whole seconds)`);
  } else {
    assert.equal(deadlineMs - detectedMs, c.leadSeconds * 1000, `deadline ${first.deadline}: ${c.leadSeconds}s after detection ${first.detectedAt}`);
  }
  assert.ok(first.progress && Array.isArray(first.progress.executors), 'the annotation carries the progress');

  // Events: the node's notice (namespace default) and the app's, on its driver.
  const noticeEvent = await waitForEvent(k, scene.nodeName, 'InterruptionNotice');
  assert.equal(noticeEvent.type, 'Warning');
  assert.equal(noticeEvent.regarding?.kind, 'Node');
  assert.match(noticeEvent.note ?? '', new RegExp(first.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const appEvent = await waitForEvent(k, podName(scene.driver), 'ExecutorsDecommissioning');
  assert.equal(appEvent.regarding?.kind, 'Pod');
  assert.match(appEvent.note ?? '', /^3 executor\(s\) of spark-/);

  // Executors: evicted at once, each with the time left before the deadline, less the margin, as grace.
  const terminating = await Promise.all(scene.executors.map((e) => waitFor(`executor ${podName(e)} terminating`, async () => {
    const pod = await podOrNull(k, podNamespace(e), podName(e));
    return pod?.metadata?.deletionTimestamp ? pod : undefined;
  }, { timeoutMs: 10_000, intervalMs: 50 })));
  const endsBefore = terminating.map((pod) => checkGrace(pod, deadlineMs, agent));
  t.diagnostic(`${c.provider}: executors evicted with grace ${terminating.map((p) => `${p.metadata!.deletionGracePeriodSeconds}s`).join(', ')}, `
    + `ending ${endsBefore.map(seconds).join(', ')} before the deadline (lead ${c.leadSeconds}s, margin ${marginSeconds}s; `
    + 'the pods\' own terminationGracePeriodSeconds: 30)');

  // The other pods go (plain pods evicted), the DaemonSet pod stays.
  for (const pod of scene.plainPods) {
    await waitFor(`plain pod ${podName(pod)} evicted`, async () => ((await podOrNull(k, podNamespace(pod), podName(pod))) === null ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 100 });
  }

  // Outcomes: every executor decommissioned before the deadline, one summary.
  const summary = await waitForEvent(k, scene.nodeName, 'InterruptionHandled', { timeoutMs: (c.leadSeconds + 15) * 1000 });
  const finishedAt = Date.now();
  assert.equal(summary.type, 'Normal', `summary: ${summary.note}`);
  assert.match(summary.note ?? '', /3 executor\(s\): 3 decommissioned, 0 killed-at-deadline, 0 failed; 2 other pod\(s\) evicted/);
  assert.ok(eventMs(summary) < deadlineMs, `summary at ${new Date(eventMs(summary)).toISOString()}, deadline ${first.deadline}`);
  const record = noticeOf(await k.core.readNode({ name: scene.nodeName }))!;
  assert.equal(record.progress.done, true);
  assert.deepEqual(record.progress.executors.map((e) => [e.pod, e.step, e.outcome]).sort(),
    scene.executors.map((e) => [`${podNamespace(e)}/${podName(e)}`, 'evicted', 'decommissioned']).sort());
  for (const e of record.progress.executors) {
    assert.ok(Date.parse(e.outcomeAt!) <= deadlineMs, `executor ${e.pod} decommissioned at ${e.outcomeAt}, before the deadline`);
  }
  assert.deepEqual([...record.progress.evicted].sort(), scene.plainPods.map((p) => `${podNamespace(p)}/${podName(p)}`).sort());
  for (const e of scene.executors) assert.equal(await podOrNull(k, podNamespace(e), podName(e)), null, `executor ${podName(e)} is gone`);

  const ds = scene.daemonSetPod!;
  const dsNow = await podOrNull(k, podNamespace(ds), podName(ds));
  assert.ok(dsNow && !dsNow.metadata?.deletionTimestamp, 'the DaemonSet pod is left running');

  const driverEvents = await agentEventsAbout(k, podName(scene.driver));
  assert.deepEqual(reasons(driverEvents).sort(),
    ['ExecutorDecommissioned', 'ExecutorDecommissioned', 'ExecutorDecommissioned', 'ExecutorsDecommissioning']);
  const nodeEvents = await agentEventsAbout(k, scene.nodeName);
  assert.deepEqual(reasons(nodeEvents), ['InterruptionNotice', 'InterruptionHandled']);

  const metrics = await agent.metrics();
  assert.equal(metrics.value('spotguard_executor_outcomes_total', { outcome: 'decommissioned', mode: 'evict' }), 3);
  assert.equal(metrics.value('spotguard_pod_removals_total', { role: 'executor', result: 'evicted' }), 3);
  assert.equal(metrics.value('spotguard_pod_removals_total', { role: 'other', result: 'evicted' }), 2);
  assert.equal(metrics.value('spotguard_notices_handled_total', { kind: 'spot-interruption', urgency: 'imminent' }), 1);
  t.diagnostic(`${c.provider}: notice → summary Event in ${seconds(finishedAt - t0)}, ${seconds(deadlineMs - eventMs(summary))} before the deadline`);
  const graceSeconds = terminating.map((p) => p.metadata!.deletionGracePeriodSeconds!);
  return { scene, simulator, agent, scheduled, record, deadlineMs, graceSeconds };
}

/**
 * The eviction granted the time left before the deadline less the margin (whole seconds), as the
 * agent said it did. Returns how long before the deadline the grace ends (ms).
 */
function checkGrace(pod: V1Pod, deadlineMs: number, agent: RunningAgent): number {
  const name = `${podNamespace(pod)}/${podName(pod)}`;
  const grace = pod.metadata!.deletionGracePeriodSeconds!;
  const endsAt = new Date(pod.metadata!.deletionTimestamp!).getTime();
  const wanted = deadlineMs - marginSeconds * 1000;
  // deletionTimestamp = eviction time + grace, in whole seconds; the grace is floored to whole seconds.
  assert.ok(endsAt <= wanted + 1_000 && endsAt >= wanted - 2_500,
    `${name}: grace ${grace}s ends ${new Date(endsAt).toISOString()}, expected about deadline − margin = ${new Date(wanted).toISOString()}`);
  const evicted = agent.logged('pod evicted').find((l) => l.pod === name);
  assert.ok(evicted, `the agent logged the eviction of ${name}`);
  assert.equal(evicted.graceSeconds, grace, `${name}: the grace the agent asked for is the grace the pod got`);
  return deadlineMs - endsAt;
}
