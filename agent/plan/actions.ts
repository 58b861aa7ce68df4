import type { PodSnapshot, Taint } from '../../core/domain/kube-snapshots.ts';

/** What the executor layer is asked to do. Each action is idempotent. */
export type Action =
  | { readonly type: 'add-taint'; readonly taint: Taint; readonly why: string }
  | { readonly type: 'remove-taint'; readonly key: string; readonly why: string }
  | { readonly type: 'set-labels'; readonly labels: Readonly<Record<string, string | null>>; readonly why: string }
  /** Persist the notice record on the node (null removes it). Always executed before signals and evictions. */
  | { readonly type: 'write-record'; readonly value: string | null; readonly why: string }
  | {
      readonly type: 'emit-event';
      /** The key the record keeps once it is emitted (progress.emitted); null when none is kept. */
      readonly key: string | null;
      readonly regarding: EventTarget;
      readonly eventType: 'Normal' | 'Warning';
      readonly reason: EventReason;
      readonly note: string;
      readonly why: string;
    }
  | { readonly type: 'evict-pod'; readonly pod: PodRef; readonly graceSeconds: number; readonly why: string }
  | { readonly type: 'delete-pod'; readonly pod: PodRef; readonly graceSeconds: number; readonly why: string }
  | { readonly type: 'signal-executor'; readonly pod: PodRef; readonly why: string }
  | { readonly type: 'acknowledge-notice'; readonly noticeId: string; readonly why: string };

export interface PodRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface EventTarget {
  readonly kind: 'Node' | 'Pod';
  readonly namespace: string | null;
  readonly name: string;
  readonly uid: string;
}

/** Stable Event reasons (docs/events.md catalogues them). */
export const eventReasons = [
  'InterruptionNotice',
  'EarlyWarning',
  'MaintenanceScheduled',
  'NoticeWithdrawn',
  'EarlyWarningExpired',
  'ExecutorsDecommissioning',
  'DecommissioningDisabled',
  'ExecutorDecommissioned',
  'ExecutorKilledAtDeadline',
  'ExecutorDecommissionFailed',
  'DriverOnInterruptedNode',
  'InterruptionHandled',
] as const;
export type EventReason = (typeof eventReasons)[number];

/** A pod or node the plan leaves alone, and why. */
export interface Skip {
  readonly target: string;
  readonly reason: string;
}

export function podRef(pod: PodSnapshot): PodRef {
  return { namespace: pod.namespace, name: pod.name, uid: pod.uid };
}

export function podKey(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}
