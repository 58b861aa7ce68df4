// An Azure Preempt scheduled event end to end, from `spotguard simulate
// --provider azure`: marks, executor evictions with the time left before
// NotBefore, drain, outcomes, and the acknowledgement (StartRequests) that
// lets Azure go ahead once the executors are done.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../harness/k8s/wait-for.ts';
import { logged, startAgentWorld } from './support/agent-world.ts';
import type { AgentWorld } from './support/agent-world.ts';
import { seconds } from './support/cluster-view.ts';
import { interruptionEndToEnd } from './support/interruption-scenario.ts';

let world: AgentWorld | undefined;

describe('agent: Azure Preempt end to end', () => {
  before(async () => { world = await startAgentWorld(); });
  after(async () => { await world?.close(); });

  it('decommissions every executor before NotBefore, then acknowledges the event once', logged(() => world, async (t) => {
    const { simulator, record, scheduled } = await interruptionEndToEnd(t, world!, {
      provider: 'azure', notice: { kind: 'spot-interruption', in: '25s' }, action: 'Preempt', leadSeconds: 25, deadlineFrom: 'provider',
    });
    const acks = await waitFor('the StartRequests', async () => {
      const received = await simulator.azureAcknowledgements();
      return received.length > 0 ? received : undefined;
    }, { timeoutMs: 5_000 });
    assert.equal(acks.length, 1, `one StartRequests: ${JSON.stringify(acks)}`);
    assert.deepEqual(JSON.parse(acks[0]!.body), { StartRequests: [{ EventId: scheduled.id }] });
    const lastOutcome = Math.max(...record.progress.executors.map((e) => Date.parse(e.outcomeAt!)));
    assert.ok(acks[0]!.at >= lastOutcome, 'acknowledged after the last executor was done');
    assert.ok(acks[0]!.at < Date.parse(scheduled.at), 'acknowledged before NotBefore');
    assert.equal(record.progress.acknowledged, true);
    t.diagnostic(`azure: acknowledged ${seconds(acks[0]!.at - lastOutcome)} after the last executor, ${seconds(Date.parse(scheduled.at) - acks[0]!.at)} before NotBefore`);
  }));
});
