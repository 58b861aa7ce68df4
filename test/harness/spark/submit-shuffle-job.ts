// Submits shuffle-job.py to a test-world cluster with bin/spark-submit
// (client mode: the driver runs here, on 127.0.0.1, its UI and REST API on a
// fixed port) and follows it through the files it writes in its control dir.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../k8s/free-port.ts';
import { tailFile } from '../k8s/log-tails.ts';
import { waitFor } from '../k8s/wait-for.ts';
import { startDaemon } from './daemon-process.ts';
import type { DaemonProcess } from './daemon-process.ts';
import type { SparkCluster } from './spark-cluster.ts';
import { sparkProcessEnv } from './spark-install.ts';
import { sparkRest } from './spark-rest.ts';
import type { SparkRest } from './spark-rest.ts';

export interface ShuffleJobOptions {
  cluster: SparkCluster;
  /** A short name: the job's files go under <cluster.dir>/jobs/<name>/. */
  name: string;
  /** spark.decommission.enabled and storage (shuffle block) decommissioning. */
  decommission: boolean;
  /** spark.storage.decommission.replicationReattemptInterval (default 2s). */
  migrationInterval?: string;
  /** Wait for release('continue') before action 2 and release('finish') before stopping. */
  pause?: boolean;
  records?: number;
  keys?: number;
  mapPartitions?: number;
  reducePartitions?: number;
  /** Seconds each task of action 1's reading stage waits before reading (a window to lose an executor mid-stage). */
  firstReadDelay?: number;
  executorMemory?: string;
  /** Extra or overriding Spark settings. */
  conf?: Record<string, string>;
  readyTimeoutMs?: number;
}

export interface ReadyMarker {
  appId: string;
  uiWebUrl: string;
  sparkVersion: string;
}

export interface MapDoneMarker {
  keys: number;
  seconds: number;
}

export interface ResultMarker {
  answer: number[];
  expected: number[];
  correct: boolean;
  /** Duration of action 2, which reads the shuffle written by action 1. */
  seconds: number;
}

