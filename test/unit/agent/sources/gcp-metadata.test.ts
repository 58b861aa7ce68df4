import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../../fixtures/manual-clock.ts';
import { systemClock } from '../../../../core/clock.ts';
import { createLogger } from '../../../../core/log/create-logger.ts';
import { isSpotguardError, type ErrorCode } from '../../../../core/errors.ts';
import type { Capacity, Notice } from '../../../../core/domain/notice.ts';
import { createGcpMetadataSource } from '../../../../agent/sources/gcp-metadata.ts';
import type { NoticeSource } from '../../../../agent/sources/notice-source.ts';
import {
  describeErrorBody,
  noDetections,
  parseMaintenanceEvent,
  parsePreempted,
  parsePreemptible,
  parseProvisioningModel,
  parseResourceName,
  trackNotices,
} from '../../../../agent/sources/gcp-metadata-parse.ts';
import { SimulatorState, type SimIdentity } from '../../../simulators/simulator-state.ts';
import { startSimulatorServer, type RunningSimulator } from '../../../simulators/simulator-server.ts';
import { gcpDefaultIdentity, gcpEtag, gcpMetadataHandler } from '../../../simulators/gcp-metadata-simulator.ts';


const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const signal = new AbortController().signal;

async function startGcp(identity: Partial<SimIdentity> = {}): Promise<RunningSimulator> {
  const state = new SimulatorState('gcp', systemClock, { ...gcpDefaultIdentity, ...identity });
  return startSimulatorServer(state, gcpMetadataHandler(state), { host: '127.0.0.1', port: 0 });
}

