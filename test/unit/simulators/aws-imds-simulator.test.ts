import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../../core/clock.ts';
import { SimulatorState } from '../../simulators/simulator-state.ts';
import { startSimulatorServer, type RunningSimulator } from '../../simulators/simulator-server.ts';
import { awsDefaultIdentity, awsImdsHandler } from '../../simulators/aws-imds-simulator.ts';

const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);
const ttlHeader = 'x-aws-ec2-metadata-token-ttl-seconds';
const tokenHeader = 'x-aws-ec2-metadata-token';

let now = t0;
const clock: Clock = { now: () => now, sleep: () => Promise.resolve() };
let sim: RunningSimulator;

beforeEach(async () => {
  now = t0;
  const state = new SimulatorState('aws', clock, { ...awsDefaultIdentity });
  sim = await startSimulatorServer(state, awsImdsHandler(state), { host: '127.0.0.1', port: 0 });
});
afterEach(() => sim.close());

const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(sim.url + path, { headers });
const put = (headers: Record<string, string>): Promise<Response> => fetch(`${sim.url}/latest/api/token`, { method: 'PUT', headers });
async function token(ttl = '21600'): Promise<string> {
  const res = await put({ [ttlHeader]: ttl });
  assert.equal(res.status, 200);
  return res.text();
}
async function control(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(sim.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
}
async function schedule(body: Record<string, unknown>): Promise<{ id: string }> {
  const res = await control('POST', '/_spotguard/notices', body);
  assert.equal(res.status, 201, await res.clone().text());
  return (await res.json()) as { id: string };
}
const text = async (path: string): Promise<string> => (await get(path)).text();

describe('AWS IMDS simulator: tokens', () => {
  const puts: Array<[string, Record<string, string>, number]> = [
    ['no TTL header', {}, 400],
    ['TTL 0', { [ttlHeader]: '0' }, 400],
    ['TTL above 6 hours', { [ttlHeader]: '21601' }, 400],
    ['TTL not a number', { [ttlHeader]: 'abc' }, 400],
    ['forwarded through a proxy', { [ttlHeader]: '60', 'x-forwarded-for': '10.1.2.3' }, 403],
    ['TTL 1', { [ttlHeader]: '1' }, 200],
    ['TTL 21600', { [ttlHeader]: '21600' }, 200],
  ];
  for (const [name, headers, status] of puts) {
    it(`PUT /latest/api/token, ${name} → ${status}`, async () => {
      const res = await put(headers);
      assert.equal(res.status, status);
      const body = await res.text();
      if (status === 200) {
        assert.equal(res.headers.get(ttlHeader), headers[ttlHeader], 'granted TTL echoed');
        assert.equal(res.headers.get('content-type'), 'text/plain');
        assert.match(body, /^[A-Za-z0-9+/]{56}$/);
      } else {
        assert.equal(res.headers.get('content-type'), 'text/html');
        assert.match(body, new RegExp(`<title>${status} - `));
      }
    });
  }

  it('GET on the token path is 405; X-Forwarded-For on a GET is not refused', async () => {
    assert.equal((await get('/latest/api/token')).status, 405);
    assert.equal((await get('/latest/meta-data/instance-id', { 'x-forwarded-for': '10.1.2.3' })).status, 200);
  });

  it('tokens expire at their TTL on the clock; GETs report the seconds left; 401s have empty bodies', async () => {
    const good = await token('60');
    now += 59_500;
    const fresh = await get('/latest/meta-data/instance-id', { [tokenHeader]: good });
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers.get(ttlHeader), '1');
    now += 500;
    const expired = await get('/latest/meta-data/instance-id', { [tokenHeader]: good });
    assert.equal(expired.status, 401);
    assert.equal(await expired.text(), '');
    assert.equal((await get('/latest/meta-data/instance-id', { [tokenHeader]: 'forged' })).status, 401);
  });

  it('IMDSv1 works unless tokens are required; revoking invalidates every token', async () => {
    assert.equal((await get('/latest/meta-data/instance-id')).status, 200);
    assert.equal((await control('PATCH', '/_spotguard/aws', { httpTokens: 'required' })).status, 200);
    assert.equal((await get('/latest/meta-data/instance-id')).status, 401, 'IMDSv2 only');
    const issued = [await token(), await token()];
    assert.equal(((await (await control('POST', '/_spotguard/aws/tokens/revoke')).json()) as { revoked: number }).revoked, 2);
    for (const t of issued) assert.equal((await get('/latest/meta-data/instance-id', { [tokenHeader]: t })).status, 401);
  });

  it('hop limit exceeded: the token PUT never answers, IMDSv1 still does', async () => {
    await control('PATCH', '/_spotguard/aws', { hopLimitExceeded: true });
    const unanswered = fetch(`${sim.url}/latest/api/token`, { method: 'PUT', headers: { [ttlHeader]: '60' }, signal: AbortSignal.timeout(150) });
    await assert.rejects(unanswered, { name: 'TimeoutError' });
    const settings = (await (await control('GET', '/_spotguard/aws')).json()) as { unansweredTokenRequests: number };
    assert.equal(settings.unansweredTokenRequests, 1);
    assert.equal(await text('/latest/meta-data/instance-id'), awsDefaultIdentity.id);
  });

  const badSettings = [{ httpTokens: 'sometimes' }, { hopLimitExceeded: 'yes' }, { documents: ['spot/instance-action'] }, { documents: { 'instance-id': 7 } }];
  for (const body of badSettings) {
    it(`PATCH /_spotguard/aws ${JSON.stringify(body)} → 400`, async () => {
      assert.equal((await control('PATCH', '/_spotguard/aws', body)).status, 400);
    });
  }
});

