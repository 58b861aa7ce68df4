import { noticeKinds, type Notice, type NoticeKind } from '../../core/domain/notice.ts';

/**
 * What the agent has done about a notice, kept in the node annotation spotguard.io/notice so a
 * restarted agent resumes exactly where the last one stopped (and never signals a JVM twice).
 */
export type Urgency = 'elevated' | 'imminent';
export const executorOutcomes = ['decommissioned', 'killed-at-deadline', 'failed'] as const;
export type ExecutorOutcome = (typeof executorOutcomes)[number];
export const executorSteps = ['evicted', 'signalled', 'skipped'] as const;
export type ExecutorStep = (typeof executorSteps)[number];

export interface ExecutorProgress {
  readonly pod: string;
  readonly uid: string;
  readonly app: string | null;
  readonly executor: string | null;
  /** The driver pod that owns the executor (Events about the executor go to it). */
  readonly driver: { readonly name: string; readonly uid: string } | null;
  readonly step: ExecutorStep;
  /** The app enabled decommissioning (so the executor migrates its blocks before exiting). */
  readonly graceful: boolean;
  /** When the step was taken (epoch ms). */
  readonly at: number;
  readonly outcome: ExecutorOutcome | null;
  readonly outcomeAt: number | null;
  readonly detail: string;
}

export interface NoticeRecord {
  readonly id: string;
  readonly kind: NoticeKind;
  readonly action: string;
  readonly deadline: number | null;
  readonly detectedAt: number;
  readonly urgency: Urgency;
  readonly progress: {
    readonly executors: readonly ExecutorProgress[];
    /** Other pods evicted (namespace/name). */
    readonly evicted: readonly string[];
    /** Keys of Events already emitted, so restarts do not repeat them. */
    readonly emitted: readonly string[];
    readonly expired: boolean;
    readonly acknowledged: boolean;
    readonly done: boolean;
  };
}

export const noticeAnnotation = 'spotguard.io/notice';

export function newRecord(notice: Notice, urgency: Urgency): NoticeRecord {
  return {
    id: notice.id,
    kind: notice.kind,
    action: notice.action,
    deadline: notice.deadline,
    detectedAt: notice.detectedAt,
    urgency,
    progress: { executors: [], evicted: [], emitted: [], expired: false, acknowledged: false, done: false },
  };
}

/**
 * Annotation JSON uses RFC 3339 times so people can read it with kubectl. Fields are written in one
 * fixed order, so a record decoded after a restart encodes to the same text (and needs no rewrite).
 */
export function encodeRecord(record: NoticeRecord): string {
  const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
  const p = record.progress;
  return JSON.stringify({
    id: record.id,
    kind: record.kind,
    action: record.action,
    deadline: iso(record.deadline),
    detectedAt: iso(record.detectedAt),
    urgency: record.urgency,
    progress: {
      executors: p.executors.map((e) => ({
        pod: e.pod,
        uid: e.uid,
        app: e.app,
        executor: e.executor,
        driver: e.driver && { name: e.driver.name, uid: e.driver.uid },
        step: e.step,
        graceful: e.graceful,
        at: iso(e.at),
        outcome: e.outcome,
        outcomeAt: iso(e.outcomeAt),
        detail: e.detail,
      })),
      evicted: p.evicted,
      emitted: p.emitted,
      expired: p.expired,
      acknowledged: p.acknowledged,
      done: p.done,
    },
  });
}

/** Reads the annotation; anything unreadable is treated as absent (and reported by the caller). */
export function decodeRecord(value: string | undefined): NoticeRecord | null {
  if (value === undefined || value === '') return null;
  try {
    const raw = JSON.parse(value) as Record<string, unknown> & { progress?: Record<string, unknown> };
    const ms = (v: unknown): number | null => (typeof v === 'string' && !Number.isNaN(Date.parse(v)) ? Date.parse(v) : null);
    const p = raw.progress ?? {};
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    if (typeof raw.id !== 'string' || !oneOf(noticeKinds, raw.kind)) return null;
    const entries = Array.isArray(p.executors) ? (p.executors as unknown[]) : [];
    const executors = entries.filter(
      (e): e is Record<string, unknown> => typeof e === 'object' && e !== null && typeof (e as { pod?: unknown }).pod === 'string' && typeof (e as { uid?: unknown }).uid === 'string',
    );
    return {
      id: raw.id,
      kind: raw.kind,
      action: typeof raw.action === 'string' ? raw.action : '',
      deadline: ms(raw.deadline),
      detectedAt: ms(raw.detectedAt) ?? 0,
      urgency: raw.urgency === 'elevated' ? 'elevated' : 'imminent',
      progress: {
        executors: executors.map((e) => ({
          pod: e.pod as string,
          uid: e.uid as string,
          app: typeof e.app === 'string' ? e.app : null,
          executor: typeof e.executor === 'string' ? e.executor : null,
          driver: isDriverRef(e.driver) ? { name: e.driver.name, uid: e.driver.uid } : null,
          step: oneOf(executorSteps, e.step) ? e.step : 'skipped',
          graceful: e.graceful === true,
          at: ms(e.at) ?? 0,
          outcome: oneOf(executorOutcomes, e.outcome) ? e.outcome : null,
          outcomeAt: ms(e.outcomeAt),
          detail: typeof e.detail === 'string' ? e.detail : '',
        })),
        evicted: list(p.evicted),
        emitted: list(p.emitted),
        expired: p.expired === true,
        acknowledged: p.acknowledged === true,
        done: p.done === true,
      },
    };
  } catch {
    return null;
  }
}

function oneOf<T extends string>(allowed: readonly T[], v: unknown): v is T {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v);
}

function isDriverRef(v: unknown): v is { name: string; uid: string } {
  return typeof v === 'object' && v !== null && typeof (v as { name?: unknown }).name === 'string' && typeof (v as { uid?: unknown }).uid === 'string';
}
