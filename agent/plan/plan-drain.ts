import type { NodeSnapshot, PodSnapshot } from '../../core/domain/kube-snapshots.ts';
import { podKey, podRef, type Action, type Skip } from './actions.ts';
import { isKarpenterNode, type ResponsePolicy } from './response-policy.ts';

export interface DrainPlanInput {
  readonly node: NodeSnapshot;
  readonly pods: readonly PodSnapshot[];
  /** Other pods already evicted (namespace/name). */
  readonly evicted: readonly string[];
  /** Every executor on the node has an outcome (drivers may go now). */
  readonly executorsDone: boolean;
  readonly deadline: number;
  readonly now: number;
  readonly policy: ResponsePolicy;
}

export interface DrainPlan {
  readonly actions: Action[];
  readonly skipped: Skip[];
  readonly evicted: string[];
  /** Nothing left to evict. */
  readonly complete: boolean;
}

/** The drain mode in force on this node: auto is executors-only on Karpenter nodes, others elsewhere. */
export function effectiveDrain(node: NodeSnapshot, policy: ResponsePolicy): 'none' | 'others' {
  if (policy.drain !== 'auto') return policy.drain;
  return isKarpenterNode(node.labels) ? 'none' : 'others';
}

/**
 * After the executors: the other pods (not DaemonSet or mirror pods), and a Spark driver last,
 * once its executors here are done or the deadline is close, since evicting it ends the app.
 */
export function planDrain(input: DrainPlanInput): DrainPlan {
  const { now, deadline, policy } = input;
  const actions: Action[] = [];
  const skipped: Skip[] = [];
  const evicted = [...input.evicted];
  const drain = effectiveDrain(input.node, policy);
  const left = Math.max(1, Math.floor((deadline - policy.marginMs - now) / 1000));
  const driversMayGo = input.executorsDone || now >= deadline - policy.escalateBeforeMs;
  let complete = true;
  for (const pod of input.pods) {
    if (pod.sparkRole === 'executor') continue;
    const key = podKey(pod);
    const skip = reasonToLeave(pod, drain);
    if (skip) {
      skipped.push({ target: key, reason: skip });
      continue;
    }
    if (pod.sparkRole === 'driver' && !driversMayGo) {
      complete = false;
      skipped.push({ target: key, reason: 'Spark driver waits until its executors on this node are done' });
      continue;
    }
    complete = false;
    const grace = Math.min(pod.terminationGracePeriodSeconds, left);
    const retry = evicted.includes(key);
    if (!retry) evicted.push(key);
    actions.push({
      type: 'evict-pod',
      pod: podRef(pod),
      graceSeconds: grace,
      why: pod.sparkRole === 'driver' ? 'Spark driver on an interrupted node: evicted last' : retry ? 'previous eviction did not take' : 'drain the node',
    });
  }
  return { actions, skipped, evicted, complete };
}

function reasonToLeave(pod: PodSnapshot, drain: 'none' | 'others'): string | null {
  if (pod.mirror) return 'static (mirror) pod';
  if (pod.ownerKinds.includes('DaemonSet')) return 'DaemonSet pod';
  if (pod.deletionTimestamp !== null) return 'already terminating';
  if (pod.phase === 'Succeeded' || pod.phase === 'Failed') return `already ${pod.phase.toLowerCase()}`;
  if (drain === 'none') return 'drain is none (executors only)';
  return null;
}
