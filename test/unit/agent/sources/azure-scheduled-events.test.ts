import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../../core/clock.ts';
import { createLogger } from '../../../../core/log/create-logger.ts';
import { isSpotguardError, type ErrorCode } from '../../../../core/errors.ts';
import type { Notice } from '../../../../core/domain/notice.ts';
import {
  createAzureScheduledEventsSource,
  retryAfterMs,
  type AzureScheduledEventsSource,
  type AzureSourceOptions,
} from '../../../../agent/sources/azure-scheduled-events.ts';
import {
  eventsForVm,
  parseInstanceIdentity,
  parseRfc1123,
  parseScheduledEventsDocument,
  toNotice,
  type ScheduledEvent,
} from '../../../../agent/sources/azure-scheduled-events-parse.ts';
import { SimulatorState } from '../../../simulators/simulator-state.ts';
import { startSimulatorServer, type RunningSimulator } from '../../../simulators/simulator-server.ts';
import { azureDefaultIdentity, azureScheduledEventsHandler } from '../../../simulators/azure-scheduled-events-simulator.ts';

const log = createLogger({ level: 'silent', format: 'json' });
const signal = new AbortController().signal;
const vm = azureDefaultIdentity.name;

function event(overrides: Partial<ScheduledEvent> = {}): ScheduledEvent {
  return {
    EventId: 'C7061BAC-AFDC-4513-B24B-AA5F13A16123',
    EventStatus: 'Scheduled',
    EventType: 'Preempt',
    ResourceType: 'VirtualMachine',
    Resources: [vm],
    NotBefore: 'Mon, 19 Sep 2016 18:29:47 GMT',
    Description: '',
    EventSource: 'Platform',
    DurationInSeconds: -1,
    ...overrides,
  };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<unknown> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return isSpotguardError(err, code);
  });
  return caught;
}

