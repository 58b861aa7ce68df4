// What the agent costs and changes when it should do nothing: no Kubernetes
// API request while there is no notice (counted from the apiserver's own audit
// log of the agent's ServiceAccount), and no change at all in dry-run mode.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeAuditEvent, mutatingVerbs } from '../../harness/k8s/audit-log.ts';
import { anAzureNode, createReadyNode } from '../../harness/k8s/nodes.ts';
import { waitFor } from '../../harness/k8s/wait-for.ts';
import { logged, startAgentWorld } from './support/agent-world.ts';
import type { AgentWorld } from './support/agent-world.ts';
import { allAgentEvents, noticeAnnotationKey, podOrNull, seconds, waitForNode } from './support/cluster-view.ts';
import { createSparkScene, podName, podNamespace } from './support/spark-scene.ts';
import { waitForReady } from './support/start-agent.ts';

let world: AgentWorld | undefined;

describe('agent: steady state and dry run', () => {
  before(async () => { world = await startAgentWorld(); });
  after(async () => { await world?.close(); });

  it('makes no Kubernetes API request while there is no notice, and starts to once one comes', logged(() => world, async (t) => {
    const { k } = world!;
    const node = (await createReadyNode(k.core, anAzureNode())).metadata!.name!;
    const simulator = await world!.startSimulator('azure', { inProcess: true });
    const agent = await world!.startAgent({ nodeName: node, simulator });
    await agent.waitForLog('agent started');
    await waitForReady(agent);

    // The audit log sees the agent: its one start-up read of its node (resuming any recorded response).
    const startup = await waitFor('the start-up read in the audit log', async () => {
      const seen = world!.agentRequests();
      return seen.length > 0 ? seen : undefined;
    }, { timeoutMs: 5_000 });
    assert.deepEqual(startup.map(describeAuditEvent), [`get /api/v1/nodes/${node} 200`]);

    const quietFrom = Date.now();
    const polls = (): Promise<number> => simulator.requests().then((rs) =>
      rs.filter((r) => r.at >= quietFrom && r.path.startsWith('/metadata/scheduledevents')).length);
    await waitFor('six metadata polls', async () => ((await polls()) >= 6 ? true : undefined), { timeoutMs: 15_000 });
    const quietFor = Date.now() - quietFrom;
    const during = world!.agentRequests().slice(startup.length);
    assert.deepEqual(during.map(describeAuditEvent), [], 'no API request while there is no notice');
    t.diagnostic(`steady state: ${await polls()} metadata polls over ${seconds(quietFor)}, ${during.length} Kubernetes API requests`);

    // The same audit log shows the agent's traffic as soon as a notice is in force.
    const noticeAt = Date.now();
    await simulator.notice({ kind: 'spot-interruption', in: '60s' });
    await waitForNode(k, node, 'the notice annotation', (n) => n.metadata?.annotations?.[noticeAnnotationKey]);
    const responding = world!.agentRequests().slice(startup.length);
    assert.ok(responding.some((e) => e.verb === 'patch' && e.objectRef?.resource === 'nodes'), 'the response patches the node');
    assert.ok(responding.every((e) => Date.parse(e.requestReceivedTimestamp) >= noticeAt - 1_000), 'every request came after the notice');
    t.diagnostic(`first ${responding.length} requests after the notice: ${responding.slice(0, 4).map(describeAuditEvent).join(', ')}, …`);

    // SIGTERM (a rolling update of the DaemonSet) stops it cleanly.
    assert.deepEqual(await agent.kill('SIGTERM'), { code: 0, signal: null });
    assert.equal(agent.logged('agent stopped').length, 1);
  }));

  it('in dry run logs the planned evictions and changes nothing: node, pods, Events', logged(() => world, async (t) => {
    const { k } = world!;
    const scene = await createSparkScene(k, { provider: 'gce', executors: 2, plainPods: 1 });
    const before = await k.core.readNode({ name: scene.nodeName });
    const simulator = await world!.startSimulator('gcp', { inProcess: true });
    const agent = await world!.startAgent({ nodeName: scene.nodeName, simulator, args: ['--dry-run'] });
    await waitForReady(agent);
    const requestsBefore = world!.agentRequests().length;
    await simulator.notice({ kind: 'spot-interruption' });

    // It plans what it would do, pass after pass (for a few seconds, as the time left shrinks), and says so once.
    await agent.waitForLog('notice detected');
    await waitFor('three seconds of passes', async () => (agent.logged('plan').length >= 15 ? true : undefined), { timeoutMs: 15_000 });
    const wouldAct = agent.logged('dry run: would act').map((l) => String(l.action));
    for (const pod of [...scene.executors, ...scene.plainPods]) {
      const planned = `evict ${podNamespace(pod)}/${podName(pod)} grace `;
      assert.equal(wouldAct.filter((a) => a.startsWith(planned)).length, 1,
        `the log names the planned eviction of ${podName(pod)} once: ${wouldAct.join('; ')}`);
    }
    assert.ok(wouldAct.includes('taint spotguard.io/interruption=spot-interruption:NoSchedule'));
    assert.ok(!wouldAct.some((a) => a.includes(podName(scene.daemonSetPod!))), 'the DaemonSet pod is not planned for eviction');

    // Nothing changed.
    const now = await k.core.readNode({ name: scene.nodeName });
    assert.deepEqual(now.spec?.taints ?? [], before.spec?.taints ?? []);
    assert.deepEqual(now.metadata?.labels, before.metadata?.labels);
    assert.deepEqual(now.metadata?.annotations, before.metadata?.annotations);
    for (const pod of [...scene.executors, ...scene.plainPods, scene.daemonSetPod!]) {
      const current = await podOrNull(k, podNamespace(pod), podName(pod));
      assert.ok(current && !current.metadata?.deletionTimestamp, `${podName(pod)} still runs`);
    }
    const events = (await allAgentEvents(k, ['default', 'kube-system']))
      .filter((e) => [scene.nodeName, podName(scene.driver)].includes(e.regarding?.name ?? ''));
    assert.deepEqual(events.map((e) => e.reason), []);
    const requests = world!.agentRequests().slice(requestsBefore);
    assert.deepEqual(requests.filter((e) => mutatingVerbs.has(e.verb)).map(describeAuditEvent), [], 'no write request at all');
    t.diagnostic(`dry run: ${agent.logged('plan').length} passes, ${wouldAct.length} 'would act' lines, `
      + `${requests.length} read requests (${[...new Set(requests.map((e) => `${e.verb} ${e.objectRef?.resource}`))].join(', ')}), 0 writes`);
  }));
});
