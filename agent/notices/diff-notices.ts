import type { Notice } from '../../core/domain/notice.ts';

export interface NoticeChanges {
  readonly appeared: readonly Notice[];
  readonly disappeared: readonly Notice[];
  readonly current: ReadonlyMap<string, Notice>;
}

/** Compares two snapshots of notices by id: what is new, what is gone. */
export function diffNotices(previous: ReadonlyMap<string, Notice>, snapshot: readonly Notice[]): NoticeChanges {
  const current = new Map(snapshot.map((n) => [n.id, n] as const));
  const appeared = snapshot.filter((n) => !previous.has(n.id));
  const disappeared = [...previous.values()].filter((n) => !current.has(n.id));
  return { appeared, disappeared, current };
}
