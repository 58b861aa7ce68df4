import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../core/clock.ts';
import { SimulatorState } from '../../simulators/simulator-state.ts';
import { startSimulatorServer, type RunningSimulator } from '../../simulators/simulator-server.ts';
import { azureDefaultIdentity, azureScheduledEventsHandler } from '../../simulators/azure-scheduled-events-simulator.ts';

const eventsPath = '/metadata/scheduledevents?api-version=2020-07-01';
const md = { Metadata: 'true' };
const jsonType = 'application/json; charset=utf-8';
const guid = /^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Answer = { status: number; type: string | null; text: string; body: unknown };
type Doc = { DocumentIncarnation: number; Events: Array<Record<string, unknown>> };

let sim: RunningSimulator;

beforeEach(async () => {
  const state = new SimulatorState('azure', systemClock, { ...azureDefaultIdentity });
  sim = await startSimulatorServer(state, azureScheduledEventsHandler(state), { host: '127.0.0.1', port: 0 });
  await control('azure', 'PATCH', { rateLimit: false }); // on by default; its own test switches it back on
});
afterEach(() => sim.close());

async function call(path: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(sim.url + path, init);
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, type: res.headers.get('content-type'), text, body };
}
const events = async (): Promise<Doc> => (await call(eventsPath, { headers: md })).body as Doc;
const control = (path: string, method: string, body?: unknown): Promise<Answer> =>
  call(`/_spotguard/${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
const schedule = async (body: Record<string, unknown>): Promise<{ id: string; at: string }> => {
  const res = await control('notices', 'POST', body);
  assert.equal(res.status, 201, res.text);
  return res.body as { id: string; at: string };
};
const ack = (ids: string[], headers: Record<string, string> = md): Promise<Answer> =>
  call(eventsPath, { method: 'POST', headers, body: JSON.stringify({ StartRequests: ids.map((EventId) => ({ EventId })) }) });

test('requests are checked as IMDS checks them: Metadata header, X-Forwarded-For, api-version, verb, path', async () => {
  const versionError = {
    error: 'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
    'newest-versions': ['2020-07-01', '2019-08-01', '2019-04-01'],
  };
  const cases: Array<{ name: string; path: string; init?: RequestInit; status: number; body?: unknown }> = [
    { name: 'no Metadata header', path: eventsPath, status: 400, body: { error: 'Bad request. Required metadata header not specified' } },
    { name: 'Metadata: false', path: eventsPath, init: { headers: { Metadata: 'false' } }, status: 400, body: { error: 'Bad request. Required metadata header not specified' } },
    { name: 'Metadata: True (any case)', path: eventsPath, init: { headers: { Metadata: 'True' } }, status: 200 },
    { name: 'X-Forwarded-For', path: eventsPath, init: { headers: { ...md, 'X-Forwarded-For': '10.0.0.9' } }, status: 400 },
    { name: 'no api-version', path: '/metadata/scheduledevents', init: { headers: md }, status: 400, body: versionError },
    { name: 'an instance-only version', path: '/metadata/scheduledevents?api-version=2021-02-01', init: { headers: md }, status: 400, body: versionError },
    { name: 'api-version twice', path: `${eventsPath}&api-version=2020-07-01`, init: { headers: md }, status: 400, body: versionError },
    { name: 'an older events version', path: '/metadata/scheduledevents?api-version=2019-08-01', init: { headers: md }, status: 200 },
    { name: 'PUT', path: eventsPath, init: { method: 'PUT', headers: md, body: '{}' }, status: 405 },
    { name: 'unknown path', path: '/metadata/nothing?api-version=2020-07-01', init: { headers: md }, status: 404 },
    { name: 'instance', path: '/metadata/instance?api-version=2021-02-01', init: { headers: md }, status: 200 },
  ];
  for (const c of cases) {
    const res = await call(c.path, c.init);
    assert.equal(res.status, c.status, c.name);
    assert.equal(res.type, jsonType, c.name);
    if (c.body !== undefined) assert.deepEqual(res.body, c.body, c.name);
  }
});

test('with nothing scheduled the document is an empty Events list at incarnation 1', async () => {
  const res = await call(eventsPath, { headers: md });
  assert.equal(res.text, '{"DocumentIncarnation":1,"Events":[]}');
});

test('a spot interruption is a Preempt event for this VM, Scheduled, with an RFC 1123 NotBefore 30 s out and a GUID id', async () => {
  const before = Date.now();
  const made = await schedule({ kind: 'spot-interruption' });
  const doc = await events();
  assert.equal(doc.Events.length, 1);
  const e = doc.Events[0] as Record<string, unknown>;
  assert.deepEqual(Object.keys(e), ['EventId', 'EventStatus', 'EventType', 'ResourceType', 'Resources', 'NotBefore', 'Description', 'EventSource', 'DurationInSeconds']);
  assert.match(String(e.EventId), guid);
  assert.equal(e.EventId, made.id);
  assert.deepEqual([e.EventStatus, e.EventType, e.ResourceType, e.Resources, e.EventSource, e.DurationInSeconds], ['Scheduled', 'Preempt', 'VirtualMachine', [azureDefaultIdentity.name], 'Platform', -1]);
  assert.match(String(e.NotBefore), /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  const notBefore = Date.parse(String(e.NotBefore));
  assert.ok(notBefore >= Math.floor((before + 30_000) / 1000) * 1000 && notBefore <= Date.now() + 30_000, String(e.NotBefore));
});

test('maintenance takes its EventType from action, with Azure’s minimum notice per type', async () => {
  const cases = [
    { action: undefined, type: 'Reboot', leadMs: 15 * 60_000 },
    { action: 'Freeze', type: 'Freeze', leadMs: 15 * 60_000, seconds: 5 },
    { action: 'Redeploy', type: 'Redeploy', leadMs: 10 * 60_000 },
    { action: 'Terminate', type: 'Terminate', leadMs: 5 * 60_000 },
  ];
  for (const c of cases) {
    await control('notices', 'DELETE');
    const made = await schedule({ kind: 'scheduled-maintenance', ...(c.action ? { action: c.action } : {}) });
    const e = (await events()).Events[0] as Record<string, unknown>;
    assert.equal(e.EventType, c.type);
    assert.equal(e.EventStatus, 'Scheduled');
    assert.equal(Date.parse(String(e.NotBefore)), Math.floor(Date.parse(made.at) / 1000) * 1000);
    assert.ok(Math.abs(Date.parse(made.at) - Date.now() - c.leadMs) < 2000, `${c.type} lead`);
    if (c.seconds !== undefined) assert.equal(e.DurationInSeconds, c.seconds);
  }
});

test('the control API refuses what Azure does not have', async () => {
  const cases: Array<{ body: Record<string, unknown>; error: RegExp }> = [
    { body: { kind: 'rebalance-recommendation' }, error: /no rebalance/ },
    { body: { kind: 'scheduled-maintenance', action: 'Preempt' }, error: /Freeze, Reboot, Redeploy, Terminate/ },
    { body: { kind: 'spot-interruption', action: 'Reboot' }, error: /Preempt/ },
    { body: { kind: 'spot-interruption', resources: 5 }, error: /resources/ },
    { body: { kind: 'spot-interruption', eventSource: 'Robot' }, error: /eventSource/ },
  ];
  for (const c of cases) {
    const res = await control('notices', 'POST', c.body);
    assert.equal(res.status, 400, JSON.stringify(c.body));
    assert.match(String((res.body as { error: string }).error), c.error);
  }
  assert.deepEqual((await events()).Events, []);
});

test('events for other VMs are in the same document with their own Resources; an id can be given', async () => {
  await schedule({ kind: 'scheduled-maintenance', action: 'Freeze', resources: ['aks-spot-31415926-vmss_1', 'aks-spot-31415926-vmss_2'] });
  await schedule({ kind: 'spot-interruption', id: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123', resources: 'other-vm' });
  const doc = await events();
  assert.deepEqual(doc.Events.map((e) => e.Resources), [['aks-spot-31415926-vmss_1', 'aks-spot-31415926-vmss_2'], ['other-vm']]);
  assert.equal(doc.Events[1]?.EventId, 'C7061BAC-AFDC-4513-B24B-AA5F13A16123');
});

test('DocumentIncarnation moves on appear, start (acknowledgement) and cancel, and not on a re-read', async () => {
  const start = (await events()).DocumentIncarnation;
  const { id } = await schedule({ kind: 'scheduled-maintenance' });
  assert.equal((await events()).DocumentIncarnation, start + 1);
  assert.equal((await events()).DocumentIncarnation, start + 1);
  const res = await ack([id]);
  assert.equal(res.status, 200);
  assert.equal(res.text, '');
  const started = await events();
  assert.equal(started.DocumentIncarnation, start + 2);
  assert.deepEqual([started.Events[0]?.EventStatus, started.Events[0]?.NotBefore], ['Started', '']);
  assert.equal((await ack([id])).status, 200, 'a second approval is still 200');
  assert.equal((await events()).DocumentIncarnation, start + 2);
  await control(`notices/${id}`, 'DELETE');
  assert.deepEqual(await events(), { DocumentIncarnation: start + 3, Events: [] });
});

test('an event turns Started with a blank NotBefore at its time, and is removed when it completes', async () => {
  await schedule({ kind: 'scheduled-maintenance', action: 'Freeze', in: '100ms', duration: '200ms' });
  const first = await events();
  assert.equal(first.Events[0]?.EventStatus, 'Scheduled');
  await sleep(150);
  const started = await events();
  assert.deepEqual([started.Events[0]?.EventStatus, started.Events[0]?.NotBefore], ['Started', '']);
  assert.equal(started.DocumentIncarnation, first.DocumentIncarnation + 1);
  await sleep(200);
  assert.deepEqual(await events(), { DocumentIncarnation: first.DocumentIncarnation + 2, Events: [] });
});

test('StartRequests are refused for unknown ids, bad bodies and without the Metadata header; accepted ones are recorded', async () => {
  const { id } = await schedule({ kind: 'spot-interruption' });
  const cases: Array<{ name: string; init: RequestInit; status: number }> = [
    { name: 'unknown id', init: { headers: md, body: '{"StartRequests":[{"EventId":"00000000-0000-4000-8000-000000000000"}]}' }, status: 400 },
    { name: 'not JSON', init: { headers: md, body: 'StartRequests' }, status: 400 },
    { name: 'no list', init: { headers: md, body: '{"EventId":"x"}' }, status: 400 },
    { name: 'no Metadata header', init: { body: JSON.stringify({ StartRequests: [{ EventId: id }] }) }, status: 400 },
    { name: 'lower-case id', init: { headers: md, body: JSON.stringify({ StartRequests: [{ EventId: id.toLowerCase() }] }) }, status: 200 },
  ];
  for (const c of cases) assert.equal((await call(eventsPath, { method: 'POST', ...c.init })).status, c.status, c.name);
  const seen = (await control('azure', 'GET')).body as { acknowledgements: Array<{ body: string }> };
  assert.equal(seen.acknowledgements.length, 4, 'the refused-header request never reached the service');
  assert.equal(seen.acknowledgements[3]?.body, JSON.stringify({ StartRequests: [{ EventId: id.toLowerCase() }] }));
});

test('more than 5 requests in a second get 429 unless the rate limit is switched off', async () => {
  assert.equal((await control('azure', 'PATCH', { rateLimit: true })).status, 200);
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await call(eventsPath, { headers: md })).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
  assert.equal((await control('azure', 'PATCH', { rateLimit: false })).status, 200);
  const after = await Promise.all(Array.from({ length: 8 }, () => call(eventsPath, { headers: md })));
  assert.deepEqual(after.map((r) => r.status), Array(8).fill(200));
  assert.equal((await control('azure', 'PATCH', { rateLimit: 'yes' })).status, 400);
});

test('the first call enables the service and is slow when firstCallDelay is set; later calls are fast', async () => {
  await control('azure', 'PATCH', { firstCallDelay: '300ms' });
  let t = Date.now();
  assert.equal((await call(eventsPath, { headers: md })).status, 200);
  assert.ok(Date.now() - t >= 290, `first call took ${Date.now() - t} ms`);
  t = Date.now();
  await call(eventsPath, { headers: md });
  assert.ok(Date.now() - t < 250, `second call took ${Date.now() - t} ms`);
});

test('instance metadata gives compute name, vmId, vmSize, location, zone and priority, following the identity', async () => {
  const compute = async (): Promise<Record<string, unknown>> =>
    ((await call('/metadata/instance?api-version=2021-02-01', { headers: md })).body as { compute: Record<string, unknown> }).compute;
  const c = await compute();
  assert.deepEqual(
    [c.name, c.vmId, c.vmSize, c.location, c.zone, c.priority, c.vmScaleSetName],
    [azureDefaultIdentity.name, azureDefaultIdentity.id, azureDefaultIdentity.type, 'westeurope', '1', 'Spot', 'aks-spot-31415926-vmss'],
  );
  await control('instance', 'PATCH', { capacity: 'on-demand', zone: 'eastus', name: 'vm-a' });
  const d = await compute();
  assert.deepEqual([d.name, d.location, d.zone, d.priority], ['vm-a', 'eastus', '', 'Regular']);
  const leaf = await call('/metadata/instance/compute/vmSize?api-version=2021-02-01&format=text', { headers: md });
  assert.deepEqual([leaf.status, leaf.text], [200, azureDefaultIdentity.type]);
});
