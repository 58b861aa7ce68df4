import type { NodeSnapshot, Taint } from '../../core/domain/kube-snapshots.ts';
import type { Action } from './actions.ts';
import type { NoticeRecord } from './notice-record.ts';
import { labels, taintKeys } from './response-policy.ts';

export type NodeMarks = 'imminent' | 'elevated' | 'none';

/** Taints and the risk label the node should carry, as actions that bring it there (nothing when it already does). */
export function planNodeMarks(node: NodeSnapshot, marks: NodeMarks, record: NoticeRecord | null): Action[] {
  const actions: Action[] = [];
  const wanted: Taint[] = [];
  if (marks === 'imminent' && record) wanted.push({ key: taintKeys.interruption, value: record.kind, effect: 'NoSchedule' });
  if (marks === 'elevated') wanted.push({ key: taintKeys.atRisk, value: 'true', effect: 'PreferNoSchedule' });
  for (const key of [taintKeys.interruption, taintKeys.atRisk]) {
    const have = node.taints.find((t) => t.key === key);
    const want = wanted.find((t) => t.key === key);
    if (have && (!want || have.value !== want.value || have.effect !== want.effect)) {
      actions.push({ type: 'remove-taint', key, why: want ? 'taint value or effect is out of date' : `node is no longer ${key === taintKeys.atRisk ? 'at risk' : 'being interrupted'}` });
    }
    if (want && (!have || have.value !== want.value || have.effect !== want.effect)) {
      actions.push({ type: 'add-taint', taint: want, why: marks === 'imminent' ? 'keep new pods off a node about to go' : 'prefer other nodes for new pods' });
    }
  }
  const risk = marks === 'none' ? null : marks;
  if ((node.labels[labels.risk] ?? null) !== risk) {
    actions.push({ type: 'set-labels', labels: { [labels.risk]: risk }, why: risk ? `node risk is ${risk}` : 'node risk cleared' });
  }
  return actions;
}
