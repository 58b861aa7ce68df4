import { readdir, readFile } from 'node:fs/promises';
import type { PodSnapshot } from '../../core/domain/kube-snapshots.ts';

/** A Spark executor JVM seen in /proc. */
export interface ExecutorJvm {
  readonly pid: number;
  /** From /proc/<pid>/cgroup (kubepods…pod<uid>…), when the JVM runs in a pod's cgroup. */
  readonly podUid: string | null;
  readonly appId: string | null;
  readonly executorId: string | null;
}

const backendClasses = ['CoarseGrainedExecutorBackend', 'KubernetesExecutorBackend', 'YarnCoarseGrainedExecutorBackend'];

/** Parses one process: null unless its command line runs a Spark executor backend. */
export function parseExecutorJvm(pid: number, cmdline: string, cgroup: string): ExecutorJvm | null {
  const args = cmdline.split('\0').filter((a) => a !== '');
  if (!args.some((a) => backendClasses.some((c) => a.endsWith(c)))) return null;
  const flag = (name: string): string | null => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? (args[i + 1] as string) : null;
  };
  // cgroupfs: /kubepods/burstable/pod<uid>/<ctr>; systemd: kubepods-burstable-pod<uid_with_underscores>.slice
  const match = /pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})/.exec(cgroup);
  return {
    pid,
    podUid: match ? (match[1] as string).replaceAll('_', '-') : null,
    appId: flag('--app-id'),
    executorId: flag('--executor-id'),
  };
}

/** Every executor JVM on this host (with hostPID, /proc is the host's). */
export async function scanExecutorJvms(procRoot: string): Promise<ExecutorJvm[]> {
  const entries = await readdir(procRoot).catch(() => [] as string[]);
  const jvms: ExecutorJvm[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const cmdline = await readFile(`${procRoot}/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!cmdline.includes('ExecutorBackend')) continue;
    const cgroup = await readFile(`${procRoot}/${entry}/cgroup`, 'utf8').catch(() => '');
    const jvm = parseExecutorJvm(pid, cmdline, cgroup);
    if (jvm) jvms.push(jvm);
  }
  return jvms;
}

/** The JVM of an executor pod: by the pod uid in its cgroup, else by app id and executor id on its command line. */
export function findPodJvm(pod: PodSnapshot, jvms: readonly ExecutorJvm[]): ExecutorJvm | null {
  return (
    jvms.find((j) => j.podUid === pod.uid) ??
    jvms.find((j) => j.podUid === null && j.appId !== null && j.appId === pod.sparkAppId && j.executorId === pod.sparkExecutorId) ??
    null
  );
}
