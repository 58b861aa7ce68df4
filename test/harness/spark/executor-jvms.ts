// Spark executor JVMs on this machine, found through /proc the way a node
// agent finds them: by the executor backend class on the command line and its
// --executor-id, --app-id and --hostname / --bind-address arguments. In the
// test world the host tells which worker ("node") runs the executor.
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ExecutorJvm {
  pid: number;
  executorId: string;
  appId: string;
  /** The executor's address (--hostname, else --bind-address): its worker's loopback alias. */
  host: string;
}

const backendClasses = [
  'org.apache.spark.executor.CoarseGrainedExecutorBackend',
  'org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend',
];

/** An executor JVM's identity from its NUL-separated command line; null for any other process. */
export function parseExecutorCmdline(pid: number, cmdline: string): ExecutorJvm | null {
  const args = cmdline.split('\0');
  const at = args.findIndex((a) => backendClasses.includes(a));
  if (at < 0) return null;
  const rest = args.slice(at + 1);
  const flag = (name: string): string | undefined => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const executorId = flag('--executor-id');
  const appId = flag('--app-id');
  const host = flag('--hostname') ?? flag('--bind-address');
  if (!executorId || !appId || !host) return null;
  return { pid, executorId, appId, host };
}

/** Every executor JVM running now, optionally only those of one application. */
export function findExecutorJvms(filter: { appId?: string } = {}, procRoot = '/proc'): ExecutorJvm[] {
  const found: ExecutorJvm[] = [];
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`${procRoot}/${entry}/cmdline`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    if (!cmdline.includes('ExecutorBackend')) continue;
    const jvm = parseExecutorCmdline(Number(entry), cmdline);
    if (jvm && (filter.appId === undefined || jvm.appId === filter.appId)) found.push(jvm);
  }
  return found.sort((a, b) => Number(a.executorId) - Number(b.executorId) || a.pid - b.pid);
}

/** The JVM of one executor of one application, or undefined when it is not running. */
export function findExecutorJvm(appId: string, executorId: string): ExecutorJvm | undefined {
  return findExecutorJvms({ appId }).find((j) => j.executorId === executorId);
}

/** True while `jvm`'s process is alive (not a zombie) and still that executor. */
export function executorJvmIsAlive(jvm: ExecutorJvm): boolean {
  try {
    const stat = readFileSync(`/proc/${jvm.pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return false;
    const now = parseExecutorCmdline(jvm.pid, readFileSync(`/proc/${jvm.pid}/cmdline`, 'utf8'));
    return now !== null && now.appId === jvm.appId && now.executorId === jvm.executorId;
  } catch {
    return false;
  }
}

/** Waits until `jvm` has exited; returns how long that took, or throws after `timeoutMs`. */
export async function waitForExecutorExit(jvm: ExecutorJvm, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (executorJvmIsAlive(jvm)) {
    if (Date.now() - started > timeoutMs) {
      throw new Error(`executor ${jvm.executorId} of ${jvm.appId} (pid ${jvm.pid}) still running after ${timeoutMs / 1000}s`);
    }
    await sleep(50);
  }
  return Date.now() - started;
}