export interface ShuffleJob {
  appId: string;
  sparkVersion: string;
  /** The driver UI, e.g. http://127.0.0.1:<spark.ui.port>. */
  uiUrl: string;
  rest: SparkRest;
  controlDir: string;
  /** The driver's output (spark-submit, the driver JVM and the Python job). */
  logPath: string;
  process: DaemonProcess;
  /** Waits for <controlDir>/<name>; gives up when the job failed or exited. */
  waitForMarker<T>(name: 'map-done.json' | 'result.json', timeoutMs?: number): Promise<T>;
  release(step: 'continue' | 'finish'): void;
  /** Resolves with how the driver ended (expects it to end within `timeoutMs`). */
  waitForExit(timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

const jobScript = new URL('./shuffle-job.py', import.meta.url).pathname;
const driverHost = '127.0.0.1';

/** The Spark settings of a run: small JVMs, one executor per worker, decommissioning on or off. */
export function shuffleJobConf(opts: ShuffleJobOptions, uiPort: number, localDir: string): Record<string, string> {
  const cores = opts.cluster.workers.length;
  const decommission = String(opts.decommission);
  return {
    'spark.driver.host': driverHost,
    'spark.driver.bindAddress': driverHost,
    'spark.ui.port': String(uiPort),
    'spark.ui.showConsoleProgress': 'false',
    'spark.local.dir': localDir,
    'spark.executor.memory': opts.executorMemory ?? '640m',
    'spark.executor.cores': '1',
    'spark.cores.max': String(cores),
    // Start only once an executor runs on every worker, so the map output spreads over all of them.
    'spark.scheduler.minRegisteredResourcesRatio': '1.0',
    'spark.scheduler.maxRegisteredResourcesWaitingTime': '90s',
    'spark.locality.wait': '0s',
    'spark.executor.extraJavaOptions': '-XX:+UseSerialGC',
    'spark.driver.extraJavaOptions': '-XX:+UseSerialGC',
    'spark.pyspark.python': opts.cluster.install.python,
    'spark.pyspark.driver.python': opts.cluster.install.python,
    'spark.decommission.enabled': decommission,
    'spark.storage.decommission.enabled': decommission,
    'spark.storage.decommission.shuffleBlocks.enabled': decommission,
    'spark.storage.decommission.replicationReattemptInterval': opts.migrationInterval ?? '2s',
    ...opts.conf,
  };
}

/** Starts the driver and waits until its SparkContext is up (ready.json). */
export async function submitShuffleJob(opts: ShuffleJobOptions): Promise<ShuffleJob> {
  const { cluster } = opts;
  const jobDir = join(cluster.dir, 'jobs', opts.name);
  const controlDir = join(jobDir, 'control');
  const localDir = join(jobDir, 'local');
  mkdirSync(controlDir, { recursive: true });
  mkdirSync(localDir, { recursive: true });
  const uiPort = await freePort(driverHost);
  const conf = shuffleJobConf(opts, uiPort, localDir);
  const args = ['--master', cluster.masterUrl, '--deploy-mode', 'client', '--name', `spotguard-${opts.name}`, '--driver-memory', '512m'];
  for (const [key, value] of Object.entries(conf)) args.push('--conf', `${key}=${value}`);
  args.push(jobScript, '--control-dir', controlDir);
  if (opts.pause ?? true) args.push('--pause');
  if (opts.records !== undefined) args.push('--records', String(opts.records));
  if (opts.keys !== undefined) args.push('--keys', String(opts.keys));
  if (opts.mapPartitions !== undefined) args.push('--map-partitions', String(opts.mapPartitions));
  if (opts.reducePartitions !== undefined) args.push('--reduce-partitions', String(opts.reducePartitions));
  if (opts.firstReadDelay !== undefined) args.push('--first-read-delay', String(opts.firstReadDelay));

  const logPath = join(cluster.logsDir, `driver-${opts.name}.log`);
  const driver = startDaemon({
    name: `spark-driver-${opts.name}`,
    command: join(cluster.install.sparkHome, 'bin', 'spark-submit'),
    args,
    logPath,
    env: sparkProcessEnv(cluster.install, cluster.confDir, driverHost),
    cwd: jobDir,
  });

  const failure = (): string | undefined => {
    const error = join(controlDir, 'error.json');
    if (existsSync(error)) return `the job failed: ${readJson<{ traceback: string }>(error).traceback}`;
    if (!driver.isRunning()) return `the driver exited; its log ends:\n${tailFile(logPath, 30)}`;
    return undefined;
  };
  const waitForMarker = <T>(name: string, timeoutMs = 180_000): Promise<T> => {
    const path = join(controlDir, name);
    return waitFor(`shuffle job ${opts.name}: ${name}`, async () => (existsSync(path) ? readJson<T>(path) : undefined), {
      timeoutMs,
      intervalMs: 100,
      giveUpIf: () => (existsSync(path) ? undefined : failure()),
    });
  };

  let ready: ReadyMarker;
  try {
    ready = await waitForMarker<ReadyMarker>('ready.json', opts.readyTimeoutMs ?? 120_000);
  } catch (err) {
    await driver.stop();
    throw err;
  }
  // Spark moves to the next port when the chosen one was taken meanwhile: trust what the driver says.
  const uiUrl = `http://${driverHost}:${new URL(ready.uiWebUrl).port || uiPort}`;
  return {
    appId: ready.appId,
    sparkVersion: ready.sparkVersion,
    uiUrl,
    rest: sparkRest(uiUrl),
    controlDir,
    logPath,
    process: driver,
    waitForMarker,
    release: (step) => writeFileSync(join(controlDir, step), `${new Date().toISOString()}\n`),
    waitForExit: async (timeoutMs = 60_000) => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`driver ${opts.name} still running after ${timeoutMs / 1000}s`)), timeoutMs);
      });
      try {
        return await Promise.race([driver.exited, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    stop: () => driver.stop(),
  };
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
