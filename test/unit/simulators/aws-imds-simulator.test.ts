import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../core/clock.ts';
import { SimulatorState } from '../../simulators/simulator-state.ts';
import { startSimulatorServer, type RunningSimulator } from '../../simulators/simulator-server.ts';
import { awsDefaultIdentity, awsImdsHandler } from '../../simulators/aws-imds-simulator.ts';

describe('AWS IMDS simulator fidelity', () => {
  let sim: RunningSimulator;
  const ttlHeader = 'x-aws-ec2-metadata-token-ttl-seconds';
  const token = async (ttl = '21600'): Promise<string> => {
    const res = await fetch(`${sim.url}/latest/api/token`, { method: 'PUT', headers: { [ttlHeader]: ttl } });
    assert.equal(res.status, 200);
    return res.text();
  };
  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(sim.url + path, { headers });
  const control = async (method: string, path: string, body?: unknown): Promise<void> => {
    const res = await fetch(sim.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    assert.ok(res.ok, `${method} ${path}: ${res.status}`);
    await res.arrayBuffer();
  };
  before(async () => {
    const state = new SimulatorState('aws', systemClock, { ...awsDefaultIdentity });
    sim = await startSimulatorServer(state, awsImdsHandler(state), { host: '127.0.0.1', port: 0 });
  });
  after(() => sim.close());

  it('token PUT: TTL header required and bounded, echoed on success; X-Forwarded-For refused', async () => {
    const cases: Array<[Record<string, string>, number]> = [
      [{}, 400],
      [{ [ttlHeader]: '0' }, 400],
      [{ [ttlHeader]: '21601' }, 400],
      [{ [ttlHeader]: 'abc' }, 400],
      [{ [ttlHeader]: '60', 'x-forwarded-for': '10.1.2.3' }, 403],
      [{ [ttlHeader]: '60' }, 200],
    ];
    for (const [headers, status] of cases) {
      const res = await fetch(`${sim.url}/latest/api/token`, { method: 'PUT', headers });
      assert.equal(res.status, status, JSON.stringify(headers));
      if (status === 200) {
        assert.equal(res.headers.get(ttlHeader), '60');
        assert.equal(res.headers.get('content-type'), 'text/plain');
        assert.ok((await res.text()).length > 20);
      } else await res.arrayBuffer();
    }
    assert.equal((await fetch(`${sim.url}/latest/api/token`)).status, 405, 'GET on the token path');
  });

  it('tokens are checked and expire; v1 works unless tokens are required', async () => {
    const good = await token('1');
    assert.equal((await get('/latest/meta-data/instance-id', { 'x-aws-ec2-metadata-token': good })).status, 200);
    assert.equal((await get('/latest/meta-data/instance-id', { 'x-aws-ec2-metadata-token': 'forged' })).status, 401);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await get('/latest/meta-data/instance-id', { 'x-aws-ec2-metadata-token': good })).status, 401, 'expired');
    assert.equal((await get('/latest/meta-data/instance-id')).status, 200, 'IMDSv1');
    await control('PATCH', '/_spotguard/aws', { httpTokens: 'required' });
    assert.equal((await get('/latest/meta-data/instance-id')).status, 401, 'IMDSv2 only');
    const fresh = await token();
    await control('POST', '/_spotguard/aws/tokens/revoke');
    assert.equal((await get('/latest/meta-data/instance-id', { 'x-aws-ec2-metadata-token': fresh })).status, 401, 'revoked');
    await control('PATCH', '/_spotguard/aws', { httpTokens: 'optional' });
  });

  it('documents are text/plain, absent ones are 404 HTML pages', async () => {
    const none = await get('/latest/meta-data/spot/instance-action');
    assert.equal(none.status, 404);
    assert.equal(none.headers.get('content-type'), 'text/html');
    assert.match(await none.text(), /<title>404 - Not Found<\/title>/);
    await control('POST', '/_spotguard/notices', { kind: 'spot-interruption', action: 'stop', in: '120s' });
    const action = await get('/latest/meta-data/spot/instance-action');
    assert.equal(action.status, 200);
    assert.equal(action.headers.get('content-type'), 'text/plain');
    const doc = (await action.json()) as { action: string; time: string };
    assert.equal(doc.action, 'stop');
    assert.match(doc.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const again = (await (await get('/latest/meta-data/spot/instance-action')).json()) as { time: string };
    assert.equal(again.time, doc.time, 'time does not drift between requests');
    await control('DELETE', '/_spotguard/notices');
    assert.equal((await get('/latest/meta-data/spot/instance-action')).status, 404, 'cancelled');
  });

  it('scheduled events: AWS date format, NotAfter only with a duration, canceled and completed states', async () => {
    assert.deepEqual(await (await get('/latest/meta-data/events/maintenance/scheduled')).json(), []);
    await control('POST', '/_spotguard/notices', { kind: 'scheduled-maintenance', action: 'system-reboot', in: '48h', duration: '2h', id: 'instance-event-0d59937288b749b32' });
    await control('POST', '/_spotguard/notices', { kind: 'scheduled-maintenance', action: 'instance-stop', in: '24h' });
    await control('DELETE', '/_spotguard/notices/instance-event-0d59937288b749b32');
    const events = (await (await get('/latest/meta-data/events/maintenance/scheduled')).json()) as Array<Record<string, string>>;
    assert.equal(events.length, 2);
    const [reboot, stop] = events;
    assert.equal(reboot?.EventId, 'instance-event-0d59937288b749b32');
    assert.equal(reboot?.State, 'canceled');
    assert.match(reboot?.NotBefore ?? '', /^\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    assert.ok(reboot?.NotAfter);
    assert.equal(stop?.State, 'active');
    assert.equal(stop?.NotAfter, undefined);
    assert.match(stop?.EventId ?? '', /^instance-event-[0-9a-f]{17}$/);
    await control('DELETE', '/_spotguard/notices');
  });

  it('rebalance recommendation shows its notice time; identity documents match the instance', async () => {
    await control('POST', '/_spotguard/notices', { kind: 'rebalance-recommendation' });
    const doc = (await (await get('/latest/meta-data/events/recommendations/rebalance')).json()) as { noticeTime: string };
    assert.match(doc.noticeTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    for (const [path, value] of [
      ['instance-id', awsDefaultIdentity.id],
      ['instance-type', 'm5.xlarge'],
      ['placement/availability-zone', 'us-east-1a'],
      ['placement/region', 'us-east-1'],
      ['instance-life-cycle', 'spot'],
    ]) {
      assert.equal(await (await get(`/latest/meta-data/${path}`)).text(), value, path);
    }
    await control('DELETE', '/_spotguard/notices');
  });
});
