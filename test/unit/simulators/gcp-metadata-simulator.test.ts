import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../core/clock.ts';
import { SimulatorState, type SimIdentity } from '../../simulators/simulator-state.ts';
import { startSimulatorServer, type RunningSimulator } from '../../simulators/simulator-server.ts';
import { gcpDefaultIdentity, gcpEtag, gcpMetadataHandler } from '../../simulators/gcp-metadata-simulator.ts';

const v1 = '/computeMetadata/v1/';
const flavor = { 'Metadata-Flavor': 'Google' };

async function startGcp(identity: Partial<SimIdentity> = {}): Promise<RunningSimulator> {
  const state = new SimulatorState('gcp', systemClock, { ...gcpDefaultIdentity, ...identity });
  return startSimulatorServer(state, gcpMetadataHandler(state), { host: '127.0.0.1', port: 0 });
}

async function get(sim: RunningSimulator, path: string, headers: Record<string, string> = flavor) {
  const started = performance.now();
  const res = await fetch(sim.url + path, { headers });
  return { status: res.status, headers: res.headers, body: await res.text(), ms: performance.now() - started };
}

async function control(sim: RunningSimulator, method: string, path: string, body?: unknown) {
  const res = await fetch(sim.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GCP metadata simulator', () => {
  let sim: RunningSimulator;
  before(async () => {
    sim = await startGcp();
  });
  after(() => sim.close());
  beforeEach(async () => {
    await control(sim, 'DELETE', '/_spotguard/notices');
    await control(sim, 'PATCH', '/_spotguard/gcp', { legacyScheduling: false });
  });

  describe('refuses requests a guest library would not send', () => {
    const cases: { name: string; headers: Record<string, string>; says: RegExp }[] = [
      { name: 'no Metadata-Flavor header', headers: {}, says: /Missing Metadata-Flavor:Google header\./ },
      { name: 'a Metadata-Flavor other than Google', headers: { 'Metadata-Flavor': 'Amazon' }, says: /Missing Metadata-Flavor:Google header\./ },
      { name: 'X-Forwarded-For (a proxied request)', headers: { ...flavor, 'X-Forwarded-For': '10.0.0.7' }, says: /does not have permission/ },
    ];
    for (const c of cases) {
      it(`403 with Google's error page for ${c.name}`, async () => {
        const res = await get(sim, `${v1}instance/id`, c.headers);
        assert.equal(res.status, 403);
        assert.equal(res.headers.get('content-type'), 'text/html; charset=UTF-8');
        assert.equal(res.headers.get('metadata-flavor'), 'Google');
        assert.match(res.body, /Error 403 \(Forbidden\)/);
        assert.match(res.body, c.says);
        assert.match(res.body, /<code>\/computeMetadata\/v1\/instance\/id<\/code>/);
      });
    }
  });

  describe('serves values as application/text with a Metadata-Flavor and an ETag', () => {
    const cases = [
      { path: 'instance/id', body: '4520031799277581759' },
      { path: 'instance/name', body: 'gke-spark-spot-pool-7c1f2e9a-x4kq' },
      { path: 'instance/zone', body: 'projects/123456789012/zones/us-central1-a' },
      { path: 'instance/machine-type', body: 'projects/123456789012/machineTypes/n2-standard-4' },
      { path: 'instance/preempted', body: 'FALSE' },
      { path: 'instance/maintenance-event', body: 'NONE' },
      { path: 'instance/scheduling/provisioning-model', body: 'SPOT' },
      { path: 'instance/scheduling/preemptible', body: 'TRUE' },
      { path: 'project/numeric-project-id', body: '123456789012' },
    ];
    for (const c of cases) {
      it(c.path, async () => {
        const res = await get(sim, v1 + c.path);
        assert.equal(res.status, 200);
        assert.equal(res.body, c.body);
        assert.equal(res.headers.get('content-type'), 'application/text');
        assert.equal(res.headers.get('metadata-flavor'), 'Google');
        assert.equal(res.headers.get('etag'), gcpEtag(c.body));
        assert.match(res.headers.get('etag') ?? '', /^[0-9a-f]{16}$/);
      });
    }
    it('alt=json quotes the value', async () => {
      const res = await get(sim, `${v1}instance/preempted?alt=json`);
      assert.equal(res.headers.get('content-type'), 'application/json');
      assert.equal(res.body, '"FALSE"');
    });
    it('an unknown key is a 404 error page', async () => {
      const res = await get(sim, `${v1}instance/no-such-key`);
      assert.equal(res.status, 404);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=UTF-8');
      assert.match(res.body, /The requested URL <code>\/computeMetadata\/v1\/instance\/no-such-key<\/code> was not found/);
    });
  });

  it('an on-demand VM says STANDARD, not preemptible', async () => {
    const onDemand = await startGcp({ capacity: 'on-demand' });
    try {
      assert.equal((await get(onDemand, `${v1}instance/scheduling/provisioning-model`)).body, 'STANDARD');
      assert.equal((await get(onDemand, `${v1}instance/scheduling/preemptible`)).body, 'FALSE');
    } finally {
      await onDemand.close();
    }
  });

  it('legacy scheduling (PATCH /_spotguard/gcp) hides provisioning-model but keeps preemptible', async () => {
    assert.deepEqual((await control(sim, 'PATCH', '/_spotguard/gcp', { legacyScheduling: true })).body.legacyScheduling, true);
    assert.equal((await get(sim, `${v1}instance/scheduling/provisioning-model`)).status, 404);
    assert.equal((await get(sim, `${v1}instance/scheduling/preemptible`)).body, 'TRUE');
    assert.equal((await control(sim, 'PATCH', '/_spotguard/gcp', { legacyScheduling: 'yes' })).status, 400);
  });

  describe('control API kinds', () => {
    const cases = [
      { request: { kind: 'spot-interruption' }, status: 201, action: 'preempted', leadMs: 30_000 },
      { request: { kind: 'scheduled-maintenance' }, status: 201, action: 'TERMINATE_ON_HOST_MAINTENANCE', leadMs: 60_000 },
      { request: { kind: 'scheduled-maintenance', action: 'MIGRATE_ON_HOST_MAINTENANCE', in: '90s' }, status: 201, action: 'MIGRATE_ON_HOST_MAINTENANCE', leadMs: 90_000 },
    ];
    for (const c of cases) {
      it(`${JSON.stringify(c.request)} → ${c.action} due in ${c.leadMs / 1000} s`, async () => {
        const res = await control(sim, 'POST', '/_spotguard/notices', c.request);
        assert.equal(res.status, c.status);
        assert.equal(res.body.action, c.action);
        assert.equal(Date.parse(res.body.at as string) - Date.parse(res.body.appearsAt as string), c.leadMs);
      });
    }
    it('rebalance-recommendation is refused: GCP has no such notice', async () => {
      const res = await control(sim, 'POST', '/_spotguard/notices', { kind: 'rebalance-recommendation' });
      assert.equal(res.status, 400);
      assert.match(res.body.error as string, /AWS notice; GCP has/);
    });
  });

  describe('values follow scheduled notices', () => {
    const cases = [
      { kind: 'spot-interruption', path: 'instance/preempted', before: 'FALSE', during: 'TRUE' },
      { kind: 'scheduled-maintenance', path: 'instance/maintenance-event', before: 'NONE', during: 'TERMINATE_ON_HOST_MAINTENANCE' },
    ];
    for (const c of cases) {
      it(`${c.kind}: ${c.path} ${c.before} → ${c.during} → ${c.before} when cancelled, ETag with it`, async () => {
        const idle = await get(sim, v1 + c.path);
        await control(sim, 'POST', '/_spotguard/notices', { kind: c.kind });
        const busy = await get(sim, v1 + c.path);
        assert.deepEqual([idle.body, busy.body], [c.before, c.during]);
        assert.notEqual(idle.headers.get('etag'), busy.headers.get('etag'));
        await control(sim, 'DELETE', '/_spotguard/notices');
        const back = await get(sim, v1 + c.path);
        assert.equal(back.body, c.before);
        assert.equal(back.headers.get('etag'), idle.headers.get('etag'), 'same value, same ETag');
      });
    }
  });

  describe('hanging GETs', () => {
    const preempted = `${v1}instance/preempted?wait_for_change=true`;

    it('without last_etag waits until the value changes', async () => {
      await control(sim, 'POST', '/_spotguard/notices', { kind: 'spot-interruption', after: '300ms' });
      const res = await get(sim, `${preempted}&timeout_sec=5`);
      assert.equal(res.body, 'TRUE');
      assert.ok(res.ms >= 250 && res.ms < 2000, `answered after ${Math.round(res.ms)} ms`);
    });

    it('with the current ETag waits, and after timeout_sec answers 200 with the unchanged value', async () => {
      const etag = gcpEtag('FALSE');
      const res = await get(sim, `${preempted}&last_etag=${etag}&timeout_sec=1`);
      assert.deepEqual([res.status, res.body, res.headers.get('etag')], [200, 'FALSE', etag]);
      assert.ok(res.ms >= 900 && res.ms < 2500, `answered after ${Math.round(res.ms)} ms`);
    });

    it('with a stale ETag answers at once', async () => {
      const res = await get(sim, `${preempted}&last_etag=0123456789abcdef&timeout_sec=30`);
      assert.equal(res.body, 'FALSE');
      assert.ok(res.ms < 500, `answered after ${Math.round(res.ms)} ms`);
    });

    it('a maintenance window ends by itself: NONE comes back at endsAt', async () => {
      await control(sim, 'POST', '/_spotguard/notices', { kind: 'scheduled-maintenance', in: '100ms', duration: '200ms' });
      const during = await get(sim, `${v1}instance/maintenance-event`);
      assert.equal(during.body, 'TERMINATE_ON_HOST_MAINTENANCE');
      const ended = await get(sim, `${v1}instance/maintenance-event?wait_for_change=true&last_etag=${during.headers.get('etag')}&timeout_sec=5`);
      assert.equal(ended.body, 'NONE');
      assert.ok(ended.ms >= 200 && ended.ms < 2000, `answered after ${Math.round(ended.ms)} ms`);
    });

    it('a cancelled notice wakes the watcher', async () => {
      await control(sim, 'POST', '/_spotguard/notices', { kind: 'spot-interruption' });
      const waiting = get(sim, `${preempted}&last_etag=${gcpEtag('TRUE')}&timeout_sec=5`);
      setTimeout(() => void control(sim, 'DELETE', '/_spotguard/notices'), 100);
      const res = await waiting;
      assert.equal(res.body, 'FALSE');
      assert.ok(res.ms < 2000);
    });

    it('close() ends hanging requests at once', async () => {
      const other = await startGcp();
      const waiting = get(other, preempted).then(
        () => 'answered',
        () => 'dropped',
      );
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      await other.close();
      assert.equal(await waiting, 'dropped');
      assert.ok(performance.now() - started < 1000);
    });
  });
});
