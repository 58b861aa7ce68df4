import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../../../core/clock.ts';
import { isSpotguardError, type ErrorCode } from '../../../../core/errors.ts';
import { createLogger } from '../../../../core/log/create-logger.ts';
import { createAwsImdsSource, type AwsSourceOptions } from '../../../../agent/sources/aws-imds.ts';
import { capacityOfLifeCycle, parseAwsEventDate, parseInstanceAction, parseScheduledEvents } from '../../../../agent/sources/aws-imds-parse.ts';
import type { NoticeSource } from '../../../../agent/sources/notice-source.ts';
import { SimulatorState } from '../../../simulators/simulator-state.ts';
import { startSimulatorServer, type RunningSimulator } from '../../../simulators/simulator-server.ts';
import { awsDefaultIdentity, awsImdsHandler } from '../../../simulators/aws-imds-simulator.ts';

/** One manual clock shared by the source and the simulator, so token expiry can be stepped through. */
function manualClock(start: number): Clock & { advance(ms: number): void } {
  let now = start;
  return {
    now: () => now,
    sleep: (_ms, signal) => (signal?.aborted ? Promise.reject(signal.reason) : new Promise((r) => setImmediate(r))),
    advance: (ms) => {
      now += ms;
    },
  };
}

const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const signal = new AbortController().signal;
const log = createLogger({ level: 'silent', format: 'json' });

interface World {
  sim: RunningSimulator;
  clock: ReturnType<typeof manualClock>;
  source: (options?: Partial<AwsSourceOptions>) => NoticeSource;
  control: (method: string, path: string, body?: unknown) => Promise<unknown>;
  requests: () => Promise<Array<{ method: string; path: string; headers: Record<string, string>; status: number | string }>>;
}

async function world(): Promise<World> {
  const clock = manualClock(t0);
  const state = new SimulatorState('aws', clock, { ...awsDefaultIdentity });
  const sim = await startSimulatorServer(state, awsImdsHandler(state), { host: '127.0.0.1', port: 0 });
  const sources: NoticeSource[] = [];
  const control = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(sim.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(res.ok, `${method} ${path}: ${res.status}`);
    return res.json();
  };
  return {
    sim,
    clock,
    control,
    source: (options = {}) => {
      const s = createAwsImdsSource({ baseUrl: sim.url, clock, log, tokenTimeoutMs: 300, ...options });
      sources.push(s);
      return s;
    },
    requests: async () => ((await control('GET', '/_spotguard/requests')) as { requests: [] }).requests,
  };
}

async function codeOf(work: Promise<unknown>): Promise<ErrorCode | 'none'> {
  try {
    await work;
    return 'none';
  } catch (err) {
    assert.ok(isSpotguardError(err), `a SpotguardError, not ${String(err)}`);
    return err.code;
  }
}

