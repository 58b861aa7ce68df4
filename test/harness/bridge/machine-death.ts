// The cloud reclaims a machine: everything still running on that Spark worker
// (the Worker daemon, its executor JVMs and their Python workers) is
// SIGKILLed at once, with no chance to clean up.
import { readFileSync } from 'node:fs';
import { descendants } from '../spark/daemon-process.ts';
import { findExecutorJvms } from '../spark/executor-jvms.ts';
import type { SparkWorker } from '../spark/spark-cluster.ts';
import type { KilledProcess } from './bridge-records.ts';
import { workerAddressOf } from './executor-pods.ts';

/** SIGKILLs what runs on `worker` and returns what it killed (nothing when all was gone already). */
export async function killMachine(worker: SparkWorker): Promise<KilledProcess[]> {
  const address = `${worker.host}:${worker.port}`;
  const executors = findExecutorJvms().filter((j) => workerAddressOf(j.pid) === address);
  const daemonRunning = worker.process.isRunning();
  const others = daemonRunning ? descendants(worker.process.pid) : [];
  const killed: KilledProcess[] = [];
  // The worker's process group first (the daemon and its executors at once), so the daemon cannot
  // report an executor's death to the master and get a replacement before it dies itself.
  if (daemonRunning && kill(-worker.process.pid)) killed.push({ pid: worker.process.pid, what: 'spark worker daemon' });
  for (const jvm of executors) {
    kill(jvm.pid);
    killed.push({ pid: jvm.pid, what: `executor ${jvm.executorId} of ${jvm.appId}` });
  }
  const counted = new Set(killed.map((k) => k.pid));
  for (const p of others) {
    if (counted.has(p.pid)) continue;
    const name = commandName(p.pid);
    if (kill(p.pid)) killed.push({ pid: p.pid, what: `process ${name}` });
  }
  // Reaps the group and forgets it (nothing is left to stop).
  await worker.process.stop(0);
  return killed;
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '?';
  }
}

function kill(target: number): boolean {
  try {
    process.kill(target, 'SIGKILL');
    return true;
  } catch {
    return false; // already gone
  }
}
