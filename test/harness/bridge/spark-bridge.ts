// The bridge between the Spark test world and the Kubernetes test world, so
// the agent can be tested against real Spark executors:
//
// - every Spark worker is a kwok Node (spot, aws providerID), plus one
//   on-demand Node for drivers (worker-nodes.ts);
// - every executor JVM of the cluster (found in /proc) is mirrored as an
//   executor Pod on its worker's node, owned by a driver Pod of its app
//   (executor-pods.ts);
// - a kubelet stand-in terminates the JVM of an executor pod that is being
//   deleted, then finishes the deletion (kubelet-stand-in.ts);
// - a NoSchedule taint is honoured: a worker whose node is tainted gets no new
//   executor pods (a JVM the standalone master starts there anyway is not
//   mirrored), and once its executors are gone its Worker daemon is stopped,
//   so the master cannot start replacements there;
// - machineDies(node) SIGKILLs what runs on that worker (machine-death.ts).
//
// One short poll loop does it all: /proc, executor pods and worker nodes,
// every `intervalMs`.
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import { tailFile } from '../k8s/log-tails.ts';
import type { SparkApp } from '../k8s/pods.ts';
import { waitFor } from '../k8s/wait-for.ts';
import { executorJvmIsAlive, findExecutorJvms } from '../spark/executor-jvms.ts';
import type { ExecutorJvm } from '../spark/executor-jvms.ts';
import type { SparkCluster, SparkWorker } from '../spark/spark-cluster.ts';
import { BridgeLog } from './bridge-records.ts';
import type { ExecutorPodRecord, MachineDeath } from './bridge-records.ts';
import { driverPodFor, executorPodFor, sparkAppFor, workerAddressOf } from './executor-pods.ts';
import { terminateExecutorPod } from './kubelet-stand-in.ts';
import { killMachine } from './machine-death.ts';
import { BRIDGE_NODE_LABEL, DRIVER_NODE_NAME, registerNodes, workerNodeName } from './worker-nodes.ts';

export interface SparkBridgeOptions {
  cluster: SparkCluster;
  core: CoreV1Api;
  /** bridge.log goes here. */
  dir: string;
  /** Namespace of the driver and executor pods (default `default`). */
  namespace?: string;
  /** Pause between polls (default 200 ms). */
  intervalMs?: number;
  /** The apps enabled spark.decommission.enabled: executor pods get Spark's preStop hook (default true). */
  decommission?: boolean;
}

export interface SparkBridge {
  readonly driverNodeName: string;
  /** Node names, in worker order. */
  readonly workerNodeNames: readonly string[];
  /** Everything the bridge did (kept up to date while it runs). */
  readonly log: BridgeLog;
  readonly logPath: string;
  /** The node of the worker at `host` (its loopback address). */
  nodeNameOf(host: string): string;
  /** The record of an executor's pod, once mirrored. */
  executorPod(appId: string, executorId: string): ExecutorPodRecord | undefined;
  /** Waits until `count` executors of `appId` are mirrored and their pods Running. */
  waitForExecutorPods(appId: string, count: number, timeoutMs?: number): Promise<ExecutorPodRecord[]>;
  /** The machine behind `nodeName` is reclaimed: SIGKILL whatever still runs on its worker. */
  machineDies(nodeName: string): Promise<MachineDeath>;
  logTails(lines?: number): string;
  /** Stops polling; pending terminations are abandoned (JVMs and pods are left as they are). */
  stop(): Promise<void>;
}

interface WorkerEntry {
  worker: SparkWorker;
  nodeName: string;
  stopped: boolean;
}

interface Mirrored {
  record: ExecutorPodRecord;
  jvm: ExecutorJvm;
  terminating: boolean;
}