async function control(sim: RunningSimulator, method: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(sim.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.text()}`);
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

describe('GCP metadata source against the simulator', () => {
  let sim: RunningSimulator;
  let source: NoticeSource;
  let clock: ReturnType<typeof manualClock>;
  let logLines: Record<string, unknown>[];
  let opened: NoticeSource[] = [];

  function makeSource(overrides: { watchTimeoutSec?: number; requestTimeoutMs?: number; baseUrl?: string } = {}): NoticeSource {
    const log = createLogger({ level: 'debug', format: 'json', destination: { write: (s: string) => logLines.push(JSON.parse(s)) } });
    const made = createGcpMetadataSource({ baseUrl: sim.url, clock, log, watchTimeoutSec: 5, requestTimeoutMs: 400, ...overrides });
    opened.push(made);
    return made;
  }

  before(async () => {
    sim = await startGcp();
  });
  after(() => sim.close());
  beforeEach(() => {
    sim.state.cancelAll();
    sim.state.faults = [];
    sim.state.requests = [];
    logLines = [];
    clock = manualClock(t0);
    source = makeSource();
  });
  afterEach(async () => {
    await Promise.all(opened.map((s) => s.close()));
    opened = [];
  });

  it('sends Metadata-Flavor: Google on every request', async () => {
    await source.poll(signal);
    await source.identity(signal);
    assert.ok(sim.state.requests.length >= 6);
    for (const r of sim.state.requests) assert.equal(r.headers['metadata-flavor'], 'Google', r.path);
  });

  it('the first poll reads at once and sees a notice already there', async () => {
    await control(sim, 'POST', '/_spotguard/notices', { kind: 'spot-interruption' });
    const { value, ms } = await timed(source.poll(signal, { wait: true }));
    assert.deepEqual(value.map((n) => n.kind), ['spot-interruption']);
    assert.ok(ms < 1000);
    assert.ok(sim.state.requests.every((r) => !r.path.includes('wait_for_change')));
  });

  describe('a hanging poll returns when either value changes, not at the watch timeout', () => {
    const cases = [
      { kind: 'spot-interruption', path: '/computeMetadata/v1/instance/preempted' },
      { kind: 'scheduled-maintenance', path: '/computeMetadata/v1/instance/maintenance-event' },
    ];
    for (const c of cases) {
      it(`${c.kind} scheduled 300 ms later`, async () => {
        assert.deepEqual(await source.poll(signal), []);
        await control(sim, 'POST', '/_spotguard/notices', { kind: c.kind, after: '300ms' });
        const { value, ms } = await timed(source.poll(signal));
        assert.deepEqual(value.map((n) => n.kind), [c.kind]);
        assert.ok(ms >= 250 && ms < 2000, `poll took ${Math.round(ms)} ms (watch timeout 5 s)`);
        // Only answered requests are logged: the watch that saw the change.
        const watch = sim.state.requests.find((r) => r.path.includes('wait_for_change=true'));
        assert.equal(watch?.path.split('?')[0], c.path);
        assert.match(watch?.path ?? '', /[?&]last_etag=[0-9a-f]{16}(&|$)/);
        assert.match(watch?.path ?? '', /[?&]timeout_sec=5(&|$)/);
      });
    }
  });

  it('a watch that times out returns the current snapshot unchanged', async () => {
    source = makeSource({ watchTimeoutSec: 1 });
    await control(sim, 'POST', '/_spotguard/notices', { kind: 'scheduled-maintenance' });
    const first = await source.poll(signal);
    clock.advance(5000);
    const { value, ms } = await timed(source.poll(signal));
    assert.ok(ms >= 900 && ms < 2500, `poll took ${Math.round(ms)} ms`);
    assert.deepEqual(value, first);
  });

  it('a value that changed between polls comes back at once (stale last_etag)', async () => {
    await source.poll(signal);
    await control(sim, 'POST', '/_spotguard/notices', { kind: 'scheduled-maintenance', action: 'MIGRATE_ON_HOST_MAINTENANCE' });
    const { value, ms } = await timed(source.poll(signal));
    assert.deepEqual(value.map((n) => n.action), ['MIGRATE_ON_HOST_MAINTENANCE']);
    assert.ok(ms < 500, `poll took ${Math.round(ms)} ms`);
  });

  it('wait: false reads at once even after the first poll', async () => {
    await source.poll(signal);
    sim.state.requests = [];
    const { value, ms } = await timed(source.poll(signal, { wait: false }));
    assert.deepEqual(value, []);
    assert.ok(ms < 500);
    assert.ok(sim.state.requests.every((r) => !r.path.includes('wait_for_change')));
  });

  describe('notices', () => {
    const cases: { name: string; notice: Record<string, string>; expected: Omit<Notice, 'raw'> }[] = [
      {
        name: 'preemption: deadline 30 s after detection',
        notice: { kind: 'spot-interruption' },
        expected: {
          id: `gcp:spot-interruption:${gcpDefaultIdentity.id}`,
          provider: 'gcp',
          kind: 'spot-interruption',
          action: 'preempted',
          detectedAt: t0,
          deadline: t0 + 30_000,
        },
      },
      {
        name: 'host maintenance: the event word, deadline 60 s after detection',
        notice: { kind: 'scheduled-maintenance' },
        expected: {
          id: `gcp:scheduled-maintenance:TERMINATE_ON_HOST_MAINTENANCE:${gcpEtag('TERMINATE_ON_HOST_MAINTENANCE')}`,
          provider: 'gcp',
          kind: 'scheduled-maintenance',
          action: 'TERMINATE_ON_HOST_MAINTENANCE',
          detectedAt: t0,
          deadline: t0 + 60_000,
        },
      },
    ];
    for (const c of cases) {
      it(`${c.name}; the same notice on later polls; gone when the value goes back`, async () => {
        await control(sim, 'POST', '/_spotguard/notices', c.notice);
        const [seen] = await source.poll(signal);
        assert.ok(seen);
        const { raw: _raw, ...rest } = seen;
        assert.deepEqual(rest, c.expected);
        clock.advance(7000);
        assert.deepEqual(await source.poll(signal, { wait: false }), [seen], 'same id, detectedAt and deadline');
        sim.state.cancelAll();
        clock.advance(1000);
        assert.deepEqual(await source.poll(signal), []);
      });
    }

    it('preemption and maintenance together', async () => {
      await control(sim, 'POST', '/_spotguard/notices', { kind: 'scheduled-maintenance' });
      await control(sim, 'POST', '/_spotguard/notices', { kind: 'spot-interruption' });
      const notices = await source.poll(signal);
      assert.deepEqual(notices.map((n) => n.kind), ['spot-interruption', 'scheduled-maintenance']);
    });
  });

  describe('identity', () => {
    const cases: { name: string; capacity: 'spot' | 'on-demand'; legacy: boolean; expected: Capacity; asksPreemptible: boolean }[] = [
      { name: 'SPOT', capacity: 'spot', legacy: false, expected: 'spot', asksPreemptible: false },
      { name: 'STANDARD, confirmed by preemptible=FALSE', capacity: 'on-demand', legacy: false, expected: 'on-demand', asksPreemptible: true },
      { name: 'no provisioning-model (404), preemptible=TRUE', capacity: 'spot', legacy: true, expected: 'spot', asksPreemptible: true },
      { name: 'no provisioning-model (404), preemptible=FALSE', capacity: 'on-demand', legacy: true, expected: 'on-demand', asksPreemptible: true },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.expected}`, async () => {
        await control(sim, 'PATCH', '/_spotguard/instance', { capacity: c.capacity });
        await control(sim, 'PATCH', '/_spotguard/gcp', { legacyScheduling: c.legacy });
        try {
          const identity = await source.identity(signal);
          assert.deepEqual(identity, {
            provider: 'gcp',
            id: gcpDefaultIdentity.id,
            name: gcpDefaultIdentity.name,
            type: 'n2-standard-4',
            zone: 'us-central1-a',
            capacity: c.expected,
          });
          assert.equal(sim.state.requests.some((r) => r.path.endsWith('/scheduling/preemptible')), c.asksPreemptible);
        } finally {
          await control(sim, 'PATCH', '/_spotguard/instance', { capacity: 'spot' });
          await control(sim, 'PATCH', '/_spotguard/gcp', { legacyScheduling: false });
        }
      });
    }
  });

  it('a 503 is retried inside the poll, then the poll succeeds', async () => {
    await control(sim, 'POST', '/_spotguard/faults', { type: 'status', status: 503, times: 2, path: '/computeMetadata/v1/instance/preempted' });
    assert.deepEqual(await source.poll(signal), []);
    const statuses = sim.state.requests.filter((r) => r.path.startsWith('/computeMetadata/v1/instance/preempted')).map((r) => r.status);
    assert.deepEqual(statuses, [503, 503, 200]);
    assert.equal(logLines.filter((l) => l.msg === 'metadata request retried').length, 2);
  });

  describe('failures become SpotguardErrors, never crashes', () => {
    const preempted = '/computeMetadata/v1/instance/preempted';
    const cases: { name: string; fault?: Record<string, unknown>; notice?: Record<string, string>; code: ErrorCode }[] = [
      { name: '503 that does not pass', fault: { type: 'status', status: 503, times: -1, path: preempted }, code: 'E_METADATA_HTTP' },
      { name: '500', fault: { type: 'status', status: 500, path: preempted }, code: 'E_METADATA_HTTP' },
      { name: '403', fault: { type: 'status', status: 403, path: preempted }, code: 'E_METADATA_HTTP' },
      { name: '404', fault: { type: 'status', status: 404, path: preempted }, code: 'E_METADATA_HTTP' },
      { name: '429', fault: { type: 'status', status: 429, path: preempted }, code: 'E_METADATA_THROTTLED' },
      { name: 'connection reset', fault: { type: 'reset', path: preempted }, code: 'E_METADATA_UNAVAILABLE' },
      { name: 'no answer (hang)', fault: { type: 'hang', path: preempted }, code: 'E_METADATA_UNAVAILABLE' },
      { name: 'a body that is neither TRUE nor FALSE', fault: { type: 'malformed', path: preempted }, code: 'E_METADATA_MALFORMED' },
      { name: 'a maintenance-event that is not a word', notice: { kind: 'scheduled-maintenance', action: 'soon, maybe' }, code: 'E_METADATA_MALFORMED' },
    ];
    for (const c of cases) {
      it(`${c.name} → ${c.code}`, async () => {
        if (c.fault) await control(sim, 'POST', '/_spotguard/faults', c.fault);
        if (c.notice) await control(sim, 'POST', '/_spotguard/notices', c.notice);
        await assert.rejects(source.poll(signal), (err) => isSpotguardError(err, c.code));
      });
    }

    it('nothing listening → E_METADATA_UNAVAILABLE', async () => {
      source = makeSource({ baseUrl: 'http://127.0.0.1:9' });
      await assert.rejects(source.poll(signal), (err) => isSpotguardError(err, 'E_METADATA_UNAVAILABLE'));
    });

    it('a 403 error page is summarised in the message', async () => {
      const res = await fetch(`${sim.url}/computeMetadata/v1/instance/id`);
      assert.match(describeErrorBody(await res.text()), /^Error 403 \(Forbidden\)!!1 403\. That’s an error\. Your client .* Missing Metadata-Flavor:Google header\./);
    });
  });

  it('a caller abort or close() ends a hanging poll at once', async () => {
    await source.poll(signal);
    const caller = new AbortController();
    const aborted = timed(source.poll(caller.signal).catch((err: unknown) => err));
    setTimeout(() => caller.abort(new Error('agent stopping')), 50);
    const a = await aborted;
    assert.equal((a.value as Error).message, 'agent stopping');
    assert.ok(a.ms < 1000);

    const closed = timed(source.poll(signal).catch((err: unknown) => err));
    setTimeout(() => void source.close(), 50);
    const c = await closed;
    assert.ok(isSpotguardError(c.value, 'E_METADATA_UNAVAILABLE'));
    assert.ok(c.ms < 1000);
  });
});

