/**
 * Azure Scheduled Events (IMDS, api-version 2020-07-01). One GET per poll with `Metadata: true`;
 * only events whose Resources name this VM (compute.name of the instance metadata) become notices.
 * Requests are paced to stay under the service's 5 requests/s per VM; a 429 holds every request
 * back for a while (the hint rides on the thrown error as `retryAfterMs`).
 */
import type { InstanceIdentity, Notice } from '../../core/domain/notice.ts';
import { SpotguardError } from '../../core/errors.ts';
import { backoffDelay } from '../../core/backoff.ts';
import type { NoticeSource } from './notice-source.ts';
import type { SourceOptions } from './source-options.ts';
import { createMetadataHttp, unexpectedStatus, type MetadataRequest, type MetadataResponse } from './metadata-http.ts';
import {
  eventsForVm,
  parseInstanceIdentity,
  parseRfc1123,
  parseScheduledEventsDocument,
  toNotice,
  type SeenEvent,
} from './azure-scheduled-events-parse.ts';

export const scheduledEventsPath = '/metadata/scheduledevents?api-version=2020-07-01';
export const instancePath = '/metadata/instance?api-version=2021-02-01';

export interface AzureScheduledEventsSource extends NoticeSource {
  /**
   * Tells Azure the events may start now (POST StartRequests). Takes notice ids (`azure:<EventId>`)
   * or bare EventIds. Acknowledging lets the event proceed for every VM in its Resources.
   */
  acknowledge(eventIds: string[], signal: AbortSignal): Promise<void>;
}

export interface AzureSourceOptions extends SourceOptions {
  /**
   * Timeout of scheduled-events requests until one has succeeded: the first call enables the
   * service and Azure documents it may take up to two minutes. Default 130 s.
   */
  readonly firstCallTimeoutMs?: number;
}

/** E_METADATA_THROTTLED errors carry how long to hold off (ms). */
export type ThrottledError = SpotguardError & { readonly retryAfterMs: number };

export function retryAfterMs(err: unknown): number | null {
  return err instanceof SpotguardError && typeof (err as Partial<ThrottledError>).retryAfterMs === 'number'
    ? (err as ThrottledError).retryAfterMs
    : null;
}

/** At most this many requests in any window (ms); the window has slack for network jitter. */
export const requestBudget = { requests: 5, windowMs: 1100 } as const;
const throttleBackoff = { baseMs: 1000, maxMs: 30_000 };

export function createAzureScheduledEventsSource(options: AzureSourceOptions): AzureScheduledEventsSource {
  const { clock } = options;
  const log = options.log.child({ module: 'azure-scheduled-events' });
  const http = createMetadataHttp('azure', options.baseUrl);
  const requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  const firstCallTimeoutMs = Math.max(options.firstCallTimeoutMs ?? 130_000, requestTimeoutMs);
  const sentAt: number[] = [];
  let throttledUntil = 0;
  let throttledCount = 0;
  let serviceEnabled = false;
  let identity: InstanceIdentity | null = null;
  let lastIncarnation: number | null = null;
  let seen = new Map<string, SeenEvent>();

  function throttled(path: string, waitMs: number): ThrottledError {
    const err = new SpotguardError('E_METADATA_THROTTLED', `azure metadata ${path}: throttled (HTTP 429), retry in ${waitMs} ms`);
    return Object.assign(err, { retryAfterMs: waitMs });
  }

  /** Waits for room in the request budget; refuses at once while a 429 hold is in force. */
  async function takeBudget(path: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      const now = clock.now();
      if (throttledUntil > now) throw throttled(path, throttledUntil - now);
      while (sentAt.length > 0 && (sentAt[0] as number) <= now - requestBudget.windowMs) sentAt.shift();
      if (sentAt.length < requestBudget.requests) {
        sentAt.push(now);
        return;
      }
      await clock.sleep((sentAt[0] as number) + requestBudget.windowMs - now, signal);
    }
  }

  async function send(path: string, req: Omit<MetadataRequest, 'headers'>): Promise<MetadataResponse> {
    await takeBudget(path, req.signal);
    const res = await http.send(path, { ...req, headers: { metadata: 'true', ...(req.body ? { 'content-type': 'application/json' } : {}) } });
    if (res.status === 429) {
      const hinted = retryAfterHeaderMs(res.headers['retry-after'], clock.now());
      const waitMs = hinted ?? backoffDelay(throttledCount, throttleBackoff);
      throttledCount++;
      throttledUntil = clock.now() + waitMs;
      log.debug({ path, retryAfterMs: waitMs }, 'metadata request throttled');
      throw throttled(path, waitMs);
    }
    throttledCount = 0;
    if (res.status === 410) {
      // Azure: "410 Gone — retry after some time for a max of 70 seconds".
      throw new SpotguardError('E_METADATA_HTTP', `azure metadata ${path}: HTTP 410 (service not ready yet)`, { retryable: true });
    }
    if (res.status !== 200) throw unexpectedStatus('azure', path, res);
    return res;
  }

  async function readIdentity(signal: AbortSignal): Promise<InstanceIdentity> {
    if (identity) return identity;
    const res = await send(instancePath, { timeoutMs: requestTimeoutMs, signal });
    identity = parseInstanceIdentity(res.body);
    log.debug({ vmName: identity.name, vmId: identity.id }, 'instance identity read');
    return identity;
  }

  return {
    provider: 'azure',
    pollIntervalMs: options.pollIntervalMs ?? 1000,

    identity: readIdentity,

    async poll(signal): Promise<Notice[]> {
      const vmName = (await readIdentity(signal)).name as string;
      const res = await send(scheduledEventsPath, { timeoutMs: serviceEnabled ? requestTimeoutMs : firstCallTimeoutMs, signal });
      serviceEnabled = true;
      const doc = parseScheduledEventsDocument(res.body);
      const now = clock.now();
      const next = new Map<string, SeenEvent>();
      const notices: Notice[] = [];
      for (const event of eventsForVm(doc.events, vmName)) {
        const result = toNotice(event, doc.incarnation, seen.get(event.EventId), now);
        next.set(event.EventId, result.seen);
        notices.push(result.notice);
      }
      seen = next;
      if (doc.incarnation !== lastIncarnation) {
        log.info({ incarnation: doc.incarnation, events: doc.events.length, forThisVm: notices.length }, 'scheduled events document changed');
        lastIncarnation = doc.incarnation;
      }
      return notices;
    },

    async acknowledge(eventIds, signal): Promise<void> {
      const ids = eventIds.map((id) => id.replace(/^azure:/, ''));
      if (ids.length === 0) return;
      const body = JSON.stringify({ StartRequests: ids.map((EventId) => ({ EventId })) });
      await send(scheduledEventsPath, { method: 'POST', body, timeoutMs: requestTimeoutMs, signal });
      log.info({ eventIds: ids }, 'scheduled events acknowledged');
    },

    close: () => http.close(),
  };
}

/** Retry-After as seconds or an HTTP date → ms from now; null when absent or unreadable. */
function retryAfterHeaderMs(value: string | undefined, now: number): number | null {
  if (value === undefined) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = parseRfc1123(value);
  return at === null ? null : Math.max(0, at - now);
}