describe('parsing (pure)', () => {
  test('NotBefore dates: RFC 1123 only, real calendar dates only', () => {
    const cases: Array<[string, number | null]> = [
      ['Mon, 19 Sep 2016 18:29:47 GMT', Date.UTC(2016, 8, 19, 18, 29, 47)],
      ['Thu, 22 Jul 2021 04:50:17 GMT', Date.UTC(2021, 6, 22, 4, 50, 17)],
      ['Sat, 1 Mar 2025 00:00:00 GMT', Date.UTC(2025, 2, 1)],
      ['Fri, 31 Feb 2025 10:00:00 GMT', null],
      ['2016-09-19T18:29:47Z', null],
      ['Mon, 19 Sep 2016 18:29:47 UTC', null],
      ['Mon, 19 Sep 2016 25:29:47 GMT', null],
      ['soon', null],
    ];
    for (const [text, want] of cases) assert.equal(parseRfc1123(text), want, text);
  });

  test('documents: empty body and Events [] are no events; broken ones are E_METADATA_MALFORMED', () => {
    const ok: Array<[string, number | null, number]> = [
      ['', null, 0],
      ['  \n', null, 0],
      ['{"DocumentIncarnation":1,"Events":[]}', 1, 0],
      ['{"DocumentIncarnation":7}', 7, 0],
      [JSON.stringify({ DocumentIncarnation: 3, Events: [event()] }), 3, 1],
    ];
    for (const [body, incarnation, count] of ok) {
      const doc = parseScheduledEventsDocument(body);
      assert.deepEqual([doc.incarnation, doc.events.length], [incarnation, count], JSON.stringify(body));
    }
    const bad = [
      '{"Events": [ {"EventId": "tru',
      'null',
      '[]',
      '{"DocumentIncarnation":"2","Events":[]}',
      '{"DocumentIncarnation":2,"Events":{}}',
      JSON.stringify({ Events: [{ ...event(), EventId: '' }] }),
      JSON.stringify({ Events: [{ ...event(), Resources: 'vm' }] }),
      JSON.stringify({ Events: [{ ...event(), EventType: 5 }] }),
      JSON.stringify({ Events: ['x'] }),
    ];
    for (const body of bad) assert.throws(() => parseScheduledEventsDocument(body), (e) => isSpotguardError(e, 'E_METADATA_MALFORMED'), body);
  });

  test('only events naming this VM count (names compare case-insensitively)', () => {
    const list = [event({ EventId: 'a', Resources: ['other'] }), event({ EventId: 'b', Resources: ['other', vm.toUpperCase()] }), event({ EventId: 'c' })];
    assert.deepEqual(eventsForVm(list, vm).map((e) => e.EventId), ['b', 'c']);
  });

  test('events become notices: kind and action per EventType, deadline from NotBefore or from detection once Started', () => {
    const now = Date.UTC(2026, 10, 23, 10, 0, 0);
    const notBefore = 'Mon, 23 Nov 2026 10:15:00 GMT';
    const at = Date.UTC(2026, 10, 23, 10, 15, 0);
    const cases: Array<{ name: string; e: Partial<ScheduledEvent>; seen?: { detectedAt: number; deadline: number }; kind: string; deadline: number; detectedAt?: number; startsAt?: number }> = [
      { name: 'Preempt scheduled', e: { EventType: 'Preempt', NotBefore: notBefore }, kind: 'spot-interruption', deadline: at },
      { name: 'Preempt first seen Started', e: { EventType: 'Preempt', EventStatus: 'Started', NotBefore: '' }, kind: 'spot-interruption', deadline: now + 30_000 },
      { name: 'Preempt Started after Scheduled keeps NotBefore', e: { EventType: 'Preempt', EventStatus: 'Started', NotBefore: '' }, seen: { detectedAt: now - 5000, deadline: at }, kind: 'spot-interruption', deadline: at, detectedAt: now - 5000 },
      { name: 'Preempt Started stays at first detection + 30 s', e: { EventType: 'Preempt', EventStatus: 'Started', NotBefore: '' }, seen: { detectedAt: now - 5000, deadline: now + 25_000 }, kind: 'spot-interruption', deadline: now + 25_000, detectedAt: now - 5000 },
      { name: 'Reboot', e: { EventType: 'Reboot', NotBefore: notBefore }, kind: 'scheduled-maintenance', deadline: at, startsAt: at },
      { name: 'Redeploy', e: { EventType: 'Redeploy', NotBefore: notBefore }, kind: 'scheduled-maintenance', deadline: at, startsAt: at },
      { name: 'Freeze', e: { EventType: 'Freeze', NotBefore: notBefore }, kind: 'scheduled-maintenance', deadline: at, startsAt: at },
      { name: 'Terminate', e: { EventType: 'Terminate', NotBefore: notBefore }, kind: 'scheduled-maintenance', deadline: at, startsAt: at },
      { name: 'Reboot first seen Started is due now', e: { EventType: 'Reboot', EventStatus: 'Started', NotBefore: '' }, kind: 'scheduled-maintenance', deadline: now, startsAt: now },
    ];
    for (const c of cases) {
      const { notice } = toNotice(event(c.e), 4, c.seen, now);
      assert.equal(notice.id, 'azure:C7061BAC-AFDC-4513-B24B-AA5F13A16123', c.name);
      assert.deepEqual([notice.provider, notice.kind, notice.action, notice.deadline, notice.detectedAt], ['azure', c.kind, c.e.EventType, c.deadline, c.detectedAt ?? now], c.name);
      assert.equal(notice.startsAt, c.startsAt, c.name);
      assert.equal((notice.raw as { DocumentIncarnation: number }).DocumentIncarnation, 4, c.name);
    }
    assert.throws(() => toNotice(event({ NotBefore: '2026-11-23T10:15:00Z' }), 1, undefined, now), (e) => isSpotguardError(e, 'E_METADATA_MALFORMED'));
  });

  test('identity: vmId, vmSize, location-zone, and priority → capacity', () => {
    const compute = { name: 'vm1', vmId: 'id-1', vmSize: 'Standard_D4s_v5', location: 'westeurope', zone: '2', priority: 'Spot' };
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{}, 'westeurope-2', 'spot'],
      [{ priority: 'Regular' }, 'westeurope-2', 'on-demand'],
      [{ priority: 'Low' }, 'westeurope-2', 'spot'],
      [{ priority: '' }, 'westeurope-2', 'unknown'],
      [{ priority: undefined, zone: '' }, 'westeurope', 'unknown'],
    ];
    for (const [patch, zone, capacity] of cases) {
      const id = parseInstanceIdentity(JSON.stringify({ compute: { ...compute, ...patch } }));
      assert.deepEqual(id, { provider: 'azure', id: 'id-1', type: 'Standard_D4s_v5', zone, capacity, name: 'vm1' }, JSON.stringify(patch));
    }
    for (const body of ['', '{}', '{"compute":{"vmId":"x"}}']) {
      assert.throws(() => parseInstanceIdentity(body), (e) => isSpotguardError(e, 'E_METADATA_MALFORMED'), body);
    }
  });
});