/** Registers the nodes, then mirrors and follows executors until stop(). */
export async function startSparkBridge(opts: SparkBridgeOptions): Promise<SparkBridge> {
  const { core, cluster } = opts;
  const namespace = opts.namespace ?? 'default';
  const logPath = join(opts.dir, 'bridge.log');
  const log = new BridgeLog(logPath);
  await registerNodes(core, cluster.workers);
  const workers = cluster.workers.map((worker): WorkerEntry => ({ worker, nodeName: workerNodeName(worker), stopped: false }));
  const byAddress = new Map<string, WorkerEntry>(workers.map((w) => [`${w.worker.host}:${w.worker.port}`, w]));
  const mirrored = new Map<string, Mirrored>();
  const refused = new Set<string>();
  const apps = new Map<string, Promise<{ app: SparkApp; driver: V1Pod }>>();
  const tasks = new Set<Promise<void>>();
  const abort = new AbortController();
  const standIn = { core, log, signal: abort.signal };
  log.line('nodes registered', { workers: workers.map((w) => ({ node: w.nodeName, worker: `${w.worker.host}:${w.worker.port}` })), driverNode: DRIVER_NODE_NAME });

  const track = (what: string, task: Promise<void>): void => {
    const p = task.catch((err: unknown) => log.line(`${what} failed`, { err: (err as Error).message }));
    tasks.add(p);
    void p.finally(() => tasks.delete(p));
  };

  const appPods = (appId: string): Promise<{ app: SparkApp; driver: V1Pod }> => {
    let pending = apps.get(appId);
    if (!pending) {
      pending = (async () => {
        const state = await cluster.masterState().catch(() => null);
        const name = state?.activeapps.find((a) => a.id === appId)?.name ?? 'spark-app';
        const app = sparkAppFor(appId, name, opts.decommission ?? true, cluster.install.version, namespace);
        const driver = await core.createNamespacedPod({ namespace, body: driverPodFor(app, DRIVER_NODE_NAME) });
        log.line('driver pod created', { pod: `${namespace}/${driver.metadata!.name}`, appId });
        return { app, driver };
      })();
      apps.set(appId, pending);
      pending.catch(() => apps.delete(appId));
    }
    return pending;
  };

  const mirror = async (jvm: ExecutorJvm, w: WorkerEntry): Promise<void> => {
    const { app, driver } = await appPods(jvm.appId);
    const pod = await core.createNamespacedPod({ namespace, body: executorPodFor(app, jvm, w.nodeName, driver) });
    const record: ExecutorPodRecord = {
      pod: `${namespace}/${pod.metadata!.name}`, uid: pod.metadata!.uid!, node: w.nodeName, appId: jvm.appId, executorId: jvm.executorId, pid: jvm.pid,
      mirroredAt: Date.now(), deletionSeenAt: null, graceSeconds: null, signal: null, signalSentAt: null, jvmExitedAt: null,
      killed: false, diedWithMachine: false, deletionFinishedAt: null, podGoneAt: null, removedBy: null,
    };
    mirrored.set(keyOf(jvm), { record, jvm, terminating: false });
    log.pods.push(record);
    log.line('executor pod created', { pod: record.pod, node: w.nodeName, appId: jvm.appId, executorId: jvm.executorId, pid: jvm.pid });
  };

  const tick = async (): Promise<void> => {
    const listedAt = Date.now();
    const [nodeList, podList] = await Promise.all([
      core.listNode({ labelSelector: `${BRIDGE_NODE_LABEL}=worker` }),
      core.listNamespacedPod({ namespace, labelSelector: 'spark-role=executor' }),
    ]);
    const taintOn = new Map(nodeList.items.map((n) => [n.metadata!.name!, blockingTaint(n)] as const));
    const pods = new Map(podList.items.map((p) => [p.metadata!.uid!, p] as const));

    // Pods that exist, or are being deleted, or were removed.
    for (const m of mirrored.values()) {
      const r = m.record;
      if (r.jvmExitedAt === null && !executorJvmIsAlive(m.jvm)) {
        r.jvmExitedAt = Date.now();
        log.line('executor jvm exited', { pod: r.pod, pid: r.pid, deletionSeen: r.deletionSeenAt !== null });
      }
      if (r.mirroredAt >= listedAt || r.podGoneAt !== null) continue;
      const pod = pods.get(r.uid);
      if (!pod) {
        r.podGoneAt = Date.now();
        r.removedBy ??= 'other';
        log.line('executor pod gone', { pod: r.pod, removedBy: r.removedBy });
      } else if (pod.metadata?.deletionTimestamp && !m.terminating) {
        m.terminating = true;
        track(`termination of ${r.pod}`, terminateExecutorPod(pod, m.jvm, r, standIn));
      }
    }

    // New executor JVMs of this cluster's workers.
    for (const jvm of findExecutorJvms()) {
      const key = keyOf(jvm);
      if (mirrored.has(key) || refused.has(key)) continue;
      const w = byAddress.get(workerAddressOf(jvm.pid) ?? '');
      if (!w) continue;
      const taint = taintOn.get(w.nodeName);
      if (taint) {
        refused.add(key);
        log.refused.push({ node: w.nodeName, appId: jvm.appId, executorId: jvm.executorId, pid: jvm.pid, at: Date.now(), taint });
        log.line('executor not admitted: node tainted', { node: w.nodeName, appId: jvm.appId, executorId: jvm.executorId, pid: jvm.pid, taint });
        continue;
      }
      await mirror(jvm, w);
    }

    // A tainted worker takes no new executors: once its own are gone, its daemon stops.
    for (const w of workers) {
      const taint = taintOn.get(w.nodeName);
      if (!taint || w.stopped) continue;
      const running = [...mirrored.values()].filter((m) => m.record.node === w.nodeName && m.record.jvmExitedAt === null);
      if (running.length > 0) continue;
      w.stopped = true;
      log.workerStops.push({ node: w.nodeName, at: Date.now(), taint });
      log.line('worker daemon stopped: node tainted and its executors gone', { node: w.nodeName, taint });
      track(`stop of ${w.nodeName}'s worker`, w.worker.process.stop(5_000));
    }
  };

  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        await tick();
      } catch (err) {
        log.line('poll failed', { err: (err as Error).message });
      }
      await sleep(opts.intervalMs ?? 200, undefined, { signal: abort.signal }).catch(() => undefined);
    }
  })();

  const entryOf = (nodeName: string): WorkerEntry => {
    const w = workers.find((e) => e.nodeName === nodeName);
    if (!w) throw new Error(`${nodeName} is no Spark worker's node (${workers.map((e) => e.nodeName).join(', ')})`);
    return w;
  };

  return {
    driverNodeName: DRIVER_NODE_NAME,
    workerNodeNames: workers.map((w) => w.nodeName),
    log,
    logPath,
    nodeNameOf: (host) => {
      const w = workers.find((e) => e.worker.host === host);
      if (!w) throw new Error(`no Spark worker at ${host}`);
      return w.nodeName;
    },
    executorPod: (appId, executorId) => mirrored.get(`${appId}/${executorId}`)?.record,
    waitForExecutorPods: (appId, count, timeoutMs = 60_000) =>
      waitFor(`${count} executor pods of ${appId} Running`, async () => {
        const records = [...mirrored.values()].map((m) => m.record).filter((r) => r.appId === appId);
        if (records.length < count) return undefined;
        const list = await core.listNamespacedPod({ namespace, labelSelector: `spark-app-selector=${appId},spark-role=executor` });
        const running = new Set(list.items.filter((p) => p.status?.phase === 'Running').map((p) => p.metadata!.uid));
        return records.every((r) => running.has(r.uid)) ? records : undefined;
      }, { timeoutMs, intervalMs: 200 }),
    machineDies: async (nodeName) => {
      const w = entryOf(nodeName);
      const at = Date.now();
      const killed = await killMachine(w.worker);
      w.stopped = true;
      const pids = new Set(killed.map((k) => k.pid));
      for (const m of mirrored.values()) if (pids.has(m.record.pid)) m.record.diedWithMachine = true;
      const death = { node: nodeName, at, killed };
      log.deaths.push(death);
      log.line('machine died', { node: nodeName, killed });
      return death;
    },
    logTails: (lines = 40) => `----- bridge.log (last ${lines} lines) -----\n${tailFile(logPath, lines)}`,
    stop: async () => {
      abort.abort();
      await loop;
      await Promise.all([...tasks]);
    },
  };
}

/** The taint that keeps new executor pods off a node (NoSchedule/NoExecute; the node lifecycle's own taints aside), as key=value:effect. */
function blockingTaint(node: V1Node): string | null {
  const taint = (node.spec?.taints ?? []).find((t: V1Taint) =>
    (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !t.key.startsWith('node.kubernetes.io/'));
  return taint ? `${taint.key}=${taint.value ?? ''}:${taint.effect}` : null;
}

function keyOf(jvm: ExecutorJvm): string {
  return `${jvm.appId}/${jvm.executorId}`;
}
