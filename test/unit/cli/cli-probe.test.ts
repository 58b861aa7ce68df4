import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import type { Provider } from '../../../core/domain/notice.ts';
import { startSimulator } from '../../../test/simulators/start-simulator.ts';
import type { RunningSimulator } from '../../../test/simulators/simulator-server.ts';
import { runCli, startCli } from './run-cli.ts';

interface ProbeDoc {
  provider: string;
  instance: { id: string; type: string; zone: string; capacity: string };
  notices: Array<{ id: string; kind: string; action: string; deadline: string | null; detectedAt: string }>;
}

const sims: RunningSimulator[] = [];
after(async () => {
  for (const s of sims) await s.close();
});

async function simulator(provider: Provider): Promise<RunningSimulator> {
  const sim = await startSimulator({ provider });
  sims.push(sim);
  return sim;
}

async function schedule(sim: RunningSimulator, body: Record<string, unknown>): Promise<void> {
  const res = await request(`${sim.url}/_spotguard/notices`, { method: 'POST', body: JSON.stringify(body) });
  assert.equal(res.statusCode, 201, await res.body.text());
  await res.body.dump();
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

const cases: Array<{ provider: Provider; action: string; capacity: string; leadSeconds: number }> = [
  { provider: 'aws', action: 'terminate', capacity: 'spot', leadSeconds: 120 },
  { provider: 'gcp', action: 'preempted', capacity: 'spot', leadSeconds: 30 },
  { provider: 'azure', action: 'Preempt', capacity: 'spot', leadSeconds: 30 },
];

for (const c of cases) {
  test(`probe --output json reads a ${c.provider} spot interruption from the simulator`, async () => {
    const sim = await simulator(c.provider);
    const before = await runCli(['probe', '--provider', c.provider, '--metadata-endpoint', sim.url, '--output', 'json']);
    assert.equal(before.code, 0, before.stderr);
    const quiet = JSON.parse(before.stdout) as ProbeDoc;
    assert.equal(quiet.provider, c.provider);
    assert.equal(quiet.instance.capacity, c.capacity);
    assert.ok(quiet.instance.id && quiet.instance.type && quiet.instance.zone, JSON.stringify(quiet.instance));
    assert.deepEqual(quiet.notices, []);

    await schedule(sim, { kind: 'spot-interruption' });
    const r = await runCli(['probe', '--provider', c.provider, '--metadata-endpoint', sim.url, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim().split('\n').length, 1, 'one JSON document');
    const doc = JSON.parse(r.stdout) as ProbeDoc;
    assert.equal(doc.notices.length, 1);
    const n = doc.notices[0]!;
    assert.equal(n.kind, 'spot-interruption');
    assert.equal(n.action, c.action);
    assert.match(n.deadline ?? '', rfc3339);
    assert.match(n.detectedAt, rfc3339);
    const lead = (Date.parse(n.deadline!) - Date.now()) / 1000;
    assert.ok(lead > c.leadSeconds - 10 && lead <= c.leadSeconds + 1, `deadline about ${c.leadSeconds}s away, was ${lead}s`);
  });
}

test('probe --provider auto tells the three clouds apart', async () => {
  for (const provider of ['aws', 'gcp', 'azure'] as const) {
    const sim = await simulator(provider);
    const r = await runCli(['probe', '--metadata-endpoint', sim.url, '--output', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as ProbeDoc).provider, provider);
  }
});

test('probe --output text is for people', async () => {
  const sim = await simulator('aws');
  await schedule(sim, { kind: 'spot-interruption', in: '90s' });
  const r = await runCli(['probe', '--provider', 'aws', '--metadata-endpoint', sim.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^provider {2}aws$/m);
  assert.match(r.stdout, /^instance {2}i-[0-9a-f]+ \(m5\.xlarge, us-east-1a, spot\)$/m);
  assert.match(r.stdout, /^notice {4}spot-interruption terminate, deadline \S+Z \(in (8\d|90)s\)/m);
});

test('probe exits 1 with one clear line when the metadata service cannot be read', async () => {
  const unreachable = await runCli(['probe', '--provider', 'gcp', '--metadata-endpoint', 'http://127.0.0.1:9', '--timeout', '2s']);
  assert.equal(unreachable.code, 1);
  assert.equal(unreachable.stdout, '');
  assert.match(unreachable.stderr, /^spotguard probe: E_METADATA_UNAVAILABLE: gcp metadata GET http:\/\/127\.0\.0\.1:9\/\S+: connection refused\n$/);

  const none = await runCli(['probe', '--metadata-endpoint', 'http://127.0.0.1:9', '--timeout', '2s']);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^spotguard probe: E_PROVIDER_UNKNOWN: no AWS, GCP or Azure metadata service answered at http:\/\/127\.0\.0\.1:9; set --provider\n$/);

  const sim = await simulator('azure');
  await request(`${sim.url}/_spotguard/faults`, { method: 'POST', body: JSON.stringify({ type: 'status', status: 500, times: -1 }) }).then((r) => r.body.dump());
  const failing = await runCli(['probe', '--provider', 'azure', '--metadata-endpoint', sim.url]);
  assert.equal(failing.code, 1);
  assert.match(failing.stderr, /^spotguard probe: E_METADATA_HTTP: .*HTTP 500.*\n$/);
});

test('spotguard simulate serves a metadata service that probe reads, and its control API', async (t) => {
  const { child, firstLine } = await startCli(['simulate', '--provider', 'gcp', '--port', '0']);
  t.after(() => {
    child.kill('SIGTERM');
  });
  const started = JSON.parse(firstLine) as { url: string; provider: string };
  assert.equal(started.provider, 'gcp');
  assert.match(started.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const res = await request(`${started.url}/_spotguard/notices`, {
    method: 'POST',
    body: JSON.stringify({ kind: 'scheduled-maintenance', action: 'TERMINATE_ON_HOST_MAINTENANCE' }),
  });
  assert.equal(res.statusCode, 201);
  await res.body.dump();
  const r = await runCli(['probe', '--provider', 'gcp', '--metadata-endpoint', started.url, '--output', 'json']);
  const doc = JSON.parse(r.stdout) as ProbeDoc;
  assert.deepEqual(
    doc.notices.map((n) => [n.kind, n.action]),
    [['scheduled-maintenance', 'TERMINATE_ON_HOST_MAINTENANCE']],
  );
  const missing = await runCli(['simulate']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--provider is required/);
});