describe('AWS IMDS source against the simulator', () => {
  let w: World;
  before(async () => {
    w = await world();
  });
  after(() => w.sim.close());

  it('uses one IMDSv2 token for many polls, and refreshes it before it expires', async () => {
    await w.control('DELETE', '/_spotguard/requests');
    const source = w.source({ tokenTtlSeconds: 600 });
    await source.poll(signal);
    await source.poll(signal);
    let puts = (await w.requests()).filter((r) => r.method === 'PUT');
    assert.equal(puts.length, 1, 'one token for two polls');
    const gets = (await w.requests()).filter((r) => r.method === 'GET');
    assert.ok(gets.length >= 6 && gets.every((g) => typeof g.headers['x-aws-ec2-metadata-token'] === 'string'), 'every GET carries the token');
    w.clock.advance(545_000); // within the last minute of 600 s
    await source.poll(signal);
    puts = (await w.requests()).filter((r) => r.method === 'PUT');
    assert.equal(puts.length, 2, 'refreshed before expiry');
    assert.ok((await w.requests()).every((r) => r.status !== 401), 'never used an expired token');
    await source.close();
  });

  it('on 401 fetches a new token and retries once; a second 401 is E_METADATA_TOKEN', async () => {
    const source = w.source();
    await source.poll(signal);
    await w.control('POST', '/_spotguard/aws/tokens/revoke');
    await w.control('DELETE', '/_spotguard/requests');
    assert.deepEqual(await source.poll(signal), []);
    const statuses = (await w.requests()).map((r) => `${r.method} ${r.status}`);
    assert.ok(statuses.includes('GET 401') && statuses.filter((s) => s === 'PUT 200').length >= 1, statuses.join(', '));
    await w.control('POST', '/_spotguard/faults', { type: 'status', status: 401, path: '/latest/meta-data/instance-id', times: 2 });
    assert.equal(await codeOf(source.identity(signal)), 'E_METADATA_TOKEN');
    await w.control('DELETE', '/_spotguard/faults');
    await source.close();
  });

  it('falls back to IMDSv1 when the token PUT gets no answer (hop limit), and tries v2 again later', async () => {
    await w.control('PATCH', '/_spotguard/aws', { hopLimitExceeded: true });
    await w.control('DELETE', '/_spotguard/requests');
    const source = w.source({ v2RetryMs: 60_000 });
    assert.equal((await source.identity(signal)).id, awsDefaultIdentity.id);
    await source.poll(signal);
    const gets = (await w.requests()).filter((r) => r.method === 'GET');
    assert.ok(gets.length > 0 && gets.every((g) => g.headers['x-aws-ec2-metadata-token'] === undefined), 'v1 requests carry no token');
    const unanswered = ((await w.control('GET', '/_spotguard/aws')) as { unansweredTokenRequests: number }).unansweredTokenRequests;
    assert.equal(unanswered, 1, 'one unanswered PUT, not one per request while on v1');
    await w.control('PATCH', '/_spotguard/aws', { hopLimitExceeded: false });
    w.clock.advance(61_000);
    await source.poll(signal);
    const last = (await w.requests()).filter((r) => r.method === 'GET').at(-1);
    assert.equal(typeof last?.headers['x-aws-ec2-metadata-token'], 'string', 'back on v2');
    await source.close();
  });

  it('IMDSv2-only instances refuse v1: with hop limit and required tokens nothing can be read', async () => {
    await w.control('PATCH', '/_spotguard/aws', { hopLimitExceeded: true, httpTokens: 'required' });
    const source = w.source();
    assert.equal(await codeOf(source.poll(signal)), 'E_METADATA_TOKEN');
    await w.control('PATCH', '/_spotguard/aws', { hopLimitExceeded: false, httpTokens: 'optional' });
    await source.close();
  });

  const actions = ['terminate', 'stop', 'hibernate'];
  for (const action of actions) {
    it(`spot instance-action ${action} → spot-interruption with the provider's time as deadline`, async () => {
      const source = w.source();
      const created = (await w.control('POST', '/_spotguard/notices', { kind: 'spot-interruption', action, in: '120s' })) as { id: string };
      const [first] = await source.poll(signal);
      assert.equal(first?.kind, 'spot-interruption');
      assert.equal(first?.action, action);
      assert.equal(first?.deadline, w.clock.now() + 120_000 - ((w.clock.now() + 120_000) % 1000));
      assert.equal(first?.detectedAt, w.clock.now());
      w.clock.advance(500);
      const [again] = await source.poll(signal);
      assert.deepEqual([again?.id, again?.detectedAt, again?.deadline], [first?.id, first?.detectedAt, first?.deadline], 'repeated polls: same notice');
      await w.control('DELETE', `/_spotguard/notices/${created.id}`);
      assert.deepEqual(await source.poll(signal), []);
      await source.close();
    });
  }

  it('rebalance recommendation and scheduled maintenance: active events only, NotAfter optional', async () => {
    const source = w.source();
    await w.control('POST', '/_spotguard/notices', { kind: 'rebalance-recommendation' });
    await w.control('POST', '/_spotguard/notices', { kind: 'scheduled-maintenance', action: 'system-reboot', in: '48h', duration: '2h' });
    await w.control('POST', '/_spotguard/notices', { kind: 'scheduled-maintenance', action: 'instance-stop', in: '24h' });
    const cancelled = (await w.control('POST', '/_spotguard/notices', { kind: 'scheduled-maintenance', action: 'instance-retirement', in: '72h' })) as { id: string };
    await w.control('DELETE', `/_spotguard/notices/${cancelled.id}`);
    const notices = await source.poll(signal);
    const kinds = notices.map((n) => `${n.kind}:${n.action}`).sort();
    assert.deepEqual(kinds, ['rebalance-recommendation:rebalance', 'scheduled-maintenance:instance-stop', 'scheduled-maintenance:system-reboot']);
    const reboot = notices.find((n) => n.action === 'system-reboot');
    assert.equal(reboot?.startsAt, reboot?.deadline);
    assert.ok(Math.abs((reboot?.startsAt ?? 0) - (w.clock.now() + 48 * 3_600_000)) < 1000);
    assert.equal(notices.find((n) => n.kind === 'rebalance-recommendation')?.deadline, null);
    await w.control('DELETE', '/_spotguard/notices');
    await source.close();
  });

  const faults: Array<{ name: string; fault: Record<string, unknown>; code: ErrorCode }> = [
    { name: '5xx', fault: { type: 'status', status: 503, path: '/latest/meta-data/spot' }, code: 'E_METADATA_HTTP' },
    { name: 'reset', fault: { type: 'reset', path: '/latest/meta-data/spot' }, code: 'E_METADATA_UNAVAILABLE' },
    { name: 'hang', fault: { type: 'hang', path: '/latest/meta-data/spot' }, code: 'E_METADATA_UNAVAILABLE' },
    { name: 'malformed body', fault: { type: 'malformed', path: '/latest/meta-data/spot' }, code: 'E_METADATA_MALFORMED' },
  ];
  for (const f of faults) {
    it(`a ${f.name} is ${f.code}, and the next poll works`, async () => {
      const source = w.source({ requestTimeoutMs: 500 });
      await w.control('POST', '/_spotguard/notices', { kind: 'spot-interruption' });
      await w.control('POST', '/_spotguard/faults', f.fault);
      assert.equal(await codeOf(source.poll(signal)), f.code);
      assert.equal((await source.poll(signal)).length, 1);
      await w.control('DELETE', '/_spotguard/notices');
      await source.close();
    });
  }

  it('identity: id, type, zone and capacity from instance-life-cycle', async () => {
    const source = w.source();
    assert.deepEqual(await source.identity(signal), { provider: 'aws', id: 'i-0abc1234def567890', type: 'm5.xlarge', zone: 'us-east-1a', capacity: 'spot' });
    await w.control('PATCH', '/_spotguard/instance', { capacity: 'on-demand' });
    assert.equal((await source.identity(signal)).capacity, 'on-demand');
    await w.control('PATCH', '/_spotguard/instance', { capacity: 'spot' });
    await source.close();
  });
});

