import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { capacityOfLifeCycle, parseAwsEventDate, parseInstanceAction, parseRebalance, parseScheduledEvents } from '../../../../agent/sources/aws-imds-parse.ts';

const t0 = Date.UTC(2026, 10, 23, 10, 0, 0);

describe('AWS IMDS parsing', () => {
  const seen = (): number => t0;
  const path = '/latest/meta-data/events/maintenance/scheduled';

  it('event dates are `2 Jan 2006 15:04:05 GMT`, and nothing else', () => {
    const good: Array<[string, number]> = [
      ['21 Jan 2019 09:00:43 GMT', Date.UTC(2019, 0, 21, 9, 0, 43)],
      ['2 Jan 2006 15:04:05 GMT', Date.UTC(2006, 0, 2, 15, 4, 5)],
      ['29 Feb 2028 23:59:59 GMT', Date.UTC(2028, 1, 29, 23, 59, 59)],
    ];
    for (const [text, ms] of good) assert.equal(parseAwsEventDate(text, path), ms, text);
    const bad = ['2019-01-21T09:00:43Z', '31 Feb 2019 09:00:43 GMT', '29 Feb 2027 09:00:43 GMT', '21 Foo 2019 09:00:43 GMT', '21 Jan 2019 09:61:43 GMT', '21 Jan 2019 09:00:43', ''];
    for (const text of bad) assert.throws(() => parseAwsEventDate(text, path), { code: 'E_METADATA_MALFORMED', message: /maintenance\/scheduled/ }, text);
  });

  it('instance-action and rebalance documents that are not what IMDS writes are malformed, naming the path', () => {
    const actionPath = '/latest/meta-data/spot/instance-action';
    for (const body of ['not json', 'null', '[]', '{}', '{"action":"terminate"}', '{"action":"","time":"2026-11-23T10:02:00Z"}', '{"action":"terminate","time":"soon"}', '{"action":"stop","time":"2026-11-31T10:02:00Z"}']) {
      assert.throws(() => parseInstanceAction(body, actionPath, seen), { code: 'E_METADATA_MALFORMED', message: /spot\/instance-action/ }, body);
    }
    const rebalancePath = '/latest/meta-data/events/recommendations/rebalance';
    for (const body of ['', 'null', '{}', '{"noticeTime":1764000000}', '{"noticeTime":"yesterday"}']) {
      assert.throws(() => parseRebalance(body, rebalancePath, seen), { code: 'E_METADATA_MALFORMED', message: /recommendations\/rebalance/ }, body);
    }
    assert.equal(parseInstanceAction('{"action":"stop","time":"2026-11-23T10:02:00+01:00"}', actionPath, seen).deadline, Date.UTC(2026, 10, 23, 9, 2));
  });

  it('scheduled events: only active ones are notices; NotAfter optional; broken entries malformed', () => {
    const ev = (over: Record<string, unknown>): Record<string, unknown> => ({ Code: 'system-reboot', Description: 'scheduled reboot', EventId: 'instance-event-1', NotBefore: '21 Jan 2027 09:00:43 GMT', State: 'active', ...over });
    const cases: Array<[string, unknown[] | string, string[] | 'malformed']> = [
      ['empty list', [], []],
      ['empty body', '', []],
      ['active without NotAfter', [ev({})], ['instance-event-1']],
      ['active with NotAfter and NotBeforeDeadline', [ev({ NotAfter: '21 Jan 2027 11:00:00 GMT', NotBeforeDeadline: '28 Jan 2027 09:00:43 GMT' })], ['instance-event-1']],
      ['canceled and completed skipped', [ev({ State: 'canceled', EventId: 'a' }), ev({ State: 'completed', EventId: 'b' }), ev({ EventId: 'c' })], ['c']],
      ['a stale entry with an odd date does not hide a live one', [ev({ State: 'completed', NotBefore: 'long ago' }), ev({})], ['instance-event-1']],
      ['not a list', '{"a":1}', 'malformed'],
      ['no EventId', [ev({ EventId: undefined })], 'malformed'],
      ['no State', [ev({ State: undefined })], 'malformed'],
      ['active without NotBefore', [ev({ NotBefore: undefined })], 'malformed'],
      ['bad NotAfter', [ev({ NotAfter: '2027-01-21T11:00:00Z' })], 'malformed'],
    ];
    for (const [name, doc, expected] of cases) {
      const body = typeof doc === 'string' ? doc : JSON.stringify(doc);
      if (expected === 'malformed') {
        assert.throws(() => parseScheduledEvents(body, path, seen), { code: 'E_METADATA_MALFORMED', message: /maintenance\/scheduled/ }, name);
      } else {
        assert.deepEqual(parseScheduledEvents(body, path, seen).map((n) => n.id), expected.map((id) => `aws:scheduled-maintenance:${id}`), name);
      }
    }
  });

  it('capacity from instance-life-cycle', () => {
    const table: Array<[string | null, string]> = [['spot', 'spot'], ['spot\n', 'spot'], ['on-demand', 'on-demand'], ['normal', 'on-demand'], ['scheduled', 'unknown'], ['', 'unknown'], [null, 'unknown']];
    for (const [value, capacity] of table) assert.equal(capacityOfLifeCycle(value), capacity, String(value));
  });
});