describe('AWS IMDS simulator: documents', () => {
  it('documents are text/plain from EC2ws; absent ones are 404 XHTML pages', async () => {
    const found = await get('/latest/meta-data/instance-type');
    assert.deepEqual([found.status, found.headers.get('content-type'), found.headers.get('server'), await found.text()], [200, 'text/plain', 'EC2ws', 'm5.xlarge']);
    const missing = await get('/latest/meta-data/spot/instance-action');
    assert.deepEqual([missing.status, missing.headers.get('content-type')], [404, 'text/html']);
    assert.match(await missing.text(), /^<\?xml[\s\S]*<title>404 - Not Found<\/title>/);
  });

  const identity: Array<[string, string]> = [
    ['instance-id', awsDefaultIdentity.id],
    ['instance-type', 'm5.xlarge'],
    ['placement/availability-zone', 'us-east-1a'],
    ['placement/region', 'us-east-1'],
    ['instance-life-cycle', 'spot'],
    ['local-hostname', awsDefaultIdentity.name],
  ];
  for (const [path, value] of identity) {
    it(`identity: ${path} is ${value}`, async () => assert.equal(await text(`/latest/meta-data/${path}`), value));
  }

  it('an on-demand instance says on-demand; overridden documents are served as given, null as 404', async () => {
    await control('PATCH', '/_spotguard/instance', { capacity: 'on-demand' });
    assert.equal(await text('/latest/meta-data/instance-life-cycle'), 'on-demand');
    await control('PATCH', '/_spotguard/aws', { documents: { 'instance-life-cycle': 'normal', 'instance-id': null } });
    assert.equal(await text('/latest/meta-data/instance-life-cycle'), 'normal');
    assert.equal((await get('/latest/meta-data/instance-id')).status, 404);
    await control('PATCH', '/_spotguard/aws', { documents: {} });
    assert.equal(await text('/latest/meta-data/instance-id'), awsDefaultIdentity.id);
  });

  it('directory listings name what exists now', async () => {
    const before = (await text('/latest/meta-data/')).split('\n');
    assert.ok(['events/', 'instance-id', 'instance-life-cycle', 'placement/'].every((n) => before.includes(n)), before.join(' '));
    assert.ok(!before.includes('spot/'), 'no spot/ without an instance-action');
    await schedule({ kind: 'spot-interruption' });
    assert.ok((await text('/latest/meta-data/')).split('\n').includes('spot/'));
    assert.equal(await text('/latest/meta-data/placement/'), 'availability-zone\nregion');
  });
});