describe('GCP metadata parsing', () => {
  const cases: { name: string; run: () => unknown; expected: unknown }[] = [
    { name: 'preempted TRUE', run: () => parsePreempted('TRUE'), expected: true },
    { name: 'preempted FALSE with a newline', run: () => parsePreempted('FALSE\n'), expected: false },
    { name: 'maintenance NONE', run: () => parseMaintenanceEvent('NONE'), expected: 'NONE' },
    { name: 'maintenance MIGRATE', run: () => parseMaintenanceEvent('MIGRATE_ON_HOST_MAINTENANCE'), expected: 'MIGRATE_ON_HOST_MAINTENANCE' },
    { name: 'machine type', run: () => parseResourceName('m', 'machineTypes', 'projects/123/machineTypes/n2-standard-4'), expected: 'n2-standard-4' },
    { name: 'zone', run: () => parseResourceName('z', 'zones', 'projects/123/zones/us-central1-a'), expected: 'us-central1-a' },
    { name: 'provisioning SPOT', run: () => parseProvisioningModel('SPOT'), expected: 'spot' },
    { name: 'provisioning STANDARD', run: () => parseProvisioningModel('STANDARD'), expected: 'on-demand' },
    { name: 'provisioning an unknown model', run: () => parseProvisioningModel('SOMETHING_NEW'), expected: 'unknown' },
    { name: 'preemptible TRUE', run: () => parsePreemptible('TRUE'), expected: 'spot' },
    { name: 'preemptible FALSE', run: () => parsePreemptible('FALSE'), expected: 'on-demand' },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(c.run(), c.expected));

  const malformed: { name: string; run: () => unknown }[] = [
    { name: 'preempted true (lower case)', run: () => parsePreempted('true') },
    { name: 'preempted empty', run: () => parsePreempted('') },
    { name: 'maintenance HTML', run: () => parseMaintenanceEvent('<html>') },
    { name: 'machine type without project', run: () => parseResourceName('m', 'machineTypes', 'n2-standard-4') },
    { name: 'zone in the wrong collection', run: () => parseResourceName('z', 'zones', 'projects/123/regions/us-central1') },
    { name: 'preemptible yes', run: () => parsePreemptible('yes') },
  ];
  for (const c of malformed) it(`${c.name} → E_METADATA_MALFORMED`, () => assert.throws(c.run, (err) => isSpotguardError(err, 'E_METADATA_MALFORMED')));

  it('trackNotices keeps first-seen times and names maintenance by value and first ETag', () => {
    const seen = (preempted: boolean, maintenance: string, etag: string | null) => ({
      preempted: { value: preempted, etag: 'p' },
      maintenance: { value: maintenance, etag },
    });
    const steps: { seen: ReturnType<typeof seen>; now: number; ids: string[]; detectedAt: number[] }[] = [
      { seen: seen(false, 'NONE', 'a'), now: 1, ids: [], detectedAt: [] },
      { seen: seen(false, 'MIGRATE_ON_HOST_MAINTENANCE', 'b'), now: 2, ids: ['gcp:scheduled-maintenance:MIGRATE_ON_HOST_MAINTENANCE:b'], detectedAt: [2] },
      { seen: seen(true, 'MIGRATE_ON_HOST_MAINTENANCE', 'c'), now: 3, ids: ['gcp:spot-interruption:42', 'gcp:scheduled-maintenance:MIGRATE_ON_HOST_MAINTENANCE:b'], detectedAt: [3, 2] },
      { seen: seen(true, 'TERMINATE_ON_HOST_MAINTENANCE', null), now: 4, ids: ['gcp:spot-interruption:42', 'gcp:scheduled-maintenance:TERMINATE_ON_HOST_MAINTENANCE:4'], detectedAt: [3, 4] },
      { seen: seen(false, 'NONE', 'a'), now: 5, ids: [], detectedAt: [] },
    ];
    let state = noDetections;
    for (const step of steps) {
      state = trackNotices(state, step.seen, step.now, '42');
      const notices = [state.preemption, state.maintenance].filter((n) => n !== null);
      assert.deepEqual(notices.map((n) => n.id), step.ids, `at ${step.now}`);
      assert.deepEqual(notices.map((n) => n.detectedAt), step.detectedAt, `at ${step.now}`);
    }
  });
});
