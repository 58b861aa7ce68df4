import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRecord, encodeRecord, newRecord, type ExecutorProgress, type NoticeRecord } from '../../../../agent/plan/notice-record.ts';
import { aNotice, t0 } from '../../../fixtures/kube-builders.ts';

const signalled: ExecutorProgress = {
  pod: 'spark/app-exec-1',
  uid: 'uid-exec-1',
  app: 'spark-app-1',
  executor: '1',
  driver: { name: 'app-driver', uid: 'uid-driver' },
  step: 'signalled',
  graceful: true,
  at: t0 + 1_234,
  outcome: null,
  outcomeAt: null,
  detail: 'SIGPWR sent to the executor JVM',
};

const inProgress: NoticeRecord = {
  ...newRecord(aNotice(), 'imminent'),
  progress: {
    executors: [
      signalled,
      { ...signalled, pod: 'spark/app-exec-2', uid: 'uid-exec-2', executor: '2', driver: null, step: 'evicted', graceful: false, outcome: 'failed', outcomeAt: t0 + 9_000, detail: 'no hook' },
      { ...signalled, pod: 'spark/app-exec-3', uid: 'uid-exec-3', app: null, executor: null, step: 'skipped', outcome: 'killed-at-deadline', outcomeAt: t0 + 120_000 },
    ],
    evicted: ['default/web-1'],
    emitted: ['notice:aws:1', 'app:spark-app-1'],
    expired: false,
    acknowledged: true,
    done: false,
  },
};

describe('notice record (node annotation spotguard.io/notice)', () => {
  const roundTrips: Array<[string, NoticeRecord]> = [
    ['a fresh imminent record', newRecord(aNotice(), 'imminent')],
    ['an early warning without deadline', newRecord(aNotice({ kind: 'rebalance-recommendation', deadline: null }), 'elevated')],
    ['an expired early warning', { ...newRecord(aNotice({ kind: 'rebalance-recommendation' }), 'elevated'), progress: { ...newRecord(aNotice(), 'elevated').progress, expired: true } }],
    ['a response under way with every executor step and outcome', inProgress],
  ];
  for (const [name, record] of roundTrips) {
    it(`decodes what it encoded: ${name}`, () => {
      const encoded = encodeRecord(record);
      assert.deepEqual(decodeRecord(encoded), record);
      assert.equal(encodeRecord(decodeRecord(encoded) as NoticeRecord), encoded, 're-encoding a decoded record changes nothing');
    });
  }

  it('writes times people can read with kubectl (RFC 3339)', () => {
    const json = JSON.parse(encodeRecord(inProgress)) as { deadline: string; detectedAt: string; progress: { executors: Array<{ at: string }> } };
    assert.equal(json.detectedAt, '2026-11-23T10:00:00.000Z');
    assert.equal(json.deadline, '2026-11-23T10:02:00.000Z');
    assert.equal(json.progress.executors[0]?.at, '2026-11-23T10:00:01.234Z');
  });

  const unreadable: Array<[string, string | undefined]> = [
    ['absent', undefined],
    ['empty', ''],
    ['not JSON', '{"id": "aws:1", '],
    ['JSON null', 'null'],
    ['a JSON string', '"spot-interruption"'],
    ['a JSON array', '[1,2]'],
    ['no id', '{"kind":"spot-interruption"}'],
    ['no kind', '{"id":"aws:1"}'],
    ['an unknown kind', '{"id":"aws:1","kind":"meteor-strike"}'],
  ];
  for (const [name, value] of unreadable) {
    it(`treats an unreadable annotation as absent: ${name}`, () => {
      assert.equal(decodeRecord(value), null);
    });
  }

  it('reads a record with missing or mistyped fields with safe defaults', () => {
    const record = decodeRecord(
      JSON.stringify({
        id: 'aws:1',
        kind: 'spot-interruption',
        deadline: 'not a time',
        urgency: 'panic',
        progress: { executors: [{ pod: 'spark/e', uid: 'u1', step: 'teleported', outcome: 'vanished', driver: 'x' }, 'junk', null, { pod: 'spark/no-uid' }], evicted: ['ns/a', 7], emitted: 'x', done: 'yes' },
      }),
    );
    assert.ok(record);
    assert.equal(record.deadline, null);
    assert.equal(record.urgency, 'imminent');
    assert.deepEqual(record.progress.evicted, ['ns/a']);
    assert.deepEqual(record.progress.emitted, []);
    assert.equal(record.progress.done, false);
    assert.equal(record.progress.executors.length, 1, 'entries that are not objects naming a pod are dropped');
    const [e] = record.progress.executors;
    assert.equal(e?.uid, 'u1');
    assert.equal(e?.driver, null);
    assert.equal(e?.outcome, null, 'an unknown outcome is no outcome: the executor is still followed');
    // An unknown step is not "signalled": it must never be read as proof that SIGPWR was sent, nor hide that it was.
    assert.equal(e?.step, 'skipped');
  });
});
