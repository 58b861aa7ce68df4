import type { Logger } from '../../core/log/create-logger.ts';
import type { ResponseMetrics } from '../metrics/response-metrics.ts';
import type { NoticeRecord } from '../plan/notice-record.ts';

/** Counts and logs each executor outcome the first time it appears in the record. */
export function recordOutcomes(before: NoticeRecord | null, after: NoticeRecord | null, mode: string, metrics: ResponseMetrics, log: Logger): void {
  if (!after) return;
  const seen = new Set((before?.id === after.id ? before.progress.executors : []).filter((e) => e.outcome !== null).map((e) => e.uid));
  for (const e of after.progress.executors) {
    if (e.outcome === null || seen.has(e.uid)) continue;
    metrics.executorOutcomes.inc({ outcome: e.outcome, mode });
    if (e.outcome === 'decommissioned' && e.outcomeAt !== null) metrics.decommissionSeconds.observe({ mode }, (e.outcomeAt - e.at) / 1000);
    const fields = { pod: e.pod, app: e.app, executor: e.executor, outcome: e.outcome, detail: e.detail, seconds: e.outcomeAt === null ? null : (e.outcomeAt - e.at) / 1000 };
    if (e.outcome === 'decommissioned') log.info(fields, 'executor outcome');
    else log.warn(fields, 'executor outcome');
  }
}
