// A Spark standalone cluster on loopback: a master on 127.0.0.1 and N
// workers, each on its own loopback address (127.0.0.2, .3, …) so that Spark
// sees N hosts; each worker stands for one Kubernetes node. The pyspark wheel
// has no sbin/start-*.sh scripts: the daemons are started with bin/spark-class.
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { freePort } from '../k8s/free-port.ts';
import { logTails, tailFile } from '../k8s/log-tails.ts';
import { waitFor } from '../k8s/wait-for.ts';
import { startDaemon } from './daemon-process.ts';
import type { DaemonProcess } from './daemon-process.ts';
import { sparkInstall, sparkProcessEnv } from './spark-install.ts';
import type { SparkInstall } from './spark-install.ts';

export interface SparkClusterOptions {
  /** Everything goes under here: logs/, conf/, worker-<n>/{work,local}. */
  dir: string;
  workers: number;
  coresPerWorker?: number;
  /** What each worker offers to executors, e.g. '1g'. */
  memoryPerWorker?: string;
  /** Heap of the master and worker JVMs. */
  daemonMemory?: string;
  install?: SparkInstall;
  startTimeoutMs?: number;
}

export interface SparkWorker {
  /** 1-based; the worker's address is 127.0.0.<index + 1>. */
  index: number;
  host: string;
  port: number;
  webUiPort: number;
  /** Executors' stdout/stderr land in <workDir>/<appId>/<executorId>/. */
  workDir: string;
  process: DaemonProcess;
}

export interface SparkCluster {
  dir: string;
  install: SparkInstall;
  /** spark://127.0.0.1:<port> */
  masterUrl: string;
  masterWebUiUrl: string;
  workers: SparkWorker[];
  logsDir: string;
  confDir: string;
  /** The master's view (GET /json/). */
  masterState(): Promise<MasterState>;
  /** Tails of the daemon logs and of every executor's stderr. */
  logTails(lines?: number): string;
  /** Stops every worker (and so its executors), then the master; by process group. */
  stop(): Promise<void>;
}

/** The part of the master's /json/ this harness reads. */
export interface MasterState {
  url: string;
  status: string;
  aliveworkers: number;
  workers: { id: string; host: string; port: number; state: string; cores: number; coresused: number }[];
  activeapps: { id: string; name: string; state: string; cores: number }[];
}

const daemonJavaOpts = '-XX:+UseSerialGC -XX:TieredStopAtLevel=1';

