// The agent keeps going when the cluster pushes back: a PodDisruptionBudget
// that refuses the executors' evictions (429) until it allows them, and a
// kube-apiserver that stops in the middle of the drain and comes back.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, RbacAuthorizationV1Api, setHeaderOptions } from '@kubernetes/client-node';
import { waitFor } from '../../harness/k8s/wait-for.ts';
import { logged, startAgentWorld } from './support/agent-world.ts';
import type { AgentWorld } from './support/agent-world.ts';
import { agentEventsAbout, eventMs, noticeOf, podOrNull, reasons, seconds, waitForEvent, waitForNode } from './support/cluster-view.ts';
import { agentServiceAccount } from './support/agent-identity.ts';
import { createSparkScene, podName, podNamespace } from './support/spark-scene.ts';
import { waitForReady } from './support/start-agent.ts';

let world: AgentWorld | undefined;

describe('agent: disruptions', () => {
  before(async () => { world = await startAgentWorld(); });
  after(async () => { await world?.close(); });

  it('retries executor evictions a PodDisruptionBudget refuses, and evicts them once it allows', logged(() => world, async (t) => {
    const { k } = world!;
    const scene = await createSparkScene(k, { provider: 'azure', executors: 2, executorDeletion: 'immediate', plainPods: 0, daemonSetPod: false });
    const selector = { 'spark-app-selector': scene.app.appId, 'spark-role': 'executor' };
    await k.policy.createNamespacedPodDisruptionBudget({
      namespace: 'default',
      body: { metadata: { name: 'executors' }, spec: { minAvailable: 2, selector: { matchLabels: selector } } },
    });
    const budget = (allowed: number) => waitFor(`the budget to allow ${allowed} disruption(s)`, async () => {
      const pdb = await k.policy.readNamespacedPodDisruptionBudget({ name: 'executors', namespace: 'default' });
      return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.disruptionsAllowed === allowed ? pdb : undefined;
    }, { timeoutMs: 30_000 });
    await budget(0);

    const simulator = await world!.startSimulator('azure', { inProcess: true });
    const agent = await world!.startAgent({ nodeName: scene.nodeName, simulator });
    await waitForReady(agent);
    const t0 = Date.now();
    await simulator.notice({ kind: 'spot-interruption', in: '60s' });

    // Refused, and tried again pass after pass; the executors keep running meanwhile.
    await waitFor('two refusals per executor', async () =>
      ((await agent.metrics()).value('spotguard_pod_removals_total', { role: 'executor', result: 'blocked' }) >= 4 ? true : undefined),
    { timeoutMs: 15_000 });
    for (const e of scene.executors) {
      const pod = await podOrNull(k, podNamespace(e), podName(e));
      assert.ok(pod && !pod.metadata?.deletionTimestamp, `${podName(e)} still runs while the budget forbids its eviction`);
    }

    const allowedAt = Date.now();
    await k.policy.patchNamespacedPodDisruptionBudget({ name: 'executors', namespace: 'default', body: { spec: { minAvailable: 0 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const summary = await waitForEvent(k, scene.nodeName, 'InterruptionHandled', { timeoutMs: 20_000 });
    assert.match(summary.note ?? '', /2 executor\(s\): 2 decommissioned, 0 killed-at-deadline, 0 failed/);
    for (const e of scene.executors) assert.equal(await podOrNull(k, podNamespace(e), podName(e)), null, `${podName(e)} was evicted`);

    const evictions = agent.logged('pod evicted').filter((l) => l.role === 'executor');
    assert.equal(evictions.length, 2);
    for (const l of evictions) {
      assert.ok(Date.parse(l.time) >= allowedAt, `${String(l.pod)} evicted at ${l.time}, after the budget allowed it`);
      assert.ok(Number(l.graceSeconds) > 30, `evicted with the time left as grace (${String(l.graceSeconds)}s), not the default`);
    }
    const metrics = await agent.metrics();
    const blocked = metrics.value('spotguard_pod_removals_total', { role: 'executor', method: 'evict', result: 'blocked' });
    assert.ok(blocked >= 4, `spotguard_pod_removals_total{result="blocked"} is ${blocked}`);
    assert.equal(metrics.value('spotguard_pod_removals_total', { role: 'executor', method: 'evict', result: 'evicted' }), 2);
    assert.equal(metrics.value('spotguard_pod_removals_total', { method: 'delete' }), 0, 'no escalation to delete: the budget allowed in time');
    const lastEviction = Math.max(...evictions.map((l) => Date.parse(l.time)));
    t.diagnostic(`PDB: ${blocked} refused evictions over ${seconds(allowedAt - t0)}; evicted ${seconds(lastEviction - allowedAt)} after the budget allowed it`);
  }));

  it('finishes the drain before the deadline when kube-apiserver stops and restarts in the middle of it', logged(() => world, async (t) => {
    const { k, cp } = world!;
    const scene = await createSparkScene(k, { provider: 'gce', executors: 3, plainPods: 1 });
    const simulator = await world!.startSimulator('gcp', { inProcess: true });
    const agent = await world!.startAgent({ nodeName: scene.nodeName, simulator });
    await waitForReady(agent);
    await simulator.notice({ kind: 'spot-interruption' });

    // Mid-drain: every executor evicted (graceful: they go at the end of their grace), outcomes pending.
    await waitFor('the executors evicted', async () => (agent.logged('pod evicted').filter((l) => l.role === 'executor').length === 3 ? true : undefined),
      { timeoutMs: 10_000 });
    const deadlineMs = Date.parse(noticeOf(await k.core.readNode({ name: scene.nodeName }))!.deadline!);
    const stoppedAt = Date.now();
    await cp.stopApiserver();
    t.diagnostic(`kube-apiserver stopped (SIGTERM) in ${seconds(Date.now() - stoppedAt)}`);
    const failedBefore = agent.logged('response pass failed; will retry').length;
    await waitFor('ten failed passes', async () => (agent.logged('response pass failed; will retry').length >= failedBefore + 10 ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 50 });
    await cp.startApiserver();
    const restartedAt = Date.now();
    t.diagnostic(`kube-apiserver down for ${seconds(restartedAt - stoppedAt)} (${agent.logged('response pass failed; will retry').length} failed passes), `
      + `back ${seconds(deadlineMs - restartedAt)} before the deadline`);

    const summary = await waitForEvent(k, scene.nodeName, 'InterruptionHandled', { timeoutMs: Math.max(5_000, deadlineMs - Date.now() + 5_000) });
    assert.ok(eventMs(summary) < deadlineMs, `summary at ${new Date(eventMs(summary)).toISOString()}, deadline ${new Date(deadlineMs).toISOString()}`);
    assert.match(summary.note ?? '', /3 executor\(s\): 3 decommissioned, 0 killed-at-deadline, 0 failed; 1 other pod\(s\) evicted/);
    const record = noticeOf(await k.core.readNode({ name: scene.nodeName }))!;
    assert.deepEqual(record.progress.executors.map((e) => e.outcome), ['decommissioned', 'decommissioned', 'decommissioned']);
    assert.ok(agent.isRunning(), 'the agent rode out the outage');
    const metrics = await agent.metrics();
    assert.ok(metrics.value('spotguard_action_errors_total', { action: 'pass' }) >= 10, 'the failed passes are counted');
    assert.equal(metrics.value('spotguard_executor_outcomes_total', { outcome: 'decommissioned' }), 3);
    t.diagnostic(`outcomes recorded ${seconds(deadlineMs - eventMs(summary))} before the deadline`);
  }));

  it('emits every Event once the API accepts them, after creating them failed', logged(() => world, async (t) => {
    const { k } = world!;
    // The agent may not create Events for a while (its ClusterRole lacks the rule), as after a broken RBAC rollout.
    const rbac = k.kc.makeApiClient(RbacAuthorizationV1Api);
    const role = await rbac.readClusterRole({ name: agentServiceAccount });
    const rules = role.rules ?? [];
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    await rbac.patchClusterRole({ name: agentServiceAccount, body: { rules: rules.filter((r) => !r.apiGroups?.includes('events.k8s.io')) } }, merge);
    try {
      const scene = await createSparkScene(k, { provider: 'gce', executors: 2, executorDeletion: 'immediate', plainPods: 0, daemonSetPod: false });
      const simulator = await world!.startSimulator('gcp', { inProcess: true });
      const agent = await world!.startAgent({ nodeName: scene.nodeName, simulator });
      await waitForReady(agent);
      await simulator.notice({ kind: 'spot-interruption' });

      // The response itself goes on: executors evicted and gone, outcomes recorded; the Events are refused, up to the summary.
      await waitForNode(k, scene.nodeName, 'the response done', (n) => (noticeOf(n)?.progress.done ? true : undefined));
      const refusedEvents = (): string[] => agent.logged('action failed; will retry').map((l) => String(l.action)).filter((a) => a.startsWith('event '));
      await waitFor('the summary Event refused', async () => (refusedEvents().some((a) => a.startsWith('event InterruptionHandled')) ? true : undefined),
        { timeoutMs: 10_000, intervalMs: 50 });
      const refused = refusedEvents();
      for (const reason of ['InterruptionNotice', 'ExecutorsDecommissioning', 'ExecutorDecommissioned', 'InterruptionHandled']) {
        assert.ok(refused.some((a) => a.startsWith(`event ${reason} `)), `${reason} was refused: ${refused.join('; ')}`);
      }
      assert.deepEqual(await agentEventsAbout(k, scene.nodeName), []);

      const allowedAt = Date.now();
      await rbac.patchClusterRole({ name: agentServiceAccount, body: { rules } }, merge);
      await waitForEvent(k, scene.nodeName, 'InterruptionHandled');
      await waitFor('the driver\'s Events', async () =>
        ((await agentEventsAbout(k, podName(scene.driver))).length >= 3 ? true : undefined), { timeoutMs: 10_000 });
      t.diagnostic(`${refused.length} refused Event creations; all Events out ${seconds(Date.now() - allowedAt)} after the rule was back`);
      assert.deepEqual(reasons(await agentEventsAbout(k, scene.nodeName)).sort(), ['InterruptionHandled', 'InterruptionNotice']);
      assert.deepEqual(reasons(await agentEventsAbout(k, podName(scene.driver))).sort(),
        ['ExecutorDecommissioned', 'ExecutorDecommissioned', 'ExecutorsDecommissioning']);
    } finally {
      await rbac.patchClusterRole({ name: agentServiceAccount, body: { rules } }, merge);
    }
  }));
});
