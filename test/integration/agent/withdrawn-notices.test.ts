// A notice that goes away takes spotguard's marks with it: an AWS rebalance
// recommendation (elevated risk, PreferNoSchedule, no cordon) and a spot
// interruption, each cancelled in the simulator, leave the node as it was,
// with a NoticeWithdrawn Event, and the agent goes quiet again.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { describeAuditEvent } from '../../harness/k8s/audit-log.ts';
import { anAwsNode, anAzureNode, createReadyNode } from '../../harness/k8s/nodes.ts';
import { waitFor } from '../../harness/k8s/wait-for.ts';
import { logged, startAgentWorld } from './support/agent-world.ts';
import type { AgentWorld } from './support/agent-world.ts';
import {
  agentEventsAbout, atRiskTaint, interruptionTaint, noticeAnnotationKey, noticeOf, reasons, riskLabel, seconds, taintOf, waitForEvent, waitForNode,
} from './support/cluster-view.ts';
import type { SimulatorControl } from './support/simulator-control.ts';
import { waitForReady } from './support/start-agent.ts';

let world: AgentWorld | undefined;

/** Waits for `count` metadata polls (instance-action reads) after `from`. */
async function polls(simulator: SimulatorControl, from: number, count: number): Promise<void> {
  await waitFor(`${count} metadata polls`, async () => {
    const seen = (await simulator.requests()).filter((r) => r.at >= from && r.path === '/latest/meta-data/spot/instance-action');
    return seen.length >= count ? true : undefined;
  }, { timeoutMs: 15_000 });
}

describe('agent: withdrawn notices', () => {
  before(async () => { world = await startAgentWorld(); });
  after(async () => { await world?.close(); });

  it('marks elevated risk for a rebalance recommendation without cordoning, and undoes it when withdrawn', logged(() => world, async (t) => {
    const { k } = world!;
    const node = await createReadyNode(k.core, anAwsNode());
    const name = node.metadata!.name!;
    const simulator = await world!.startSimulator('aws', { inProcess: true });
    const agent = await world!.startAgent({ nodeName: name, simulator });
    await waitForReady(agent);

    const t0 = Date.now();
    const rebalance = await simulator.notice({ kind: 'rebalance-recommendation' });
    const elevated = await waitForNode(k, name, 'elevated risk marks', (n) =>
      n.metadata?.labels?.[riskLabel] === 'elevated' && taintOf(n, atRiskTaint) && noticeOf(n) ? n : undefined);
    t.diagnostic(`rebalance recommendation → elevated marks in ${seconds(Date.now() - t0)}`);
    assert.deepEqual({ ...taintOf(elevated, atRiskTaint) }, { key: atRiskTaint, value: 'true', effect: 'PreferNoSchedule' });
    assert.equal(taintOf(elevated, interruptionTaint), undefined, 'no NoSchedule taint for an early warning');
    assert.notEqual(elevated.spec?.unschedulable, true, 'not cordoned');
    const record = noticeOf(elevated)!;
    assert.deepEqual([record.kind, record.urgency, record.deadline], ['rebalance-recommendation', 'elevated', null]);
    await waitForEvent(k, name, 'EarlyWarning');

    const cancelledAt = Date.now();
    await simulator.cancel(rebalance.id);
    const cleared = await waitForNode(k, name, 'marks removed', (n) =>
      !n.metadata?.labels?.[riskLabel] && !taintOf(n, atRiskTaint) && !n.metadata?.annotations?.[noticeAnnotationKey] ? n : undefined);
    t.diagnostic(`withdrawn → marks removed in ${seconds(Date.now() - cancelledAt)}`);
    assert.deepEqual(cleared.spec?.taints ?? [], node.spec?.taints ?? [], 'the node has the taints it had before');
    const withdrawn = await waitForEvent(k, name, 'NoticeWithdrawn');
    assert.match(withdrawn.note ?? '', /rebalance-recommendation .* was withdrawn/);
    assert.deepEqual(reasons(await agentEventsAbout(k, name)), ['EarlyWarning', 'NoticeWithdrawn']);

    // Back to the steady state: no Kubernetes API request while polls go on.
    const requestsAfter = world!.agentRequests().length;
    await polls(simulator, Date.now(), 6);
    assert.deepEqual(world!.agentRequests().slice(requestsAfter).map(describeAuditEvent), [], 'quiet again once withdrawn');
  }));

  it('lifts the NoSchedule taint and imminent label of a cancelled spot interruption', logged(() => world, async (t) => {
    const { k } = world!;
    const node = await createReadyNode(k.core, anAwsNode({ awsCapacityLabel: 'eks' }));
    const name = node.metadata!.name!;
    const simulator = await world!.startSimulator('aws', { inProcess: true });
    const agent = await world!.startAgent({ nodeName: name, simulator });
    await waitForReady(agent);

    const spot = await simulator.notice({ kind: 'spot-interruption', in: '90s' });
    const imminent = await waitForNode(k, name, 'imminent marks', (n) =>
      n.metadata?.labels?.[riskLabel] === 'imminent' && taintOf(n, interruptionTaint) && noticeOf(n) ? n : undefined);
    assert.equal(noticeOf(imminent)!.id.length > 0, true);
    await waitForEvent(k, name, 'InterruptionNotice');

    const cancelledAt = Date.now();
    await simulator.cancel(spot.id);
    const cleared = await waitForNode(k, name, 'marks removed', (n) =>
      !n.metadata?.labels?.[riskLabel] && !taintOf(n, interruptionTaint) && !n.metadata?.annotations?.[noticeAnnotationKey] ? n : undefined);
    t.diagnostic(`cancelled spot interruption → marks removed in ${seconds(Date.now() - cancelledAt)}`);
    assert.deepEqual(cleared.spec?.taints ?? [], node.spec?.taints ?? []);
    const withdrawn = await waitForEvent(k, name, 'NoticeWithdrawn');
    assert.equal(withdrawn.type, 'Normal');
    assert.match(withdrawn.note ?? '', /spot-interruption \(terminate\) notice .* was withdrawn/);
    const metrics = await agent.metrics();
    assert.equal(metrics.value('spotguard_node_risk', { risk: 'none' }), 1);
    assert.equal(metrics.value('spotguard_node_risk', { risk: 'imminent' }), 0);
  }));
  it('with --provider auto, takes the cloud from the Node\'s spec.providerID', logged(() => world, async () => {
    const { k } = world!;
    const node = await createReadyNode(k.core, anAzureNode());
    const name = node.metadata!.name!;
    const simulator = await world!.startSimulator('azure', { inProcess: true });
    const agent = await world!.startAgent({ nodeName: name, simulator, args: ['--provider', 'auto'] });
    const detected = await agent.waitForLog('provider detected from node');
    assert.equal(detected.provider, 'azure');
    assert.equal(detected.providerId, node.spec?.providerID);
    assert.equal(agent.logged('provider detected by probing').length, 0, 'no probing needed');
    const started = await agent.waitForLog('agent started');
    assert.equal(started.provider, 'azure');
  }));
});