describe('AWS IMDS parsing', () => {
  const seen = (): number => t0;
  it('event dates: `2 Jan 2006 15:04:05 GMT`, and nothing else', () => {
    assert.equal(parseAwsEventDate('21 Jan 2019 09:00:43 GMT', 'p'), Date.UTC(2019, 0, 21, 9, 0, 43));
    assert.equal(parseAwsEventDate('2 Jan 2006 15:04:05 GMT', 'p'), Date.UTC(2006, 0, 2, 15, 4, 5));
    for (const bad of ['2019-01-21T09:00:43Z', '31 Feb 2019 09:00:43 GMT', '21 Foo 2019 09:00:43 GMT', '21 Jan 2019 09:00:43']) {
      assert.throws(() => parseAwsEventDate(bad, '/p'), { code: 'E_METADATA_MALFORMED' }, bad);
    }
  });
  it('malformed instance-action documents name the path', () => {
    for (const body of ['not json', '{}', '{"action":"terminate"}', '{"action":"terminate","time":"soon"}', 'null']) {
      assert.throws(() => parseInstanceAction(body, '/latest/meta-data/spot/instance-action', seen), { code: 'E_METADATA_MALFORMED', message: /spot\/instance-action/ }, body);
    }
  });
  it('scheduled events: states, missing NotAfter, empty list', () => {
    const ev = (State: string, extra: Record<string, string> = {}): Record<string, string> => ({ Code: 'system-reboot', EventId: `instance-event-${State}`, NotBefore: '21 Jan 2027 09:00:43 GMT', State, ...extra });
    const body = JSON.stringify([ev('active'), ev('canceled'), ev('completed'), ev('active', { EventId: 'instance-event-2', NotAfter: '21 Jan 2027 10:00:00 GMT' })]);
    assert.deepEqual(parseScheduledEvents(body, '/p', seen).map((n) => n.id), ['aws:scheduled-maintenance:instance-event-active', 'aws:scheduled-maintenance:instance-event-2']);
    assert.deepEqual(parseScheduledEvents('[]', '/p', seen), []);
    assert.throws(() => parseScheduledEvents('{"a":1}', '/p', seen), { code: 'E_METADATA_MALFORMED' });
  });
  it('capacity from instance-life-cycle', () => {
    assert.deepEqual(['spot', 'on-demand', 'normal', 'scheduled', null].map(capacityOfLifeCycle), ['spot', 'on-demand', 'on-demand', 'unknown', 'unknown']);
  });
});
