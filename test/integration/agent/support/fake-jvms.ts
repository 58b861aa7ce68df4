// Stand-ins for Spark executor JVMs (test/fixtures/fake-executor-jvm.ts) on
// this host, one per executor pod, found by the agent in /proc by their
// command line (app id and executor id), as signal mode finds real ones.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackChild } from './start-agent.ts';

const fixture = fileURLToPath(new URL('../../../fixtures/fake-executor-jvm.ts', import.meta.url));
export const kubernetesExecutorBackend = 'org.apache.spark.scheduler.cluster.k8s.KubernetesExecutorBackend';

/** One line of a fake JVM's signal log. */
export interface SignalRecord {
  pid: number;
  executorId: string;
  signal: string;
  outcome: string;
  at: number;
}

export interface FakeJvm {
  readonly pid: number;
  readonly appId: string;
  readonly executorId: string;
  /** Every signal it received, in order. */
  signals(): SignalRecord[];
  isRunning(): boolean;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

export interface FakeJvmOptions {
  appId: string;
  executorId: string;
  dir: string;
  /** How long "migrating blocks" takes after SIGPWR before it exits 0. */
  decommissionMs: number;
  /** spark.decommission.enabled (else SIGPWR kills it). Default true. */
  decommissionEnabled?: boolean;
}

export function startFakeJvm(opts: FakeJvmOptions): FakeJvm {
  const signalLog = join(opts.dir, `jvm-${opts.appId}-${opts.executorId}.signals`);
  const child = spawn(process.execPath, [
    '--disable-warning=ExperimentalWarning', fixture, kubernetesExecutorBackend,
    '--driver-url', 'spark://CoarseGrainedScheduler@driver-svc:7078',
    '--executor-id', opts.executorId, '--app-id', opts.appId, '--cores', '1', '--resourceProfileId', '0',
    '--signal-log', signalLog, '--decommission-ms', String(opts.decommissionMs),
    ...(opts.decommissionEnabled ?? true ? ['--decommission-enabled'] : []),
  ], { stdio: 'ignore' });
  if (child.pid === undefined) throw new Error('could not start the fake executor JVM');
  trackChild(child);
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      resolve({ code, signal });
    });
  });
  return {
    pid: child.pid,
    appId: opts.appId,
    executorId: opts.executorId,
    signals: () => (existsSync(signalLog)
      ? readFileSync(signalLog, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SignalRecord)
      : []),
    isRunning: () => running,
    exited,
    kill: () => { if (running) child.kill('SIGKILL'); },
  };
}

/** True once the process shows its executor command line in /proc (what the agent scans). */
export function visibleInProc(jvm: FakeJvm): boolean {
  try {
    return readFileSync(`/proc/${jvm.pid}/cmdline`, 'utf8').includes(`--app-id\0${jvm.appId}`);
  } catch {
    return false;
  }
}
