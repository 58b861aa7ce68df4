// An AWS spot interruption end to end, from `spotguard simulate --provider
// aws` (IMDSv2): with 40 s of notice the executors' evictions grant ~35 s of
// grace, more than the 30 s Spark's pods would otherwise get.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { logged, startAgentWorld } from './support/agent-world.ts';
import type { AgentWorld } from './support/agent-world.ts';
import { interruptionEndToEnd } from './support/interruption-scenario.ts';

let world: AgentWorld | undefined;

describe('agent: AWS spot interruption end to end', () => {
  before(async () => { world = await startAgentWorld(); });
  after(async () => { await world?.close(); });

  it('marks the node, evicts the executors with the time left as grace and reports each outcome', logged(() => world, async (t) => {
    const { graceSeconds } = await interruptionEndToEnd(t, world!, {
      provider: 'aws', notice: { kind: 'spot-interruption', in: '40s' }, action: 'terminate', leadSeconds: 40, deadlineFrom: 'provider',
    });
    assert.ok(graceSeconds.every((g) => g > 30), `grace ${graceSeconds.join(', ')} s: the real window, beyond the pods' default 30 s`);
  }));
});
