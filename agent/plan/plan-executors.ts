import type { PodSnapshot } from '../../core/domain/kube-snapshots.ts';
import { podKey, podRef, type Action, type Skip } from './actions.ts';
import type { ExecutorOutcome, ExecutorProgress } from './notice-record.ts';
import type { ResponsePolicy } from './response-policy.ts';

export interface ExecutorPlanInput {
  /** Executor pods on the node now. */
  readonly executors: readonly PodSnapshot[];
  readonly progress: readonly ExecutorProgress[];
  /** Signal mode: uids of pods whose executor JVM runs on this host. */
  readonly liveJvms: ReadonlySet<string> | null;
  readonly deadline: number;
  readonly now: number;
  readonly policy: ResponsePolicy;
}

export interface ExecutorPlan {
  readonly actions: Action[];
  readonly skipped: Skip[];
  readonly progress: ExecutorProgress[];
  /** Executors whose outcome was decided in this plan. */
  readonly finished: ExecutorProgress[];
}

/**
 * Every executor at once: evict it with the time left as grace (so Spark's preStop decommission gets
 * the real window), or SIGPWR its JVM once (signal mode, only when the app handles SIGPWR). Then
 * follow each one until it is gone (decommissioned) or the deadline passes (killed-at-deadline).
 */
export function planExecutors(input: ExecutorPlanInput): ExecutorPlan {
  const { now, deadline, policy } = input;
  const actions: Action[] = [];
  const skipped: Skip[] = [];
  const finished: ExecutorProgress[] = [];
  const byUid = new Map(input.executors.map((p) => [p.uid, p] as const));
  const graceSeconds = Math.max(1, Math.floor((deadline - policy.marginMs - now) / 1000));
  const escalate = policy.escalateToDelete && now >= deadline - policy.escalateBeforeMs;
  const progress: ExecutorProgress[] = [];

  const finish = (p: ExecutorProgress, outcome: ExecutorOutcome, detail: string): ExecutorProgress => {
    const done = { ...p, outcome, outcomeAt: now, detail };
    finished.push(done);
    return done;
  };

  // Executors already being handled: follow them.
  for (const p of input.progress) {
    if (p.outcome !== null) {
      progress.push(p);
      continue;
    }
    const pod = byUid.get(p.uid);
    // Without a JVM scan (null) nothing is known about the JVM: never conclude it exited.
    const jvmGone = input.liveJvms !== null && !input.liveJvms.has(p.uid);
    if (p.step === 'signalled' && jvmGone) {
      progress.push(finish(p, 'decommissioned', 'executor JVM exited after SIGPWR'));
      if (pod && pod.deletionTimestamp === null) {
        actions.push({ type: 'delete-pod', pod: podRef(pod), graceSeconds: 0, why: 'its executor JVM has exited' });
      }
    } else if (!pod) {
      progress.push(
        p.graceful
          ? finish(p, 'decommissioned', 'executor pod gone before the deadline')
          : finish(p, 'failed', 'executor stopped without decommissioning: the app did not set spark.decommission.enabled=true'),
      );
    } else if (now >= deadline) {
      progress.push(finish(p, 'killed-at-deadline', 'executor still running when the deadline passed'));
    } else {
      progress.push(p);
      if (p.step === 'evicted' && pod.deletionTimestamp === null) {
        // The last eviction did not take (PodDisruptionBudget, API error): try again, or delete near the deadline.
        actions.push(
          escalate
            ? { type: 'delete-pod', pod: podRef(pod), graceSeconds, why: 'eviction still blocked near the deadline' }
            : { type: 'evict-pod', pod: podRef(pod), graceSeconds, why: 'previous eviction did not take' },
        );
      } else {
        skipped.push({ target: podKey(pod), reason: `waiting for the executor to finish (${p.step})` });
      }
    }
  }

  // Executors seen for the first time: act on all of them now.
  const known = new Set(input.progress.map((p) => p.uid));
  for (const pod of input.executors) {
    if (known.has(pod.uid)) continue;
    const base = {
      pod: podKey(pod),
      uid: pod.uid,
      app: pod.sparkAppId,
      executor: pod.sparkExecutorId,
      driver: pod.driver,
      graceful: pod.decommissionHook,
      at: now,
      outcome: null,
      outcomeAt: null,
    };
    if (now >= deadline) {
      progress.push(finish({ ...base, step: 'skipped', detail: '' }, 'killed-at-deadline', 'found after the deadline had passed'));
    } else if (pod.deletionTimestamp !== null) {
      progress.push({ ...base, step: 'skipped', detail: 'already terminating when the notice came' });
      skipped.push({ target: podKey(pod), reason: 'already terminating' });
    } else if (policy.mode === 'signal' && pod.decommissionHook && input.liveJvms?.has(pod.uid)) {
      progress.push({ ...base, step: 'signalled', detail: 'SIGPWR sent to the executor JVM' });
      actions.push({ type: 'signal-executor', pod: podRef(pod), why: 'decommission: SIGPWR to the executor JVM, once' });
    } else {
      // Signal mode without a JVM in sight (pod starting, JVM outside our /proc): its preStop hook
      // sends the one SIGPWR instead.
      const why = !pod.decommissionHook
        ? 'app did not enable decommissioning: evict without block migration'
        : policy.mode === 'signal'
          ? `no executor JVM found on the host: evict with ${graceSeconds}s grace so the preStop hook decommissions`
          : `decommission: evict with ${graceSeconds}s grace so the preStop hook can migrate blocks`;
      progress.push({ ...base, step: 'evicted', detail: `evicted with ${graceSeconds}s grace` });
      actions.push({ type: 'evict-pod', pod: podRef(pod), graceSeconds, why });
    }
  }
  return { actions, skipped, progress, finished };
}
