// What the bridge did, kept for the tests (in memory) and for people (one
// JSON line per step in the bridge's log file, printed when a test fails).
import { appendFileSync } from 'node:fs';

/** One executor JVM mirrored as an executor pod, and what the kubelet stand-in did with it. Times are epoch ms. */
export interface ExecutorPodRecord {
  /** namespace/name */
  pod: string;
  uid: string;
  node: string;
  appId: string;
  executorId: string;
  pid: number;
  mirroredAt: number;
  /** When the stand-in saw the pod's deletionTimestamp (null: never, e.g. deleted with grace 0 by someone else). */
  deletionSeenAt: number | null;
  /** metadata.deletionGracePeriodSeconds of that deletion. */
  graceSeconds: number | null;
  /** What the stand-in sent first: SIGPWR (the preStop hook's decommission), SIGTERM (no hook), or nothing. */
  signal: 'SIGPWR' | 'SIGTERM' | null;
  signalSentAt: number | null;
  jvmExitedAt: number | null;
  /** SIGKILLed by the stand-in at the end of the grace period. */
  killed: boolean;
  /** SIGKILLed when its machine died (bridge.machineDies). */
  diedWithMachine: boolean;
  /** When the stand-in finished the deletion (grace 0). */
  deletionFinishedAt: number | null;
  /** When the bridge first saw the pod gone. */
  podGoneAt: number | null;
  /** Who removed the pod from the API: the stand-in, or someone else (the agent's grace-0 delete in signal mode). */
  removedBy: 'kubelet-stand-in' | 'other' | null;
}

/** An executor JVM started on a worker whose node carried a NoSchedule taint: not admitted as a pod. */
export interface RefusedExecutor {
  node: string;
  appId: string;
  executorId: string;
  pid: number;
  at: number;
  taint: string;
}

/** A Spark Worker daemon the bridge stopped because its node was tainted NoSchedule and its executors were gone. */
export interface WorkerStop {
  node: string;
  at: number;
  taint: string;
}

/** A process SIGKILLed when a machine died. */
export interface KilledProcess {
  pid: number;
  what: string;
}

export interface MachineDeath {
  node: string;
  at: number;
  killed: KilledProcess[];
}

export class BridgeLog {
  readonly pods: ExecutorPodRecord[] = [];
  readonly refused: RefusedExecutor[] = [];
  readonly workerStops: WorkerStop[] = [];
  readonly deaths: MachineDeath[] = [];
  private readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Appends one line to the log file: a fixed message and its fields. */
  line(msg: string, fields: Record<string, unknown> = {}): void {
    appendFileSync(this.path, `${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
  }
}
