// A GCP preemption end to end: `spotguard simulate --provider gcp` flips
// instance/preempted, the real agent marks the node, evicts the executors
// with the 30 s window less the margin, drains the rest and reports outcomes.
import { after, before, describe, it } from 'node:test';
import { logged, startAgentWorld } from './support/agent-world.ts';
import type { AgentWorld } from './support/agent-world.ts';
import { interruptionEndToEnd } from './support/interruption-scenario.ts';

let world: AgentWorld | undefined;

describe('agent: GCP preemption end to end', () => {
  before(async () => { world = await startAgentWorld(); });
  after(async () => { await world?.close(); });

  it('marks the node, decommissions every executor within the 30 s window and reports each outcome', logged(() => world, async (t) => {
    await interruptionEndToEnd(t, world!, {
      provider: 'gcp', notice: { kind: 'spot-interruption' }, action: 'preempted', leadSeconds: 30, deadlineFrom: 'detection',
    });
  }));
});
