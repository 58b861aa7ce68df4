import type { Notice } from '../../core/domain/notice.ts';
import type { NoticeRecord, Urgency } from './notice-record.ts';
import type { ResponsePolicy } from './response-policy.ts';

export interface ChosenNotice {
  readonly notice: Notice;
  readonly urgency: Urgency;
  /** Deadline the response works to (the provider's, or now + fallback window). */
  readonly deadline: number;
}

/** How urgent one notice is right now, or null when it needs nothing yet. */
export function urgencyOf(notice: Notice, now: number, policy: ResponsePolicy): Urgency {
  switch (notice.kind) {
    case 'spot-interruption':
      return 'imminent';
    case 'rebalance-recommendation':
      return 'elevated';
    case 'scheduled-maintenance': {
      const start = notice.startsAt ?? notice.deadline;
      return start === null || now >= start - policy.maintenanceLeadMs ? 'imminent' : 'elevated';
    }
  }
}

/**
 * The notice the agent acts on: an imminent one before an elevated one, the earliest deadline
 * first, and the one already being handled (the record's) when it is still among the most urgent.
 */
export function chooseNotice(
  notices: readonly Notice[],
  record: NoticeRecord | null,
  now: number,
  policy: ResponsePolicy,
): ChosenNotice | null {
  const ranked = notices
    .map((notice) => {
      const urgency = urgencyOf(notice, now, policy);
      const fallback = urgency === 'imminent' ? notice.detectedAt + policy.fallbackWindowMs : Number.MAX_SAFE_INTEGER;
      return { notice, urgency, deadline: notice.deadline ?? fallback };
    })
    .sort((a, b) => rank(a.urgency) - rank(b.urgency) || a.deadline - b.deadline);
  const best = ranked[0];
  if (!best) return null;
  const current = ranked.find((c) => c.notice.id === record?.id);
  return current && current.urgency === best.urgency ? current : best;
}

function rank(urgency: Urgency): number {
  return urgency === 'imminent' ? 0 : 1;
}
