import type { Notice } from '../../core/domain/notice.ts';
import { SpotguardError } from '../../core/errors.ts';

/** Pure parsing of AWS IMDS documents. Times are epoch ms; a bad document throws E_METADATA_MALFORMED naming the path. */

export const awsPaths = {
  token: '/latest/api/token',
  instanceAction: '/latest/meta-data/spot/instance-action',
  rebalance: '/latest/meta-data/events/recommendations/rebalance',
  scheduled: '/latest/meta-data/events/maintenance/scheduled',
  instanceId: '/latest/meta-data/instance-id',
  instanceType: '/latest/meta-data/instance-type',
  zone: '/latest/meta-data/placement/availability-zone',
  lifeCycle: '/latest/meta-data/instance-life-cycle',
} as const;

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Scheduled-event dates look like `2 Jan 2006 15:04:05 GMT`. */
export function parseAwsEventDate(value: string, path: string): number {
  const m = /^(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/.exec(value.trim());
  const month = m ? months.indexOf(m[2] as string) : -1;
  if (!m || month < 0) throw malformed(path, `date "${value}" is not like "2 Jan 2006 15:04:05 GMT"`);
  const [day, hour, minute, second] = [m[1], m[4], m[5], m[6]].map(Number) as [number, number, number, number];
  const ms = Date.UTC(Number(m[3]), month, day, hour, minute, second);
  if (new Date(ms).getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) throw malformed(path, `date "${value}" does not exist`);
  return ms;
}

/** instance-action and rebalance times are RFC 3339 (`2026-11-23T10:02:00Z`). */
export function parseRfc3339(value: unknown, path: string, field: string): number {
  const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(value) : null;
  if (!m) throw malformed(path, `"${field}" is not an RFC 3339 time: ${JSON.stringify(value)}`);
  const ms = Date.parse(value as string);
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (Number.isNaN(ms) || day.getUTCDate() !== Number(m[3]) || day.getUTCMonth() !== Number(m[2]) - 1) {
    throw malformed(path, `"${field}" is not a real time: ${value as string}`);
  }
  return ms;
}

function parseJson(body: string, path: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    throw malformed(path, `body is not JSON: ${body.slice(0, 60)}`);
  }
}

type Seen = (id: string) => number;

/** `{"action":"terminate","time":"…"}` → a spot-interruption notice whose deadline is `time`. */
export function parseInstanceAction(body: string, path: string, seen: Seen): Notice {
  const doc = parseJson(body, path) as { action?: unknown; time?: unknown } | null;
  if (doc === null || typeof doc !== 'object' || typeof doc.action !== 'string' || doc.action === '') {
    throw malformed(path, 'expected {"action": "terminate|stop|hibernate", "time": "…"}');
  }
  const deadline = parseRfc3339(doc.time, path, 'time');
  const id = `aws:spot-interruption:${doc.action}:${doc.time as string}`;
  return { id, provider: 'aws', kind: 'spot-interruption', action: doc.action, deadline, detectedAt: seen(id), raw: doc };
}

/** `{"noticeTime":"…"}` → a rebalance recommendation: an early warning with no deadline. */
export function parseRebalance(body: string, path: string, seen: Seen): Notice {
  const doc = parseJson(body, path) as { noticeTime?: unknown } | null;
  if (doc === null || typeof doc !== 'object') throw malformed(path, 'expected {"noticeTime": "…"}');
  parseRfc3339(doc.noticeTime, path, 'noticeTime');
  const id = `aws:rebalance-recommendation:${doc.noticeTime as string}`;
  return { id, provider: 'aws', kind: 'rebalance-recommendation', action: 'rebalance', deadline: null, detectedAt: seen(id), raw: doc };
}

interface ScheduledEvent {
  Code?: unknown;
  EventId?: unknown;
  NotBefore?: unknown;
  NotAfter?: unknown;
  NotBeforeDeadline?: unknown;
  State?: unknown;
}

/**
 * Scheduled events: only those in state `active` are notices (canceled and completed ones stay
 * listed for a while). The deadline is NotBefore, the earliest moment the reboot/stop/retirement
 * may start (NotAfter is when the window closes, and may be missing): the node must be drained
 * by then, so it is both `startsAt` and `deadline`. Dates are checked on active events only: a
 * stale entry with an odd date must not hide a live one.
 */
export function parseScheduledEvents(body: string, path: string, seen: Seen): Notice[] {
  if (body.trim() === '') return [];
  const doc = parseJson(body, path);
  if (!Array.isArray(doc)) throw malformed(path, 'expected a JSON array of events');
  const notices: Notice[] = [];
  for (const item of doc as ScheduledEvent[]) {
    if (item === null || typeof item !== 'object' || typeof item.EventId !== 'string' || typeof item.Code !== 'string') {
      throw malformed(path, 'event without EventId or Code');
    }
    if (typeof item.State !== 'string') throw malformed(path, `event ${item.EventId} has no State`);
    if (item.State !== 'active') continue;
    if (typeof item.NotBefore !== 'string') throw malformed(path, `event ${item.EventId} has no NotBefore`);
    const startsAt = parseAwsEventDate(item.NotBefore, path);
    for (const optionalDate of [item.NotAfter, item.NotBeforeDeadline]) {
      if (optionalDate !== undefined && optionalDate !== null) parseAwsEventDate(String(optionalDate), path);
    }
    const id = `aws:scheduled-maintenance:${item.EventId}`;
    notices.push({ id, provider: 'aws', kind: 'scheduled-maintenance', action: item.Code, deadline: startsAt, startsAt, detectedAt: seen(id), raw: item });
  }
  return notices;
}

/** instance-life-cycle: `spot`, `on-demand` (older instances: `normal`), else unknown. */
export function capacityOfLifeCycle(value: string | null): 'spot' | 'on-demand' | 'unknown' {
  const v = value?.trim();
  if (v === 'spot') return 'spot';
  if (v === 'on-demand' || v === 'normal') return 'on-demand';
  return 'unknown';
}

function malformed(path: string, why: string): SpotguardError {
  return new SpotguardError('E_METADATA_MALFORMED', `aws metadata ${path}: ${why}`);
}
