import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { manualClock } from '../../../fixtures/manual-clock.ts';
import { isSpotguardError, type ErrorCode } from '../../../../core/errors.ts';
import { createLogger } from '../../../../core/log/create-logger.ts';
import { createAwsImdsSource, type AwsSourceOptions } from '../../../../agent/sources/aws-imds.ts';
import type { NoticeSource } from '../../../../agent/sources/notice-source.ts';
import { SimulatorState } from '../../../simulators/simulator-state.ts';
import { startSimulatorServer, type RunningSimulator } from '../../../simulators/simulator-server.ts';
import { awsDefaultIdentity, awsImdsHandler } from '../../../simulators/aws-imds-simulator.ts';


const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const signal = new AbortController().signal;
const log = createLogger({ level: 'silent', format: 'json' });
const tokenHeader = 'x-aws-ec2-metadata-token';

interface Logged { method: string; path: string; headers: Record<string, string>; status: number | string }

/** A fresh simulator on a manual clock, the sources made against it, and its control API. */
async function world() {
  const clock = manualClock(t0);
  const state = new SimulatorState('aws', clock, { ...awsDefaultIdentity });
  const sim: RunningSimulator = await startSimulatorServer(state, awsImdsHandler(state), { host: '127.0.0.1', port: 0 });
  const sources: NoticeSource[] = [];
  const control = async <T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(sim.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(res.ok, `${method} ${path}: ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    clock,
    control,
    source(options: Partial<AwsSourceOptions> = {}): NoticeSource {
      const s = createAwsImdsSource({ baseUrl: sim.url, clock, log, tokenTimeoutMs: 200, requestTimeoutMs: 500, ...options });
      sources.push(s);
      return s;
    },
    notice: (body: Record<string, unknown>) => control<{ id: string }>('POST', '/_spotguard/notices', body),
    fault: (body: Record<string, unknown>) => control('POST', '/_spotguard/faults', body),
    settings: (body: Record<string, unknown>) => control('PATCH', '/_spotguard/aws', body),
    requests: async (method?: string): Promise<Logged[]> =>
      (await control<{ requests: Logged[] }>('GET', '/_spotguard/requests')).requests.filter((r) => method === undefined || r.method === method),
    unansweredPuts: async () => (await control<{ unansweredTokenRequests: number }>('GET', '/_spotguard/aws')).unansweredTokenRequests,
    async close() {
      await Promise.all(sources.map((s) => s.close()));
      await sim.close();
    },
  };
}
type World = Awaited<ReturnType<typeof world>>;

async function codeOf(work: Promise<unknown>): Promise<ErrorCode | 'none'> {
  try {
    await work;
    return 'none';
  } catch (err) {
    assert.ok(isSpotguardError(err), `a SpotguardError, not ${String(err)}`);
    return err.code;
  }
}

let w: World;
beforeEach(async () => {
  w = await world();
});
afterEach(() => w.close());

describe('AWS IMDS source: IMDSv2 tokens', () => {
  it('fetches one token, sends it on every read, and reuses it across polls', async () => {
    const source = w.source();
    await source.poll(signal);
    await source.poll(signal);
    await source.identity(signal);
    assert.equal((await w.requests('PUT')).length, 1);
    const gets = await w.requests('GET');
    assert.equal(gets.length, 10);
    assert.ok(gets.every((g) => typeof g.headers[tokenHeader] === 'string' && g.status !== 401));
  });

  const refreshes = [
    { ttl: 600, stillValid: 539_000, renewed: 541_000, why: 'a minute before a long TTL ends' },
    { ttl: 10, stillValid: 8_900, renewed: 9_100, why: 'a tenth before a short TTL ends' },
  ];
  for (const r of refreshes) {
    it(`renews the token on the clock, ${r.why}, never sending an expired one`, async () => {
      const source = w.source({ tokenTtlSeconds: r.ttl });
      await source.poll(signal);
      w.clock.advance(r.stillValid);
      await source.poll(signal);
      assert.equal((await w.requests('PUT')).length, 1, 'still the first token');
      w.clock.advance(r.renewed - r.stillValid);
      await source.poll(signal);
      assert.equal((await w.requests('PUT')).length, 2, 'renewed');
      w.clock.advance(r.ttl * 1000 - 1);
      await source.poll(signal);
      assert.ok((await w.requests()).every((q) => q.status !== 401), 'no request was refused');
    });
  }

  it('on 401 fetches one new token and retries each read once', async () => {
    const source = w.source();
    await source.poll(signal);
    await w.control('POST', '/_spotguard/aws/tokens/revoke');
    await w.control('DELETE', '/_spotguard/requests');
    await w.notice({ kind: 'spot-interruption' });
    assert.equal((await source.poll(signal)).length, 1);
    const log = await w.requests();
    assert.equal(log.filter((q) => q.method === 'PUT').length, 1, 'one new token for three refused reads');
    assert.equal(log.filter((q) => q.status === 401).length, 3);
    const retried = log.filter((q) => q.method === 'GET' && q.status !== 401);
    assert.equal(retried.length, 3);
    assert.equal(new Set(retried.map((q) => q.headers[tokenHeader])).size, 1, 'all retried with the new token');
  });

  it('a second 401 after the new token is E_METADATA_TOKEN, with no third try', async () => {
    const source = w.source();
    await w.fault({ type: 'status', status: 401, path: '/latest/meta-data/instance-id', times: 2 });
    assert.equal(await codeOf(source.identity(signal)), 'E_METADATA_TOKEN');
    assert.equal((await w.requests('GET')).filter((q) => q.path === '/latest/meta-data/instance-id').length, 2);
    assert.equal((await source.identity(signal)).id, awsDefaultIdentity.id, 'the next call works');
  });

  const tokenFaults = [
    { name: '403 (IMDS off, or forwarded)', fault: { type: 'status', status: 403 }, code: 'E_METADATA_TOKEN' },
    { name: '400', fault: { type: 'status', status: 400 }, code: 'E_METADATA_TOKEN' },
    { name: '500', fault: { type: 'status', status: 500 }, code: 'E_METADATA_TOKEN' },
    { name: 'reset (IMDS unreachable, v1 would not help)', fault: { type: 'reset' }, code: 'E_METADATA_UNAVAILABLE' },
  ] as const;
  for (const f of tokenFaults) {
    it(`a token PUT answered with ${f.name} is ${f.code}; the next poll gets a token`, async () => {
      const source = w.source();
      await w.fault({ ...f.fault, path: '/latest/api/token' });
      assert.equal(await codeOf(source.poll(signal)), f.code);
      await source.poll(signal);
      const last = (await w.requests('GET')).at(-1);
      assert.equal(typeof last?.headers[tokenHeader], 'string', 'back on IMDSv2, not fallen back to v1');
    });
  }
});

describe('AWS IMDS source: IMDSv1 fallback (hop limit)', () => {
  it('falls back to v1 when the token PUT gets no answer, sends no token, and tries v2 again later', async () => {
    await w.settings({ hopLimitExceeded: true });
    const source = w.source({ v2RetryMs: 60_000 });
    await w.notice({ kind: 'spot-interruption' });
    assert.equal((await source.identity(signal)).id, awsDefaultIdentity.id);
    assert.equal((await source.poll(signal))[0]?.kind, 'spot-interruption');
    w.clock.advance(59_000);
    await source.poll(signal);
    const gets = await w.requests('GET');
    assert.equal(gets.length, 10);
    assert.ok(gets.every((g) => g.headers[tokenHeader] === undefined && g.status !== 401), 'v1 reads, no token header');
    assert.equal(await w.unansweredPuts(), 1, 'one unanswered PUT, shared, and not repeated before v2RetryMs');
    await w.settings({ hopLimitExceeded: false });
    w.clock.advance(2_000);
    await source.poll(signal);
    assert.equal(typeof (await w.requests('GET')).at(-1)?.headers[tokenHeader], 'string', 'back on v2');
  });

  it('on v1, a 401 (tokens now required) fetches a token at once', async () => {
    await w.settings({ hopLimitExceeded: true });
    const source = w.source();
    await source.poll(signal);
    await w.settings({ hopLimitExceeded: false, httpTokens: 'required' });
    assert.deepEqual(await source.poll(signal), []);
    assert.equal(typeof (await w.requests('GET')).at(-1)?.headers[tokenHeader], 'string');
  });

  it('tokens required and the PUT unanswered: E_METADATA_TOKEN saying so', async () => {
    await w.settings({ hopLimitExceeded: true, httpTokens: 'required' });
    const source = w.source();
    await assert.rejects(source.poll(signal), { code: 'E_METADATA_TOKEN', message: /token request got no answer/ });
  });

  it('an aborted poll stops at once with the caller’s reason', async () => {
    await w.settings({ hopLimitExceeded: true });
    const source = w.source({ tokenTimeoutMs: 5000 });
    const controller = new AbortController();
    const polling = source.poll(controller.signal);
    setTimeout(() => controller.abort(new Error('shutting down')), 20);
    await assert.rejects(polling, { message: 'shutting down' });
  });
});

describe('AWS IMDS source: notices', () => {
  const actions = [
    { action: 'terminate', lead: 120_000 },
    { action: 'stop', lead: 120_000 },
    { action: 'hibernate', lead: 0 }, // hibernation starts at once: no two-minute warning
  ];
  for (const { action, lead } of actions) {
    it(`instance-action ${action} → spot-interruption, deadline = its time, the same on every poll`, async () => {
      const source = w.source();
      const created = await w.notice({ kind: 'spot-interruption', action });
      const time = new Date(t0 + lead).toISOString().replace('.000', '');
      const first = await source.poll(signal);
      assert.deepEqual(first, [
        { id: `aws:spot-interruption:${action}:${time}`, provider: 'aws', kind: 'spot-interruption', action, deadline: t0 + lead, detectedAt: t0, raw: { action, time } },
      ]);
      w.clock.advance(500);
      assert.deepEqual(await source.poll(signal), first, 'same id, detectedAt and deadline');
      await w.control('DELETE', `/_spotguard/notices/${created.id}`);
      assert.deepEqual(await source.poll(signal), []);
    });
  }

  it('rebalance recommendation → an early warning without deadline', async () => {
    const source = w.source();
    w.clock.advance(7_000);
    await w.notice({ kind: 'rebalance-recommendation' });
    const noticeTime = '2026-11-23T10:00:07Z';
    assert.deepEqual(await source.poll(signal), [
      { id: `aws:rebalance-recommendation:${noticeTime}`, provider: 'aws', kind: 'rebalance-recommendation', action: 'rebalance', deadline: null, detectedAt: t0 + 7_000, raw: { noticeTime } },
    ]);
  });

  const hour = 3_600_000;
  const events = [
    { name: 'active with a window', req: { action: 'system-reboot', in: '48h', duration: '2h' }, advance: 0, notice: true },
    { name: 'active without NotAfter', req: { action: 'instance-stop', in: '24h' }, advance: 0, notice: true },
    { name: 'active, retirement', req: { action: 'instance-retirement', in: '72h' }, advance: 0, notice: true },
    { name: 'canceled', req: { action: 'instance-reboot', in: '24h' }, cancel: true, advance: 0, notice: false },
    { name: 'completed (past NotAfter)', req: { action: 'system-maintenance', in: '1h', duration: '1h' }, advance: 2 * hour, notice: false },
    { name: 'completed (state given)', req: { action: 'system-reboot', in: '1h', state: 'completed' }, advance: 0, notice: false },
  ];
  for (const e of events) {
    it(`scheduled event ${e.name} → ${e.notice ? 'a scheduled-maintenance notice starting at NotBefore' : 'no notice'}`, async () => {
      const source = w.source();
      const created = await w.notice({ kind: 'scheduled-maintenance', ...e.req });
      if (e.cancel) await w.control('DELETE', `/_spotguard/notices/${created.id}`);
      w.clock.advance(e.advance);
      const notices = await source.poll(signal);
      if (!e.notice) return assert.deepEqual(notices, []);
      const start = t0 + Number(e.req.in.replace('h', '')) * hour;
      const [n] = notices;
      assert.equal(notices.length, 1);
      assert.match(n?.id ?? '', /^aws:scheduled-maintenance:instance-event-[0-9a-f]{17}$/);
      assert.deepEqual([n?.kind, n?.action, n?.startsAt, n?.deadline, n?.detectedAt], ['scheduled-maintenance', e.req.action, start, start, t0]);
    });
  }

  it('a notice gone and back is detected anew', async () => {
    const source = w.source();
    const first = await w.notice({ kind: 'spot-interruption', id: 'one' });
    await source.poll(signal);
    await w.control('DELETE', `/_spotguard/notices/${first.id}`);
    await source.poll(signal);
    w.clock.advance(1_000);
    await w.notice({ kind: 'spot-interruption', in: '119s' });
    assert.equal((await source.poll(signal))[0]?.detectedAt, t0 + 1_000);
  });
});

describe('AWS IMDS source: faults are SpotguardErrors, and the next poll works', () => {
  const spot = '/latest/meta-data/spot/instance-action';
  const faults: Array<{ name: string; fault?: Record<string, unknown>; documents?: Record<string, string>; code: ErrorCode; path?: RegExp }> = [
    { name: '503', fault: { type: 'status', status: 503, path: spot }, code: 'E_METADATA_HTTP' },
    { name: '500 on scheduled events', fault: { type: 'status', status: 500, path: '/latest/meta-data/events' }, code: 'E_METADATA_HTTP' },
    { name: '429', fault: { type: 'status', status: 429, path: spot }, code: 'E_METADATA_THROTTLED' },
    { name: 'connection reset', fault: { type: 'reset', path: spot }, code: 'E_METADATA_UNAVAILABLE' },
    { name: 'no answer', fault: { type: 'hang', path: spot }, code: 'E_METADATA_UNAVAILABLE' },
    { name: 'truncated JSON', fault: { type: 'malformed', path: spot }, code: 'E_METADATA_MALFORMED', path: /spot\/instance-action/ },
    { name: 'instance-action not JSON', documents: { 'spot/instance-action': 'terminate' }, code: 'E_METADATA_MALFORMED', path: /spot\/instance-action/ },
    { name: 'instance-action bad time', documents: { 'spot/instance-action': '{"action":"stop","time":"in 2 minutes"}' }, code: 'E_METADATA_MALFORMED', path: /instance-action/ },
    { name: 'rebalance bad noticeTime', documents: { 'events/recommendations/rebalance': '{"noticeTime":"2026-02-30T10:00:00Z"}' }, code: 'E_METADATA_MALFORMED', path: /rebalance/ },
    { name: 'scheduled bad NotBefore', documents: { 'events/maintenance/scheduled': '[{"Code":"system-reboot","EventId":"instance-event-1","State":"active","NotBefore":"2027-01-21T09:00:43Z"}]' }, code: 'E_METADATA_MALFORMED', path: /maintenance\/scheduled/ },
    { name: 'scheduled not a list', documents: { 'events/maintenance/scheduled': '{"Events":[]}' }, code: 'E_METADATA_MALFORMED', path: /maintenance\/scheduled/ },
  ];
  for (const f of faults) {
    it(`${f.name} → ${f.code}`, async () => {
      const source = w.source();
      await w.notice({ kind: 'spot-interruption' });
      if (f.fault) await w.fault(f.fault);
      if (f.documents) await w.settings({ documents: f.documents });
      await assert.rejects(source.poll(signal), (err) => isSpotguardError(err, f.code) && (!f.path || f.path.test(err.message)));
      await w.settings({ documents: {} });
      assert.equal((await source.poll(signal)).length, 1);
    });
  }
});

describe('AWS IMDS source: identity', () => {
  const lifeCycles = [
    { served: 'spot', capacity: 'spot' },
    { served: 'on-demand', capacity: 'on-demand' },
    { served: 'normal', capacity: 'on-demand' },
    { served: 'scheduled', capacity: 'unknown' },
    { served: null, capacity: 'unknown' },
  ];
  for (const l of lifeCycles) {
    it(`instance-life-cycle ${l.served ?? '(404)'} → capacity ${l.capacity}`, async () => {
      await w.settings({ documents: { 'instance-life-cycle': l.served } });
      const expected = { provider: 'aws', id: awsDefaultIdentity.id, type: 'm5.xlarge', zone: 'us-east-1a', capacity: l.capacity };
      assert.deepEqual(await w.source().identity(signal), expected);
    });
  }

  it('a missing instance-id is E_METADATA_MALFORMED naming the path', async () => {
    await w.settings({ documents: { 'instance-id': null } });
    await assert.rejects(w.source().identity(signal), { code: 'E_METADATA_MALFORMED', message: /instance-id/ });
  });
});
