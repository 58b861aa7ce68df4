/**
 * Pure reading of Azure's Scheduled Events and instance metadata documents. No I/O: the source
 * (azure-scheduled-events.ts) fetches, this file turns bodies into notices and an identity.
 */
import type { Capacity, InstanceIdentity, Notice, NoticeKind } from '../../core/domain/notice.ts';
import { SpotguardError } from '../../core/errors.ts';

/** One entry of `Events`, as Azure sends it (api-version 2020-07-01). */
export interface ScheduledEvent {
  readonly EventId: string;
  readonly EventStatus: string;
  readonly EventType: string;
  readonly ResourceType: string;
  readonly Resources: readonly string[];
  readonly NotBefore: string;
  readonly Description?: string;
  readonly EventSource?: string;
  readonly DurationInSeconds?: number;
}

export interface ScheduledEventsDocument {
  /** Null when the body was empty. */
  readonly incarnation: number | null;
  readonly events: readonly ScheduledEvent[];
}

/**
 * Deadline of an event that is already `Started` (NotBefore "") when first seen, after detection:
 * Azure promises at least 30 s for Preempt; for the other types the impact is under way, so the
 * deadline is the detection time itself (0 ms of lead).
 */
export const startedLeadMs = { Preempt: 30_000, other: 0 } as const;

/** What the source remembers of an event between polls, so ids, detectedAt and deadline stay put. */
export interface SeenEvent {
  readonly detectedAt: number;
  readonly deadline: number;
}

const monthIndex: Record<string, number> = {
  Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11,
};
const rfc1123 = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{1,2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;

/** "Mon, 19 Sep 2016 18:29:47 GMT" → epoch ms; null when the text is not a real RFC 1123 date. */
export function parseRfc1123(text: string): number | null {
  const m = rfc1123.exec(text.trim());
  if (!m) return null;
  const [day, month, year, hour, minute, second] = [Number(m[1]), monthIndex[m[2] as string] as number, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  const ms = Date.UTC(year, month, day, hour, minute, second);
  const back = new Date(ms);
  // Date.UTC rolls 31 Feb over into March: refuse dates that do not exist.
  if (back.getUTCDate() !== day || back.getUTCMonth() !== month || back.getUTCHours() !== hour || back.getUTCMinutes() !== minute) return null;
  return ms;
}

function malformed(what: string): SpotguardError {
  return new SpotguardError('E_METADATA_MALFORMED', `azure metadata /metadata/scheduledevents: ${what}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Parses the body of GET /metadata/scheduledevents. An empty body means no events. */
export function parseScheduledEventsDocument(body: string): ScheduledEventsDocument {
  if (body.trim() === '') return { incarnation: null, events: [] };
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw malformed('body is not JSON');
  }
  if (!isObject(doc)) throw malformed('body is not a JSON object');
  const incarnation = doc.DocumentIncarnation;
  if (incarnation !== undefined && (typeof incarnation !== 'number' || !Number.isInteger(incarnation))) {
    throw malformed('DocumentIncarnation is not a whole number');
  }
  const events = doc.Events ?? [];
  if (!Array.isArray(events)) throw malformed('Events is not an array');
  return { incarnation: incarnation ?? null, events: events.map(readEvent) };
}

function readEvent(value: unknown, index: number): ScheduledEvent {
  if (!isObject(value)) throw malformed(`Events[${index}] is not an object`);
  const text = (field: string, fallback?: string): string => {
    const v = value[field] ?? fallback;
    if (typeof v !== 'string') throw malformed(`Events[${index}].${field} is not a string`);
    return v;
  };
  const eventId = text('EventId');
  if (eventId === '') throw malformed(`Events[${index}].EventId is empty`);
  const resources = value.Resources;
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === 'string')) {
    throw malformed(`Events[${index}].Resources is not a list of names`);
  }
  const duration = value.DurationInSeconds;
  return {
    EventId: eventId,
    EventStatus: text('EventStatus'),
    EventType: text('EventType'),
    ResourceType: text('ResourceType', 'VirtualMachine'),
    Resources: resources as string[],
    NotBefore: text('NotBefore', ''),
    Description: typeof value.Description === 'string' ? value.Description : '',
    EventSource: typeof value.EventSource === 'string' ? value.EventSource : '',
    DurationInSeconds: typeof duration === 'number' ? duration : -1,
  };
}

/** Events whose Resources name this VM (VM names are case-insensitive in Azure). */
export function eventsForVm(events: readonly ScheduledEvent[], vmName: string): ScheduledEvent[] {
  const name = vmName.toLowerCase();
  return events.filter((e) => e.Resources.some((r) => r.toLowerCase() === name));
}

/** Preempt is a Spot eviction; every other type (Reboot, Redeploy, Freeze, Terminate, future ones) is maintenance. */
export function kindOfEventType(eventType: string): NoticeKind {
  return eventType === 'Preempt' ? 'spot-interruption' : 'scheduled-maintenance';
}

/**
 * One event → a notice. `seen` is what an earlier poll recorded (undefined the first time). A
 * NotBefore in the document always wins; once it is blank (Started) the last known deadline is
 * kept, or, for an event first seen Started, detection + startedLeadMs.
 */
export function toNotice(event: ScheduledEvent, incarnation: number | null, seen: SeenEvent | undefined, now: number): { notice: Notice; seen: SeenEvent } {
  const detectedAt = seen?.detectedAt ?? now;
  let deadline: number;
  if (event.NotBefore.trim() !== '') {
    const notBefore = parseRfc1123(event.NotBefore);
    if (notBefore === null) throw malformed(`event ${event.EventId}: NotBefore "${event.NotBefore}" is not an RFC 1123 date`);
    deadline = notBefore;
  } else {
    deadline = seen?.deadline ?? detectedAt + (event.EventType === 'Preempt' ? startedLeadMs.Preempt : startedLeadMs.other);
  }
  const kind = kindOfEventType(event.EventType);
  const notice: Notice = {
    id: `azure:${event.EventId}`,
    provider: 'azure',
    kind,
    action: event.EventType,
    deadline,
    detectedAt,
    ...(kind === 'scheduled-maintenance' ? { startsAt: deadline } : {}),
    raw: { DocumentIncarnation: incarnation, ...event },
  };
  return { notice, seen: { detectedAt, deadline } };
}

/** `compute.priority` → capacity: Spot and the older Low (low-priority scale sets) can be evicted. */
export function capacityOfPriority(priority: unknown): Capacity {
  if (typeof priority !== 'string') return 'unknown';
  const p = priority.toLowerCase();
  if (p === 'spot' || p === 'low') return 'spot';
  if (p === 'regular') return 'on-demand';
  return 'unknown';
}

/** Body of GET /metadata/instance → identity. Zone is "<location>-<zone>" (as Kubernetes labels it) or the location alone. */
export function parseInstanceIdentity(body: string): InstanceIdentity {
  const bad = (what: string): SpotguardError => new SpotguardError('E_METADATA_MALFORMED', `azure metadata /metadata/instance: ${what}`);
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    throw bad('body is not JSON');
  }
  const compute = isObject(doc) ? doc.compute : undefined;
  if (!isObject(compute)) throw bad('no "compute" object');
  const field = (name: string): string => (typeof compute[name] === 'string' ? (compute[name] as string) : '');
  const name = field('name');
  if (name === '') throw bad('compute.name is missing');
  const location = field('location');
  const zone = field('zone');
  return {
    provider: 'azure',
    id: field('vmId'),
    type: field('vmSize'),
    zone: zone === '' ? location : `${location}-${zone}`,
    capacity: capacityOfPriority(compute.priority),
    name,
  };
}
