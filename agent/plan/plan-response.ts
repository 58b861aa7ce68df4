import type { NodeSnapshot, PodSnapshot } from '../../core/domain/kube-snapshots.ts';
import type { Notice } from '../../core/domain/notice.ts';
import type { Action, Skip } from './actions.ts';
import { chooseNotice } from './choose-notice.ts';
import { encodeRecord, newRecord, noticeAnnotation, type NoticeRecord } from './notice-record.ts';
import { planDrain } from './plan-drain.ts';
import { planExecutors } from './plan-executors.ts';
import { planEvents, withdrawnEvent } from './plan-events.ts';
import { planNodeMarks } from './plan-node-marks.ts';
import type { ResponsePolicy } from './response-policy.ts';

export interface PlanInput {
  /** Every notice the metadata service shows now. */
  readonly notices: readonly Notice[];
  readonly node: NodeSnapshot;
  /** Pods on this node; null when they were not listed (nothing imminent, or not read yet). */
  readonly pods: readonly PodSnapshot[] | null;
  /** What the agent recorded on the node (spotguard.io/notice), if anything. */
  readonly record: NoticeRecord | null;
  /** Signal mode: uids of pods whose executor JVM runs on this host. */
  readonly liveJvms: ReadonlySet<string> | null;
  readonly now: number;
  readonly policy: ResponsePolicy;
}

export interface Plan {
  /** In order: node marks, the record, pod actions, events, acknowledgement. */
  readonly actions: readonly Action[];
  readonly skipped: readonly Skip[];
  /** The record after this plan is carried out (null: nothing to remember). */
  readonly record: NoticeRecord | null;
  /** The agent should list pods and plan again (an imminent response is under way). */
  readonly needsPods: boolean;
}

/** Notice + node + pods + now → what to do, with a reason for everything left alone. Pure. */
export function planResponse(input: PlanInput): Plan {
  const { node, now, policy } = input;
  let chosen = chooseNotice(input.notices, input.record, now, policy);
  if (!chosen) {
    // Nothing in force: undo whatever spotguard set (withdrawn notice, or a record left behind).
    const actions = [...planNodeMarks(node, 'none', null)];
    if (node.annotations[noticeAnnotation] !== undefined) actions.push({ type: 'write-record', value: null, why: 'no notice in force' });
    if (input.record) actions.push(withdrawnEvent(node, input.record));
    return { actions, skipped: [], record: null, needsPods: false };
  }

  const previous = input.record;
  // A restarted agent sees the notice again. Sources with no time from the provider (GCP preemption, the
  // fallback window) date the deadline from their own detection, later after every restart: the deadline
  // recorded for the same notice stands, so a crash never buys the response time it does not have.
  if (previous?.id === chosen.notice.id && previous.deadline !== null && previous.deadline < chosen.deadline) {
    chosen = { ...chosen, deadline: previous.deadline };
  }
  const { notice, urgency, deadline } = chosen;
  // An early warning without a time has no deadline to record (and MAX_SAFE_INTEGER is no valid Date).
  const recordDeadline = deadline === Number.MAX_SAFE_INTEGER ? null : deadline;
  let record: NoticeRecord =
    previous?.id === notice.id ? { ...previous, urgency, deadline: recordDeadline } : { ...newRecord(notice, urgency), deadline: recordDeadline };
  if (previous && previous.id !== notice.id && previous.progress.executors.length > 0) {
    // Another notice took over (e.g. GCP's maintenance-event value changed): keep following the executors
    // already handled, so none is signalled twice or lost.
    // Their outcome Events were emitted under the notice they came with.
    const outcomes = previous.progress.emitted.filter((key) => key.startsWith('outcome:'));
    record = { ...record, progress: { ...record.progress, executors: previous.progress.executors, evicted: previous.progress.evicted, emitted: outcomes } };
  }

  if (urgency === 'elevated') {
    // Only a rebalance recommendation lapses; scheduled maintenance stays elevated until its lead time, then acts.
    const lapses = record.kind === 'rebalance-recommendation';
    const expired = record.progress.expired || (lapses && now >= record.detectedAt + policy.earlyWarningTtlMs);
    record = { ...record, progress: { ...record.progress, expired } };
    const events = planEvents({ node, record, previous, chosen, pods: [], now });
    record = events.record;
    return finish(node, planNodeMarks(node, expired ? 'none' : 'elevated', record), record, [], events.actions, [], false);
  }

  const marks = planNodeMarks(node, 'imminent', record);
  if (input.pods === null) {
    const events = planEvents({ node, record, previous, chosen, pods: [], now });
    return finish(node, marks, events.record, [], events.actions, [], !record.progress.done);
  }
  const pods = input.pods.filter((p) => p.nodeName === node.name);
  const executors = pods.filter((p) => p.sparkRole === 'executor');
  const ex = planExecutors({ executors, progress: record.progress.executors, liveJvms: input.liveJvms, deadline, now, policy });
  const executorsDone = ex.progress.every((p) => p.outcome !== null);
  const drain = planDrain({ node, pods, evicted: record.progress.evicted, executorsDone, deadline, now, policy });
  const done = executorsDone && (drain.complete || now >= deadline);
  record = { ...record, progress: { ...record.progress, executors: ex.progress, evicted: drain.evicted, done } };
  const events = planEvents({ node, record, previous, chosen, pods, now });
  record = events.record;
  const tail: Action[] = [...events.actions];
  if (executorsDone && notice.provider === 'azure' && !record.progress.acknowledged) {
    tail.push({ type: 'acknowledge-notice', noticeId: notice.id, why: 'executors are done: let Azure go ahead' });
    record = { ...record, progress: { ...record.progress, acknowledged: true } };
  }
  return finish(node, marks, record, [...ex.actions, ...drain.actions], tail, [...ex.skipped, ...drain.skipped], !done);
}

function finish(
  node: NodeSnapshot,
  marks: Action[],
  record: NoticeRecord,
  podActions: Action[],
  tail: Action[],
  skipped: Skip[],
  needsPods: boolean,
): Plan {
  const encoded = encodeRecord(record);
  const write: Action[] =
    node.annotations[noticeAnnotation] === encoded ? [] : [{ type: 'write-record', value: encoded, why: 'remember progress before acting' }];
  return { actions: [...marks, ...write, ...podActions, ...tail], skipped, record, needsPods };
}