describe('AWS IMDS simulator: notices', () => {
  const actions: Array<[Record<string, unknown>, string, number]> = [
    [{}, 'terminate', 120_000],
    [{ action: 'stop' }, 'stop', 120_000],
    [{ action: 'hibernate' }, 'hibernate', 0],
    [{ action: 'terminate', in: '40s' }, 'terminate', 40_000],
  ];
  for (const [request, action, lead] of actions) {
    it(`instance-action ${JSON.stringify(request)} → ${action} at +${lead / 1000}s, a time that does not drift`, async () => {
      await schedule({ kind: 'spot-interruption', ...request });
      const expected = { action, time: new Date(t0 + lead).toISOString().replace('.000', '') };
      assert.deepEqual(JSON.parse(await text('/latest/meta-data/spot/instance-action')), expected);
      now += 30_000;
      assert.deepEqual(JSON.parse(await text('/latest/meta-data/spot/instance-action')), expected);
    });
  }

  it('unknown action words are refused by the control API', async () => {
    assert.equal((await control('POST', '/_spotguard/notices', { kind: 'spot-interruption', action: 'Preempt' })).status, 400);
    assert.equal((await control('POST', '/_spotguard/notices', { kind: 'scheduled-maintenance', action: 'reboot' })).status, 400);
  });

  it('rebalance recommendation appears at its time and says when', async () => {
    await schedule({ kind: 'rebalance-recommendation', after: '10s' });
    assert.equal((await get('/latest/meta-data/events/recommendations/rebalance')).status, 404);
    now += 10_000;
    assert.deepEqual(JSON.parse(await text('/latest/meta-data/events/recommendations/rebalance')), { noticeTime: '2026-11-23T10:00:10Z' });
  });

  type Event = Record<string, string>;
  const scheduled: Array<{ name: string; req: Record<string, unknown>; cancel?: boolean; advance?: number; event: Event }> = [
    { name: 'default: system-reboot, no NotAfter', req: { in: '24h' }, event: { Code: 'system-reboot', NotBefore: '24 Nov 2026 10:00:00 GMT', State: 'active', Description: 'scheduled system reboot' } },
    { name: 'with a duration: NotAfter', req: { action: 'instance-stop', in: '48h', duration: '2h' }, event: { Code: 'instance-stop', NotBefore: '25 Nov 2026 10:00:00 GMT', NotAfter: '25 Nov 2026 12:00:00 GMT', State: 'active' } },
    { name: 'NotBeforeDeadline', req: { action: 'instance-reboot', in: '1h', notBeforeDeadline: '168h' }, event: { NotBefore: '23 Nov 2026 11:00:00 GMT', NotBeforeDeadline: '30 Nov 2026 11:00:00 GMT', State: 'active' } },
    { name: 'cancelled: stays listed as canceled', req: { action: 'instance-retirement', in: '72h' }, cancel: true, event: { State: 'canceled', Description: 'Canceled - scheduled instance retirement' } },
    { name: 'past NotAfter: completed', req: { action: 'system-maintenance', in: '1h', duration: '30m' }, advance: 5_400_000, event: { State: 'completed', Description: 'Completed - scheduled system maintenance' } },
    { name: 'state given', req: { in: '1h', state: 'completed' }, event: { State: 'completed' } },
    { name: 'own EventId', req: { id: 'instance-event-0d59937288b749b32' }, event: { EventId: 'instance-event-0d59937288b749b32' } },
  ];
  for (const s of scheduled) {
    it(`scheduled event, ${s.name}`, async () => {
      const created = await schedule({ kind: 'scheduled-maintenance', ...s.req });
      if (s.cancel) await control('DELETE', `/_spotguard/notices/${created.id}`);
      now += s.advance ?? 0;
      const res = await get('/latest/meta-data/events/maintenance/scheduled');
      assert.equal(res.headers.get('content-type'), 'text/plain');
      const events = JSON.parse(await res.text()) as Event[];
      assert.equal(events.length, 1);
      const [event] = events as [Event];
      assert.deepEqual(Object.keys(event).filter((k) => !['NotAfter', 'NotBeforeDeadline'].includes(k)).sort(), ['Code', 'Description', 'EventId', 'NotBefore', 'State']);
      assert.match(event.EventId ?? '', /^instance-event-[0-9a-f]{17}$/);
      assert.match(event.NotBefore ?? '', /^\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
      if (!('duration' in s.req)) assert.equal(event.NotAfter, undefined, 'no NotAfter without a duration');
      for (const [key, value] of Object.entries(s.event)) assert.equal(event[key], value, key);
    });
  }

  it('no events is an empty list, not a 404', async () => {
    const res = await get('/latest/meta-data/events/maintenance/scheduled');
    assert.deepEqual([res.status, JSON.parse(await res.text())], [200, []]);
  });
});