describe('against the simulator', () => {
  let sim: RunningSimulator;
  let source: AzureScheduledEventsSource;

  const control = async (path: string, method: string, body?: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${sim.url}/_spotguard/${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const schedule = (body: Record<string, unknown>): Promise<Record<string, unknown>> => control('notices', 'POST', body);
  const fault = (body: Record<string, unknown>): Promise<Record<string, unknown>> => control('faults', 'POST', { path: '/metadata/scheduledevents', ...body });
  const open = (options: Partial<AzureSourceOptions> = {}): AzureScheduledEventsSource =>
    createAzureScheduledEventsSource({ baseUrl: sim.url, clock: systemClock, log, requestTimeoutMs: 400, firstCallTimeoutMs: 400, ...options });

  beforeEach(async () => {
    const state = new SimulatorState('azure', systemClock, { ...azureDefaultIdentity });
    sim = await startSimulatorServer(state, azureScheduledEventsHandler(state), { host: '127.0.0.1', port: 0 });
    source = open();
  });
  afterEach(async () => {
    await source.close();
    await sim.close();
  });

  test('every request carries Metadata: true and the documented api-version; default poll is 1 s', async () => {
    await source.poll(signal);
    assert.deepEqual(
      sim.state.requests.map((r) => [r.method, r.path, r.headers.metadata, r.status]),
      [['GET', '/metadata/instance?api-version=2021-02-01', 'true', 200], ['GET', '/metadata/scheduledevents?api-version=2020-07-01', 'true', 200]],
    );
    assert.equal(source.pollIntervalMs, 1000);
    assert.deepEqual(await source.poll(signal), [], 'no events → no notices');
  });

  test('a Preempt for this VM is a spot interruption due at NotBefore; other VMs’ events are ignored', async () => {
    const mine = await schedule({ kind: 'spot-interruption' });
    await schedule({ kind: 'spot-interruption', resources: ['aks-spot-31415926-vmss_7'] });
    await schedule({ kind: 'scheduled-maintenance', action: 'Freeze', resources: ['someone-else', vm.toUpperCase()] });
    const notices = await source.poll(signal);
    assert.deepEqual(notices.map((n) => [n.id, n.kind, n.action]), [
      [`azure:${mine.id}`, 'spot-interruption', 'Preempt'],
      [notices[1]?.id, 'scheduled-maintenance', 'Freeze'],
    ]);
    assert.equal(notices[0]?.deadline, Math.floor(Date.parse(String(mine.at)) / 1000) * 1000);
  });

  test('each maintenance EventType is a scheduled-maintenance notice that starts at NotBefore', async () => {
    for (const action of ['Reboot', 'Redeploy', 'Freeze', 'Terminate']) await schedule({ kind: 'scheduled-maintenance', action });
    const notices = await source.poll(signal);
    assert.deepEqual(notices.map((n) => [n.kind, n.action]), ['Reboot', 'Redeploy', 'Freeze', 'Terminate'].map((a) => ['scheduled-maintenance', a]));
    for (const n of notices) assert.ok(n.deadline !== null && n.startsAt === n.deadline);
  });

  test('a Preempt already Started (blank NotBefore) is due 30 s after detection, and stays so across polls', async () => {
    await schedule({ kind: 'spot-interruption', in: '0s' });
    const first = (await source.poll(signal))[0] as Notice;
    assert.equal((first.raw as { EventStatus: string; NotBefore: string }).NotBefore, '');
    assert.equal(first.deadline, first.detectedAt + 30_000);
    await new Promise((r) => setTimeout(r, 20));
    const again = (await source.poll(signal))[0] as Notice;
    assert.deepEqual([again.id, again.detectedAt, again.deadline], [first.id, first.detectedAt, first.deadline]);
  });

  test('DocumentIncarnation is kept in raw and follows the document', async () => {
    await schedule({ kind: 'spot-interruption' });
    const a = (await source.poll(signal))[0]?.raw as { DocumentIncarnation: number };
    await schedule({ kind: 'spot-interruption', resources: 'other-vm' });
    const b = (await source.poll(signal))[0]?.raw as { DocumentIncarnation: number };
    assert.equal(b.DocumentIncarnation, a.DocumentIncarnation + 1);
  });

  test('acknowledge POSTs exactly {"StartRequests":[{"EventId":…}]}; the event then shows Started and keeps its deadline', async () => {
    const made = await schedule({ kind: 'spot-interruption' });
    const before = (await source.poll(signal))[0] as Notice;
    await source.acknowledge([before.id], signal);
    const recorded = (await control('azure', 'GET')).acknowledgements as Array<{ body: string }>;
    assert.deepEqual(recorded.map((a) => a.body), [`{"StartRequests":[{"EventId":"${String(made.id)}"}]}`]);
    const post = sim.state.requests.find((r) => r.method === 'POST');
    assert.deepEqual([post?.path, post?.headers.metadata, post?.status], ['/metadata/scheduledevents?api-version=2020-07-01', 'true', 200]);
    const after = (await source.poll(signal))[0] as Notice;
    assert.deepEqual([(after.raw as { EventStatus: string }).EventStatus, after.deadline, after.detectedAt], ['Started', before.deadline, before.detectedAt]);
    await rejectsWith(source.acknowledge(['azure:00000000-0000-4000-8000-000000000000'], signal), 'E_METADATA_HTTP');
  });

  test('failures come out as codes: 429 throttled with a hint, 5xx and 410 retryable HTTP, malformed, reset, hang', async () => {
    await source.identity(signal);
    const cases: Array<{ fault: Record<string, unknown>; code: ErrorCode; retryable: boolean }> = [
      { fault: { type: 'status', status: 500 }, code: 'E_METADATA_HTTP', retryable: true },
      { fault: { type: 'status', status: 503 }, code: 'E_METADATA_HTTP', retryable: true },
      { fault: { type: 'status', status: 410 }, code: 'E_METADATA_HTTP', retryable: true },
      { fault: { type: 'status', status: 400 }, code: 'E_METADATA_HTTP', retryable: false },
      { fault: { type: 'malformed' }, code: 'E_METADATA_MALFORMED', retryable: true },
      { fault: { type: 'reset' }, code: 'E_METADATA_UNAVAILABLE', retryable: true },
      { fault: { type: 'hang' }, code: 'E_METADATA_UNAVAILABLE', retryable: true },
    ];
    for (const c of cases) {
      await fault(c.fault);
      const err = (await rejectsWith(source.poll(signal), c.code)) as { retryable: boolean };
      assert.equal(err.retryable, c.retryable, JSON.stringify(c.fault));
    }
    await fault({ type: 'status', status: 429 });
    const throttled = await rejectsWith(source.poll(signal), 'E_METADATA_THROTTLED');
    assert.ok((retryAfterMs(throttled) ?? 0) >= 1000, 'a hint of at least 1 s');
    const sent = sim.state.requests.length;
    await rejectsWith(source.poll(signal), 'E_METADATA_THROTTLED');
    assert.equal(sim.state.requests.length, sent, 'no request while the hold lasts');
  });

  test('back-to-back polls stay within 5 requests per second, so the (default-on) rate limit never answers 429', async () => {
    const polls = [];
    for (let i = 0; i < 7; i++) polls.push(await source.poll(signal));
    const times = sim.state.requests.map((r) => r.at);
    assert.equal(times.length, 8);
    assert.ok(sim.state.requests.every((r) => r.status === 200));
    for (const t of times) assert.ok(times.filter((u) => u >= t && u < t + 1000).length <= 5);
  });

  test('the slow first call (service being enabled) gets the long first-call timeout', async () => {
    await control('azure', 'PATCH', { firstCallDelay: '500ms' });
    const patient = open({ requestTimeoutMs: 200, firstCallTimeoutMs: 2000 });
    try {
      assert.deepEqual(await patient.poll(signal), []);
    } finally {
      await patient.close();
    }
  });

  test('identity: vmId, size, region-zone and name; Spot → spot, Regular → on-demand', async () => {
    assert.deepEqual(await source.identity(signal), {
      provider: 'azure', id: azureDefaultIdentity.id, type: 'Standard_D4s_v5', zone: 'westeurope-1', capacity: 'spot', name: vm,
    });
    await control('instance', 'PATCH', { capacity: 'on-demand', zone: 'eastus' });
    const other = open();
    try {
      assert.deepEqual([(await other.identity(signal)).capacity, (await other.identity(signal)).zone], ['on-demand', 'eastus']);
    } finally {
      await other.close();
    }
  });
});
