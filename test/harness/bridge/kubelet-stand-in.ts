// What a kubelet does when an executor pod it runs gets a deletionTimestamp,
// done to the executor JVM the pod mirrors:
//
//   1. the preStop hook: Spark's /opt/decom.sh sends SIGPWR to the executor
//      and waits for it to exit (a container without the hook gets SIGTERM);
//   2. the grace period (metadata.deletionGracePeriodSeconds, counted from
//      when the deletion is seen) bounds the wait: SIGKILL at its end;
//   3. the deletion is finished with a grace-0 delete.
//
// A JVM that has already exited (signal mode: the agent signalled it) has
// nothing left to stop: the deletion is finished at once.
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException } from '@kubernetes/client-node';
import type { CoreV1Api, V1Pod } from '@kubernetes/client-node';
import { executorJvmIsAlive } from '../spark/executor-jvms.ts';
import type { ExecutorJvm } from '../spark/executor-jvms.ts';
import type { BridgeLog, ExecutorPodRecord } from './bridge-records.ts';

export interface StandInContext {
  core: CoreV1Api;
  log: BridgeLog;
  /** Aborted when the bridge stops: the stand-in leaves the JVM and the pod as they are. */
  signal: AbortSignal;
}

const defaultGraceSeconds = 30;
const killWaitMs = 5_000;

/** Terminates the executor of `pod` (which has a deletionTimestamp) as a kubelet would, updating `record`. */
export async function terminateExecutorPod(pod: V1Pod, jvm: ExecutorJvm, record: ExecutorPodRecord, ctx: StandInContext): Promise<void> {
  const seenAt = Date.now();
  const graceSeconds = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? defaultGraceSeconds;
  record.deletionSeenAt = seenAt;
  record.graceSeconds = graceSeconds;
  const alive = executorJvmIsAlive(jvm);
  ctx.log.line('deletion seen', { pod: record.pod, graceSeconds, jvmAlive: alive });

  if (alive) {
    const signal = hasDecommissionHook(pod) ? 'SIGPWR' : 'SIGTERM';
    record.signal = signal;
    record.signalSentAt = Date.now();
    sendSignal(jvm.pid, signal);
    ctx.log.line(signal === 'SIGPWR' ? 'preStop hook: executor signalled' : 'executor signalled', { pod: record.pod, pid: jvm.pid, signal });
    const killAt = seenAt + graceSeconds * 1000;
    if (!(await waitForExit(jvm, killAt, ctx.signal))) {
      if (ctx.signal.aborted) return;
      sendSignal(jvm.pid, 'SIGKILL');
      record.killed = true;
      ctx.log.line('grace period over: executor killed', { pod: record.pod, pid: jvm.pid, graceSeconds });
      await waitForExit(jvm, Date.now() + killWaitMs, ctx.signal);
    }
  }
  if (record.jvmExitedAt === null && !executorJvmIsAlive(jvm)) {
    record.jvmExitedAt = Date.now();
    ctx.log.line('executor jvm exited', { pod: record.pod, pid: jvm.pid, afterSignalMs: record.signalSentAt === null ? null : record.jvmExitedAt - record.signalSentAt });
  }
  if (ctx.signal.aborted) return;
  await finishDeletion(pod, ctx.core);
  record.deletionFinishedAt = Date.now();
  record.removedBy ??= 'kubelet-stand-in';
  ctx.log.line('deletion finished', { pod: record.pod, killed: record.killed });
}

/** Spark adds `/opt/decom.sh` as the executor container's preStop hook when decommissioning is enabled. */
export function hasDecommissionHook(pod: V1Pod): boolean {
  return (pod.spec?.containers ?? []).some((c) => (c.lifecycle?.preStop?.exec?.command ?? []).some((arg) => arg.includes('decom.sh')));
}

/** True once the JVM has exited; false when `until` passed or the bridge stopped first. */
async function waitForExit(jvm: ExecutorJvm, until: number, signal: AbortSignal): Promise<boolean> {
  while (executorJvmIsAlive(jvm)) {
    if (Date.now() >= until || signal.aborted) return false;
    await sleep(Math.min(50, Math.max(1, until - Date.now())));
  }
  return true;
}

async function finishDeletion(pod: V1Pod, core: CoreV1Api): Promise<void> {
  try {
    await core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: pod.metadata!.namespace ?? 'default', gracePeriodSeconds: 0 });
  } catch (err) {
    if (!(err instanceof ApiException && err.code === 404)) throw err;
  }
}

function sendSignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}
