// A misbehaving metadata service never takes the agent down: 5xx answers,
// hangs, dropped connections, broken bodies, throttling and (AWS) revoked
// IMDSv2 tokens are counted by error code in /metrics, the process stays up,
// and a notice that comes afterwards is still handled.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { after, before, describe, it } from 'node:test';
import type { Provider } from '../../../core/domain/notice.ts';
import { aNode, createReadyNode } from '../../harness/k8s/nodes.ts';
import { waitFor } from '../../harness/k8s/wait-for.ts';
import { logged, startAgentWorld } from './support/agent-world.ts';
import type { AgentWorld } from './support/agent-world.ts';
import { interruptionTaint, seconds, taintOf, waitForNode } from './support/cluster-view.ts';
import type { SimulatorControl } from './support/simulator-control.ts';
import { waitForReady } from './support/start-agent.ts';
import type { RunningAgent } from './support/start-agent.ts';

let world: AgentWorld | undefined;

/** A fault on the path every poll reads, and the error code the agent must count for it. */
interface FaultCase {
  fault: Record<string, unknown>;
  code: string;
}

const pollPaths: Record<Provider, string> = {
  aws: '/latest/meta-data/spot/instance-action',
  gcp: '/computeMetadata/v1/instance/preempted',
  azure: '/metadata/scheduledevents',
};

function faults(provider: Provider): FaultCase[] {
  const path = pollPaths[provider];
  return [
    { fault: { type: 'status', status: 500, path }, code: 'E_METADATA_HTTP' },
    { fault: { type: 'reset', path }, code: 'E_METADATA_UNAVAILABLE' },
    { fault: { type: 'malformed', path }, code: 'E_METADATA_MALFORMED' },
    // No answer: the request times out (2 s).
    { fault: { type: 'hang', path }, code: 'E_METADATA_UNAVAILABLE' },
  ];
}

const errorCount = async (agent: RunningAgent, provider: Provider, code?: string): Promise<number> =>
  (await agent.metrics()).value('spotguard_metadata_errors_total', { provider, ...(code ? { code } : {}) });

/** Injects one fault and waits until the agent has counted its error code once more. */
async function injectAndCount(agent: RunningAgent, simulator: SimulatorControl, c: FaultCase): Promise<void> {
  const before = await errorCount(agent, simulator.provider, c.code);
  await simulator.fault(c.fault);
  await waitFor(`${c.code} counted for a ${String(c.fault.type)} fault`, async () =>
    ((await errorCount(agent, simulator.provider, c.code)) > before ? true : undefined), { timeoutMs: 15_000, intervalMs: 100 });
}

/** After the faults: alive, healthy, errors by code in /metrics, and a notice is handled. */
async function stillHandlesNotices(t: TestContext, agent: RunningAgent, simulator: SimulatorControl, node: string, codes: string[]): Promise<void> {
  assert.ok(agent.isRunning(), 'the agent is still running');
  const health = await fetch(`${agent.opsUrl}/healthz`);
  assert.equal(health.status, 200);
  await health.arrayBuffer();
  const metrics = await agent.metrics();
  assert.deepEqual(metrics.labelValues('spotguard_metadata_errors_total', 'code'), [...new Set(codes)].sort());
  const counts = [...new Set(codes)].map((code) => `${code}=${metrics.value('spotguard_metadata_errors_total', { code })}`);
  t.diagnostic(`${simulator.provider}: spotguard_metadata_errors_total ${counts.join(' ')}; ${agent.logged('metadata poll failed').length} failed polls`);

  const t0 = Date.now();
  await simulator.notice({ kind: 'spot-interruption', in: '60s' });
  await waitForNode(world!.k, node, 'tainted after the faults', (n) => taintOf(n, interruptionTaint));
  t.diagnostic(`${simulator.provider}: a notice after the faults → taint in ${seconds(Date.now() - t0)}`);
  assert.equal(agent.logged('agent failed').length, 0);
}

async function agentOn(provider: Provider, inject?: (sim: SimulatorControl) => Promise<void>): Promise<{ agent: RunningAgent; simulator: SimulatorControl; node: string }> {
  const node = (await createReadyNode(world!.k.core, aNode(provider === 'gcp' ? 'gce' : provider))).metadata!.name!;
  const simulator = await world!.startSimulator(provider, { inProcess: true });
  await inject?.(simulator);
  const agent = await world!.startAgent({ nodeName: node, simulator });
  return { agent, simulator, node };
}

describe('agent: metadata faults', () => {
  before(async () => { world = await startAgentWorld(); });
  after(async () => { await world?.close(); });

  it('AWS: survives 5xx, resets, broken bodies, hangs and revoked IMDSv2 tokens', logged(() => world, async (t) => {
    const { agent, simulator, node } = await agentOn('aws');
    await waitForReady(agent);
    for (const c of faults('aws')) await injectAndCount(agent, simulator, c);

    // Revoked tokens: the agent gets a new one and retries, with no failed poll.
    const failedBefore = agent.logged('metadata poll failed').length;
    await simulator.revokeAwsTokens();
    await agent.waitForLog('imds token rejected; fetching a new one');
    const okBefore = (await agent.metrics()).value('spotguard_metadata_polls_total', { outcome: 'ok' });
    await waitFor('a successful poll with the new token', async () =>
      ((await agent.metrics()).value('spotguard_metadata_polls_total', { outcome: 'ok' }) > okBefore ? true : undefined), { timeoutMs: 5_000 });
    assert.equal(agent.logged('metadata poll failed').length, failedBefore, 'a revoked token costs no poll');
    // Revoked, and the new token cannot be had at once: counted as a token error.
    await simulator.revokeAwsTokens();
    await injectAndCount(agent, simulator, { fault: { type: 'status', status: 500, path: '/latest/api/token' }, code: 'E_METADATA_TOKEN' });

    await stillHandlesNotices(t, agent, simulator, node, [...faults('aws').map((c) => c.code), 'E_METADATA_TOKEN']);
  }));

  it('Azure: survives 5xx, resets, broken bodies, hangs and throttling', logged(() => world, async (t) => {
    const { agent, simulator, node } = await agentOn('azure');
    await waitForReady(agent);
    const cases = [...faults('azure'), { fault: { type: 'status', status: 429, path: pollPaths.azure }, code: 'E_METADATA_THROTTLED' }];
    for (const c of cases) await injectAndCount(agent, simulator, c);
    await stillHandlesNotices(t, agent, simulator, node, cases.map((c) => c.code));
  }));

  it('GCP: survives 5xx, resets, broken bodies and hangs before its first good read', logged(() => world, async (t) => {
    // Once it has read the values, the GCP source waits in hanging GETs; faults hit the reads that come first.
    const cases = faults('gcp');
    const { agent, simulator, node } = await agentOn('gcp', async (sim) => {
      for (const c of cases) await sim.fault(c.fault);
    });
    await waitForReady(agent, 45_000);
    for (const code of new Set(cases.map((c) => c.code))) {
      assert.equal(await errorCount(agent, 'gcp', code), cases.filter((c) => c.code === code).length, code);
    }
    await stillHandlesNotices(t, agent, simulator, node, cases.map((c) => c.code));
  }));
});
