import { readFile } from 'node:fs/promises';
import type { PodSnapshot } from '../../core/domain/kube-snapshots.ts';
import { findPodJvm, parseExecutorJvm, scanExecutorJvms } from './executor-jvms.ts';

/**
 * SIGPWR to the executor JVM of a pod: Spark's decommission signal. Checks the process is still that
 * JVM right before signalling (pids are reused). Returns false when no JVM was found.
 */
export async function signalExecutor(pod: PodSnapshot, procRoot: string): Promise<boolean> {
  const jvm = findPodJvm(pod, await scanExecutorJvms(procRoot));
  if (!jvm) return false;
  const cmdline = await readFile(`${procRoot}/${jvm.pid}/cmdline`, 'utf8').catch(() => '');
  const cgroup = await readFile(`${procRoot}/${jvm.pid}/cgroup`, 'utf8').catch(() => '');
  const again = parseExecutorJvm(jvm.pid, cmdline, cgroup);
  if (!again || again.appId !== jvm.appId || again.executorId !== jvm.executorId) return false;
  try {
    process.kill(jvm.pid, 'SIGPWR');
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}
