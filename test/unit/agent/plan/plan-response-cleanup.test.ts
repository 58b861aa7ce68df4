import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeSnapshot } from '../../../../core/domain/kube-snapshots.ts';
import type { Notice } from '../../../../core/domain/notice.ts';
import { decodeRecord, noticeAnnotation } from '../../../../agent/plan/notice-record.ts';
import { planResponse, type Plan } from '../../../../agent/plan/plan-response.ts';
import { defaultResponsePolicy } from '../../../../agent/plan/response-policy.ts';
import { aNode, aNotice, anExecutorPod, t0, withNodeActions } from '../../../fixtures/kube-builders.ts';

const policy = defaultResponsePolicy;

function planFor(node: NodeSnapshot, notices: readonly Notice[], now: number): Plan {
  const record = decodeRecord(node.annotations[noticeAnnotation]);
  return planResponse({ notices, node, pods: notices.length > 0 ? [anExecutorPod()] : null, record, liveJvms: null, now, policy });
}

/** The node as the agent left it after responding to a notice. */
function markedBy(notice: Notice): NodeSnapshot {
  const node = aNode({ labels: { team: 'data' }, taints: [{ key: 'dedicated', value: 'spark', effect: 'NoSchedule' }] });
  return withNodeActions(node, planFor(node, [notice], t0 + 1_000).actions);
}

describe('undoing what the agent set', () => {
  const withdrawn: Array<[string, Notice]> = [
    ['an imminent spot interruption', aNotice({ kind: 'spot-interruption' })],
    ['a rebalance recommendation', aNotice({ kind: 'rebalance-recommendation', deadline: null })],
    ['scheduled maintenance far ahead', aNotice({ kind: 'scheduled-maintenance', startsAt: t0 + 72 * 3_600_000 })],
  ];
  for (const [name, notice] of withdrawn) {
    it(`removes taints, label and annotation when ${name} is withdrawn, and says so once`, () => {
      const marked = markedBy(notice);
      assert.ok(marked.annotations[noticeAnnotation], 'the response was recorded');

      const cleanup = planFor(marked, [], t0 + 60_000);
      const cleaned = withNodeActions(marked, cleanup.actions);
      assert.deepEqual(cleaned.taints, [{ key: 'dedicated', value: 'spark', effect: 'NoSchedule' }], "others' taints stay");
      assert.deepEqual(cleaned.labels, aNode({ labels: { team: 'data' } }).labels, "others' labels stay");
      assert.equal(cleaned.annotations[noticeAnnotation], undefined);
      assert.deepEqual(cleanup.actions.flatMap((a) => (a.type === 'emit-event' ? [[a.reason, a.regarding.kind]] : [])), [['NoticeWithdrawn', 'Node']]);
      assert.equal(cleanup.record, null);
      assert.equal(cleanup.needsPods, false);

      assert.deepEqual(planFor(cleaned, [], t0 + 62_000).actions, [], 'nothing left to undo, nothing said twice');
    });
  }

  it('cleans stale marks left with no record and no notice, without an Event', () => {
    const stale = aNode({
      labels: { 'spotguard.io/risk': 'imminent' },
      taints: [
        { key: 'spotguard.io/interruption', value: 'spot-interruption', effect: 'NoSchedule' },
        { key: 'spotguard.io/at-risk', value: 'true', effect: 'PreferNoSchedule' },
      ],
    });
    const cleanup = planFor(stale, [], t0);
    assert.deepEqual(
      cleanup.actions.map((a) => a.type),
      ['remove-taint', 'remove-taint', 'set-labels'],
    );
    const cleaned = withNodeActions(stale, cleanup.actions);
    assert.deepEqual(cleaned.taints, []);
    assert.equal(cleaned.labels['spotguard.io/risk'], undefined);
  });

  it('removes an unreadable annotation when no notice is in force', () => {
    const cleanup = planFor(aNode({ annotations: { [noticeAnnotation]: '{not json' } }), [], t0);
    assert.deepEqual(cleanup.actions.map((a) => [a.type, a.type === 'write-record' ? a.value : undefined]), [['write-record', null]]);
  });
});

describe('steady state', () => {
  it('plans nothing at all for a clean node with no notice and no record', () => {
    const plan = planResponse({ notices: [], node: aNode({ labels: { team: 'data' } }), pods: null, record: null, liveJvms: null, now: t0, policy });
    assert.deepEqual(plan, { actions: [], skipped: [], record: null, needsPods: false });
  });
});