/** Starts the master and the workers and waits until every worker has registered. */
export async function startSparkCluster(opts: SparkClusterOptions): Promise<SparkCluster> {
  if (opts.workers < 1 || opts.workers > 250) throw new Error(`workers must be 1..250, got ${opts.workers}`);
  const install = opts.install ?? sparkInstall();
  const logsDir = join(opts.dir, 'logs');
  const confDir = join(opts.dir, 'conf');
  mkdirSync(logsDir, { recursive: true });
  mkdirSync(confDir, { recursive: true });
  const sparkClass = join(install.sparkHome, 'bin', 'spark-class');
  const daemonEnv = (host: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv =>
    sparkProcessEnv(install, confDir, host, {
      SPARK_DAEMON_MEMORY: opts.daemonMemory ?? '256m',
      SPARK_DAEMON_JAVA_OPTS: daemonJavaOpts,
      ...extra,
    });

  const started: DaemonProcess[] = [];
  const workers: SparkWorker[] = [];
  const masterHost = '127.0.0.1';
  const masterPort = await freePort(masterHost);
  const masterWebUiPort = await freePort(masterHost);
  const masterUrl = `spark://${masterHost}:${masterPort}`;
  const masterWebUiUrl = `http://${masterHost}:${masterWebUiPort}`;
  const masterState = async (): Promise<MasterState> => {
    const res = await request(`${masterWebUiUrl}/json/`, { headersTimeout: 5_000, bodyTimeout: 5_000 });
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw new Error(`master /json/ answered ${res.statusCode}`);
    }
    return (await res.body.json()) as MasterState;
  };
  const cluster: SparkCluster = {
    dir: opts.dir,
    install,
    masterUrl,
    masterWebUiUrl,
    workers,
    logsDir,
    confDir,
    masterState,
    logTails: (lines = 40) => clusterLogTails(logsDir, workers, lines),
    stop: async () => {
      // Workers first: a worker stopping kills its executors; the master last.
      await Promise.all(started.slice(1).map((p) => p.stop()));
      await started[0]?.stop();
    },
  };

  try {
    const master = startDaemon({
      name: 'spark-master',
      command: sparkClass,
      args: ['org.apache.spark.deploy.master.Master', '--host', masterHost, '--port', String(masterPort), '--webui-port', String(masterWebUiPort)],
      logPath: join(logsDir, 'master.log'),
      // No REST submission server (it would take the fixed port 6066): apps come through spark-submit.
      env: daemonEnv(masterHost, { SPARK_MASTER_OPTS: '-Dspark.master.rest.enabled=false' }),
    });
    started.push(master);
    await waitFor('spark master to serve /json/', async () => ((await masterState()).status === 'ALIVE' ? true : undefined), {
      timeoutMs: opts.startTimeoutMs ?? 60_000,
      giveUpIf: () => (master.isRunning() ? undefined : 'the master exited'),
    });

    for (let index = 1; index <= opts.workers; index++) {
      const host = `127.0.0.${index + 1}`;
      const workerDir = join(opts.dir, `worker-${index}`);
      const workDir = join(workerDir, 'work');
      const localDir = join(workerDir, 'local');
      mkdirSync(workDir, { recursive: true });
      mkdirSync(localDir, { recursive: true });
      const port = await freePort(host);
      const webUiPort = await freePort(host);
      const daemon = startDaemon({
        name: `spark-worker-${index}`,
        command: sparkClass,
        args: [
          'org.apache.spark.deploy.worker.Worker',
          '--host', host, '--port', String(port), '--webui-port', String(webUiPort),
          '--cores', String(opts.coresPerWorker ?? 1), '--memory', opts.memoryPerWorker ?? '1g',
          '--work-dir', workDir, masterUrl,
        ],
        logPath: join(logsDir, `worker-${index}.log`),
        // SPARK_LOCAL_IP is inherited by the worker's executors: they bind to the worker's address too.
        env: daemonEnv(host, { SPARK_LOCAL_DIRS: localDir }),
      });
      started.push(daemon);
      workers.push({ index, host, port, webUiPort, workDir, process: daemon });
    }

    await waitFor(`${opts.workers} spark workers to register with the master`, async () => {
      const state = await masterState();
      const alive = new Set(state.workers.filter((w) => w.state === 'ALIVE').map((w) => `${w.host}:${w.port}`));
      return workers.every((w) => alive.has(`${w.host}:${w.port}`)) ? true : undefined;
    }, {
      timeoutMs: opts.startTimeoutMs ?? 60_000,
      giveUpIf: () => started.find((p) => !p.isRunning())?.name.concat(' exited'),
    });
    return cluster;
  } catch (err) {
    const tails = cluster.logTails(30);
    await cluster.stop();
    throw new Error(`${(err as Error).message}\n${tails}`, { cause: err });
  }
}

/** Daemon logs, then each executor's stderr (<workDir>/<appId>/<executorId>/stderr). */
function clusterLogTails(logsDir: string, workers: readonly SparkWorker[], lines: number): string {
  const blocks = [logTails(logsDir, lines)];
  for (const worker of workers) {
    if (!existsSync(worker.workDir)) continue;
    for (const app of readdirSync(worker.workDir).sort()) {
      const appDir = join(worker.workDir, app);
      for (const executor of safeReaddir(appDir)) {
        const stderr = join(appDir, executor, 'stderr');
        if (!existsSync(stderr)) continue;
        blocks.push(`----- worker-${worker.index} ${app} executor ${executor} stderr (last ${lines} lines) -----\n${tailFile(stderr, lines)}`);
      }
    }
  }
  return blocks.join('\n');
}

function safeReaddir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch {
    return [];
  }
}
