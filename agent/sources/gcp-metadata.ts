import type { Capacity, InstanceIdentity, Notice } from '../../core/domain/notice.ts';
import { backoffDelay } from '../../core/backoff.ts';
import { SpotguardError } from '../../core/errors.ts';
import type { NoticeSource, PollOptions } from './notice-source.ts';
import type { SourceOptions } from './source-options.ts';
import { createMetadataHttp, type MetadataResponse } from './metadata-http.ts';
import {
  describeErrorBody,
  noDetections,
  noticesOf,
  parseInstanceId,
  parseInstanceName,
  parseMaintenanceEvent,
  parsePreempted,
  parsePreemptible,
  parseProvisioningModel,
  parseResourceName,
  trackNotices,
  type DetectionState,
  type Observation,
  type Observed,
} from './gcp-metadata-parse.ts';

export interface GcpMetadataSourceOptions extends SourceOptions {
  /** How long one hanging GET may wait for a change (the server's `timeout_sec`). Default 60. */
  readonly watchTimeoutSec?: number;
}

const root = '/computeMetadata/v1/';
const flavor = { 'metadata-flavor': 'Google' };
/** The metadata server answers 503 for under a second during its own maintenance: retry a few times. */
const unavailableRetries = 3;
const retryBackoff = { baseMs: 50, maxMs: 800 };

interface Watched<T> {
  readonly path: string;
  readonly parse: (body: string) => T;
}
const preemptedKey: Watched<boolean> = { path: 'instance/preempted', parse: parsePreempted };
const maintenanceKey: Watched<string> = { path: 'instance/maintenance-event', parse: parseMaintenanceEvent };

/**
 * GCE metadata server: `instance/preempted` and `instance/maintenance-event`, watched with hanging
 * GETs (`wait_for_change`, `last_etag`, `timeout_sec`). The first poll, and any poll with
 * `wait: false`, reads the current values at once; later polls return when either value changes
 * or the watch times out, with the full snapshot either way.
 */
