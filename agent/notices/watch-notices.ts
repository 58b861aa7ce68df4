import type { Clock } from '../../core/clock.ts';
import type { Notice } from '../../core/domain/notice.ts';
import { backoffDelay } from '../../core/backoff.ts';
import { toSpotguardError } from '../../core/errors.ts';
import type { Logger } from '../../core/log/create-logger.ts';
import type { SourceMetrics } from '../metrics/source-metrics.ts';
import type { NoticeSource } from '../sources/notice-source.ts';
import { diffNotices, type NoticeChanges } from './diff-notices.ts';

export interface WatchNoticesOptions {
  readonly source: NoticeSource;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: SourceMetrics;
  readonly signal: AbortSignal;
  /** Called after every successful poll with what changed (often nothing). */
  readonly onChanges: (changes: NoticeChanges) => void | Promise<void>;
  readonly backoff?: { baseMs: number; maxMs: number };
  readonly random?: () => number;
}

/**
 * The agent's poll loop. A failed poll never ends it: the error is logged with its code, counted,
 * and the next poll waits a jittered, growing delay. Returns when the signal aborts.
 */
export async function watchNotices(options: WatchNoticesOptions): Promise<void> {
  const { source, clock, log, metrics, signal } = options;
  const provider = source.provider;
  // Capped at 5 s: a GCP or Azure notice gives 30 s, and a long wait after a blip could spend it all.
  const backoff = options.backoff ?? { baseMs: 500, maxMs: 5_000 };
  let known: ReadonlyMap<string, Notice> = new Map();
  let failures = 0;
  let first = true;
  while (!signal.aborted) {
    const started = clock.now();
    let waitMs: number;
    try {
      // The first poll reads current values at once; later ones may wait for a change (GCP).
      const snapshot = await source.poll(signal, { wait: !first });
      first = false;
      metrics.polls.inc({ provider, outcome: 'ok' });
      metrics.pollDuration.observe({ provider }, (clock.now() - started) / 1000);
      if (failures > 0) log.info({ provider, failures }, 'metadata polls recovered');
      failures = 0;
      const changes = diffNotices(known, snapshot);
      known = changes.current;
      for (const n of changes.appeared) {
        metrics.noticesDetected.inc({ provider, kind: n.kind });
        log.warn({ noticeId: n.id, kind: n.kind, action: n.action, deadline: n.deadline }, 'notice detected');
      }
      for (const n of changes.disappeared) log.info({ noticeId: n.id, kind: n.kind }, 'notice withdrawn');
      metrics.noticesActive.reset();
      for (const n of changes.current.values()) metrics.noticesActive.inc({ kind: n.kind });
      await options.onChanges(changes);
      waitMs = Math.max(0, source.pollIntervalMs - (clock.now() - started));
    } catch (err) {
      if (signal.aborted) break;
      // Sources throw E_METADATA_* errors; anything else is a bug, counted as such, and still retried.
      const e = toSpotguardError(err, 'E_INTERNAL');
      metrics.polls.inc({ provider, outcome: 'error' });
      metrics.errors.inc({ provider, code: e.code });
      waitMs = Math.max(source.pollIntervalMs, backoffDelay(failures, backoff, options.random));
      if (e.code === 'E_METADATA_THROTTLED') waitMs = Math.max(waitMs, 1000);
      failures++;
      log.warn({ provider, code: e.code, err: e.message, failures, retryInMs: waitMs }, 'metadata poll failed');
    }
    if (waitMs > 0) await clock.sleep(waitMs, signal).catch(() => undefined);
  }
}
