// Signal mode across an agent crash: the agent SIGPWRs each executor JVM
// (fake JVMs on this host, matched to their pods by app id and executor id),
// is SIGKILLed while they decommission, and the restarted agent resumes from
// the node annotation: no JVM is signalled twice, every outcome is recorded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../harness/k8s/wait-for.ts';
import { logged, startAgentWorld } from './support/agent-world.ts';
import type { AgentWorld } from './support/agent-world.ts';
import { agentEventsAbout, eventMs, noticeOf, podOrNull, reasons, seconds, waitForEvent, waitForNode } from './support/cluster-view.ts';
import { startFakeJvm, visibleInProc } from './support/fake-jvms.ts';
import type { FakeJvm } from './support/fake-jvms.ts';
import { createSparkScene, podName, podNamespace } from './support/spark-scene.ts';
import { waitForReady } from './support/start-agent.ts';

let world: AgentWorld | undefined;
const jvms: FakeJvm[] = [];

/** SIGPWRs a JVM received (its log also notes when it finished decommissioning). */
const sigpwrs = (jvm: FakeJvm): number => jvm.signals().filter((s) => s.signal === 'SIGPWR' && s.outcome !== 'decommissioned').length;

describe('agent: restart in the middle of a drain (signal mode)', () => {
  before(async () => { world = await startAgentWorld(); });
  after(async () => {
    for (const jvm of jvms) jvm.kill();
    await world?.close();
  });

  it('signals each executor JVM exactly once across a SIGKILL and restart, and records every outcome', logged(() => world, async (t) => {
    const { k } = world!;
    // The kubelet stand-in here is the agent itself: executor pods go when the agent deletes them after their JVM exited.
    const scene = await createSparkScene(k, { provider: 'gce', executors: 3, executorDeletion: 'external', plainPods: 1 });
    // One JVM finishes while the agent is down, two after it is back.
    const decommissionMs = [1_000, 6_000, 7_000];
    for (const [i, pod] of scene.executors.entries()) {
      jvms.push(startFakeJvm({
        appId: scene.app.appId, executorId: pod.metadata!.labels!['spark-exec-id']!, dir: world!.dir, decommissionMs: decommissionMs[i]!,
      }));
    }
    await waitFor('the fake JVMs in /proc', async () => (jvms.every(visibleInProc) ? true : undefined), { timeoutMs: 10_000 });

    const simulator = await world!.startSimulator('gcp', { inProcess: true });
    const args = ['--mode', 'signal', '--proc-root', '/proc'];
    const first = await world!.startAgent({ nodeName: scene.nodeName, simulator, args, logName: 'signal' });
    await waitForReady(first);
    const t0 = Date.now();
    await simulator.notice({ kind: 'spot-interruption' });

    // Mid-drain: every JVM signalled and recorded, the first Events out, the JVMs still migrating.
    await waitFor('three JVMs signalled', async () => (first.logged('executor JVM signalled (SIGPWR)').length === 3 ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 20 });
    await waitForEvent(k, podName(scene.driver), 'ExecutorsDecommissioning');
    const recorded = await waitForNode(k, scene.nodeName, 'three executors recorded as signalled', (n) => {
      const r = noticeOf(n);
      return r?.progress.executors.filter((e) => e.step === 'signalled').length === 3 ? r : undefined;
    });
    const killedAt = Date.now();
    const crash = await first.kill('SIGKILL');
    assert.equal(crash.signal, 'SIGKILL');
    const stillMigrating = jvms.filter((j) => j.isRunning()).length;
    t.diagnostic(`agent SIGKILLed ${seconds(killedAt - t0)} after the notice, ${stillMigrating} JVM(s) still decommissioning`);
    assert.ok(stillMigrating >= 2, 'the crash came while executors were decommissioning');

    const second = await world!.startAgent({ nodeName: scene.nodeName, simulator, args, logName: 'signal' });
    const resumed = await second.waitForLog('resuming recorded response');
    assert.equal(resumed.noticeId, recorded.id);
    assert.equal(resumed.executors, 3);

    const summary = await waitForEvent(k, scene.nodeName, 'InterruptionHandled', { timeoutMs: 25_000 });
    assert.match(summary.note ?? '', /3 executor\(s\): 3 decommissioned, 0 killed-at-deadline, 0 failed; 1 other pod\(s\) evicted/);
    const record = noticeOf(await k.core.readNode({ name: scene.nodeName }))!;
    // GCP gives no time: the deadline is 30 s after the first detection, not after the restarted agent's.
    assert.equal(record.deadline, recorded.deadline, 'the restart did not move the deadline');
    assert.ok(eventMs(summary) < Date.parse(recorded.deadline!), 'done before the deadline');
    for (const e of record.progress.executors) {
      assert.deepEqual([e.step, e.outcome, e.detail], ['signalled', 'decommissioned', 'executor JVM exited after SIGPWR'], e.pod);
    }

    // Each JVM got SIGPWR once, migrated and exited cleanly; none was signalled by the restarted agent.
    for (const jvm of jvms) {
      const exit = await jvm.exited;
      assert.equal(sigpwrs(jvm), 1, `executor ${jvm.executorId}: ${JSON.stringify(jvm.signals())}`);
      assert.deepEqual(exit, { code: 0, signal: null }, `executor ${jvm.executorId} exited after decommissioning`);
    }
    assert.equal(second.logged('executor JVM signalled (SIGPWR)').length, 0);
    const metrics = await second.metrics();
    assert.equal(metrics.value('spotguard_executor_signals_total'), 0, 'the restarted agent sent no signal');
    assert.equal(metrics.value('spotguard_executor_outcomes_total', { outcome: 'decommissioned', mode: 'signal' }), 3);

    // Their pods were removed once the JVMs were gone; each Event was emitted once across both agents.
    for (const e of scene.executors) assert.equal(await podOrNull(k, podNamespace(e), podName(e)), null, `${podName(e)} removed`);
    assert.deepEqual(reasons(await agentEventsAbout(k, scene.nodeName)), ['InterruptionNotice', 'InterruptionHandled']);
    assert.deepEqual(reasons(await agentEventsAbout(k, podName(scene.driver))).sort(),
      ['ExecutorDecommissioned', 'ExecutorDecommissioned', 'ExecutorDecommissioned', 'ExecutorsDecommissioning']);
    const signalled = jvms.map((j) => j.signals()[0]!.at - t0);
    t.diagnostic(`SIGPWR ${signalled.map(seconds).join(', ')} after the notice; summary ${seconds(eventMs(summary) - t0)} after it`);
  }));
});