export function createGcpMetadataSource(options: GcpMetadataSourceOptions): NoticeSource {
  const http = createMetadataHttp('gcp', options.baseUrl);
  const log = options.log.child({ module: 'gcp-metadata' });
  const clock = options.clock;
  const requestTimeoutMs = options.requestTimeoutMs ?? 2000;
  const watchTimeoutSec = options.watchTimeoutSec ?? 60;
  const closing = new AbortController();

  let last: Observation | null = null;
  let detections: DetectionState = noDetections;
  let instanceId: string | null = null;

  async function get(path: string, signal: AbortSignal, query = '', timeoutMs = requestTimeoutMs): Promise<MetadataResponse> {
    const url = root + path + query;
    for (let attempt = 0; ; attempt++) {
      const res = await http.send(url, { headers: flavor, timeoutMs, signal });
      if (res.status !== 503 || attempt >= unavailableRetries) return res;
      const delayMs = backoffDelay(attempt, retryBackoff);
      log.debug({ path, status: res.status, attempt: attempt + 1, delayMs }, 'metadata request retried');
      await clock.sleep(delayMs, signal);
    }
  }

  function statusError(path: string, res: MetadataResponse): SpotguardError {
    const text = describeErrorBody(res.body);
    const message = `gcp metadata ${path}: HTTP ${res.status}${text ? ` (${text})` : ''}`;
    if (res.status === 429) return new SpotguardError('E_METADATA_THROTTLED', message);
    return new SpotguardError('E_METADATA_HTTP', message, { retryable: res.status >= 500 || res.status === 404 || res.status === 403 });
  }

  async function readValue(path: string, signal: AbortSignal): Promise<string> {
    const res = await get(path, signal);
    if (res.status !== 200) throw statusError(path, res);
    return res.body;
  }

  async function read<T>(key: Watched<T>, signal: AbortSignal, previousEtag?: string | null): Promise<Observed<T>> {
    const watching = previousEtag !== undefined;
    const query = watching
      ? `?wait_for_change=true&timeout_sec=${watchTimeoutSec}${previousEtag === null ? '' : `&last_etag=${encodeURIComponent(previousEtag)}`}`
      : '';
    const timeoutMs = watching ? watchTimeoutSec * 1000 + requestTimeoutMs : requestTimeoutMs;
    const res = await get(key.path, signal, query, timeoutMs);
    if (res.status !== 200) throw statusError(key.path, res);
    return { value: key.parse(res.body), etag: res.headers.etag ?? null };
  }

  /**
   * Both hanging GETs at once; the first to answer (a change, or `timeout_sec` passing) ends the
   * poll and the other is abandoned. A value that changed meanwhile is caught by the next poll: its
   * `last_etag` is stale, so the server answers at once.
   */
  async function watchBoth(signal: AbortSignal, previous: Observation): Promise<Observation> {
    const rest = new AbortController();
    const both = AbortSignal.any([signal, rest.signal]);
    const preempted = read(preemptedKey, both, previous.preempted.etag);
    const maintenance = read(maintenanceKey, both, previous.maintenance.etag);
    const first = await Promise.race(
      [preempted, maintenance].map((p) =>
        p.then(
          () => ({ ok: true as const }),
          (err: unknown) => ({ ok: false as const, err }),
        ),
      ),
    );
    rest.abort();
    const [p, m] = await Promise.allSettled([preempted, maintenance]);
    if (!first.ok) throw first.err;
    return {
      preempted: p.status === 'fulfilled' ? p.value : previous.preempted,
      maintenance: m.status === 'fulfilled' ? m.value : previous.maintenance,
    };
  }

  async function resolveInstanceId(signal: AbortSignal): Promise<string> {
    instanceId ??= parseInstanceId(await readValue('instance/id', signal));
    return instanceId;
  }

  return {
    provider: 'gcp',
    pollIntervalMs: 0,
    async poll(callerSignal: AbortSignal, pollOptions: PollOptions = {}): Promise<Notice[]> {
      const signal = AbortSignal.any([callerSignal, closing.signal]);
      const wait = pollOptions.wait ?? true;
      const seen =
        wait && last !== null
          ? await watchBoth(signal, last)
          : await Promise.all([read(preemptedKey, signal), read(maintenanceKey, signal)]).then(([preempted, maintenance]) => ({
              preempted,
              maintenance,
            }));
      let id = instanceId ?? '';
      if (seen.preempted.value && detections.preemption === null) {
        id = await resolveInstanceId(signal).catch((err: unknown) => {
          log.warn({ err }, 'instance id unreadable; naming preemption by detection time');
          return String(clock.now());
        });
      }
      const next = trackNotices(detections, seen, clock.now(), id);
      for (const notice of noticesOf(next)) {
        if (notice !== detections.preemption && notice !== detections.maintenance) {
          log.debug({ noticeId: notice.id, kind: notice.kind, action: notice.action }, 'notice seen');
        }
      }
      last = seen;
      detections = next;
      return noticesOf(detections);
    },
    async identity(callerSignal: AbortSignal): Promise<InstanceIdentity> {
      const signal = AbortSignal.any([callerSignal, closing.signal]);
      const [id, name, machineType, zone, capacity] = await Promise.all([
        resolveInstanceId(signal),
        readValue('instance/name', signal).then(parseInstanceName),
        readValue('instance/machine-type', signal).then((body) => parseResourceName('instance/machine-type', 'machineTypes', body)),
        readValue('instance/zone', signal).then((body) => parseResourceName('instance/zone', 'zones', body)),
        readCapacity(signal),
      ]);
      return { provider: 'gcp', id, name, type: machineType, zone, capacity };
    },
    async close(): Promise<void> {
      closing.abort(new SpotguardError('E_METADATA_UNAVAILABLE', 'gcp metadata source closed', { retryable: false }));
      await http.close();
    },
  };

  /** provisioning-model (SPOT / STANDARD); older VMs lack it (404) and only say `preemptible`. */
  async function readCapacity(signal: AbortSignal): Promise<Capacity> {
    const path = 'instance/scheduling/provisioning-model';
    const res = await get(path, signal);
    if (res.status === 200) {
      const capacity = parseProvisioningModel(res.body);
      // A legacy preemptible VM can report STANDARD: ask the older key before calling it on-demand.
      if (capacity !== 'on-demand') return capacity;
    } else if (res.status !== 404) {
      throw statusError(path, res);
    }
    return parsePreemptible(await readValue('instance/scheduling/preemptible', signal));
  }
}
