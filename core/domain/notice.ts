/** Normalised interruption notices: what every cloud's metadata service is reduced to. */

export const providers = ['aws', 'gcp', 'azure'] as const;
export type Provider = (typeof providers)[number];

export const noticeKinds = ['spot-interruption', 'rebalance-recommendation', 'scheduled-maintenance'] as const;
export type NoticeKind = (typeof noticeKinds)[number];

export interface Notice {
  /** Deterministic: the same event seen on repeated polls has the same id. */
  readonly id: string;
  readonly provider: Provider;
  readonly kind: NoticeKind;
  /** The provider's own word: terminate, stop, hibernate, system-reboot, Preempt, Reboot, TERMINATE_ON_HOST_MAINTENANCE, … */
  readonly action: string;
  /** When the machine goes away (epoch ms), or null when the provider gives no time. */
  readonly deadline: number | null;
  /** When spotguard first saw this notice (epoch ms); stable across polls. */
  readonly detectedAt: number;
  /** For scheduled maintenance: when the work starts (epoch ms), if known. */
  readonly startsAt?: number | null;
  /** The provider's document as read, for logs and the node annotation. */
  readonly raw: unknown;
}

export type Capacity = 'spot' | 'on-demand' | 'unknown';

export interface InstanceIdentity {
  readonly provider: Provider;
  readonly id: string;
  readonly type: string;
  readonly zone: string;
  readonly capacity: Capacity;
  /** Azure: the VM name that Scheduled Events list in Resources. */
  readonly name?: string;
}
