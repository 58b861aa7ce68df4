/** How the agent responds; built from flags once, read by the planner. */
export interface ResponsePolicy {
  /** evict: Eviction API with grace = time left − margin (Spark's preStop hook decommissions). signal: SIGPWR the JVM (hostPID). */
  readonly mode: 'evict' | 'signal';
  /** Other pods: auto = others, except executors-only on Karpenter nodes (Karpenter drains the rest). */
  readonly drain: 'auto' | 'none' | 'others';
  /** Kept free before the deadline so deletions finish while the machine still runs. */
  readonly marginMs: number;
  /** Scheduled maintenance is acted on this long before it starts; before that it is an early warning. */
  readonly maintenanceLeadMs: number;
  /** An early warning (rebalance recommendation) is lifted after this long unless it escalates. */
  readonly earlyWarningTtlMs: number;
  /** Near the deadline, delete executor pods whose eviction a PodDisruptionBudget still blocks. */
  readonly escalateToDelete: boolean;
  /** How near the deadline escalation starts. */
  readonly escalateBeforeMs: number;
  /** Deadline assumed for an imminent notice whose provider gives no time. */
  readonly fallbackWindowMs: number;
}

export const defaultResponsePolicy: ResponsePolicy = {
  mode: 'evict',
  drain: 'auto',
  marginMs: 5_000,
  maintenanceLeadMs: 10 * 60_000,
  earlyWarningTtlMs: 30 * 60_000,
  escalateToDelete: true,
  escalateBeforeMs: 15_000,
  fallbackWindowMs: 30_000,
};

export const labels = {
  risk: 'spotguard.io/risk',
} as const;

export const taintKeys = {
  interruption: 'spotguard.io/interruption',
  atRisk: 'spotguard.io/at-risk',
} as const;

/** Karpenter labels its nodes with the pool (v1) or provisioner (v1alpha5) that made them. */
export function isKarpenterNode(nodeLabels: Readonly<Record<string, string>>): boolean {
  return 'karpenter.sh/nodepool' in nodeLabels || 'karpenter.sh/provisioner-name' in nodeLabels;
}
