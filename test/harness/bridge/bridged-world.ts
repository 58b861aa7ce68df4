// Both test worlds joined by the bridge, for one end-to-end scenario: a real
// control plane (etcd, kube-apiserver, controller-manager, kwok), a Spark
// standalone cluster whose workers are its spot Nodes, and the bridge
// mirroring executors as Pods. Started together, stopped by pid.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startControlPlane } from '../k8s/control-plane.ts';
import type { ControlPlane } from '../k8s/control-plane.ts';
import { kubeClients } from '../k8s/kube-clients.ts';
import type { KubeClients } from '../k8s/kube-clients.ts';
import { startSparkCluster } from '../spark/spark-cluster.ts';
import type { SparkCluster } from '../spark/spark-cluster.ts';
import type { SparkInstall } from '../spark/spark-install.ts';
import { startSparkBridge } from './spark-bridge.ts';
import type { SparkBridge } from './spark-bridge.ts';

export interface BridgedWorldOptions {
  dir: string;
  workers: number;
  install?: SparkInstall;
  /** Users whose API requests kube-apiserver audits (see the k8s harness). */
  auditUsers?: string[];
}

export interface BridgedWorld {
  dir: string;
  cp: ControlPlane;
  k: KubeClients;
  cluster: SparkCluster;
  bridge: SparkBridge;
  /** Control plane, Spark (daemons, driver, executors) and bridge logs. */
  logTails(lines?: number): string;
  stop(): Promise<void>;
}

export async function startBridgedWorld(opts: BridgedWorldOptions): Promise<BridgedWorld> {
  const k8sDir = join(opts.dir, 'k8s');
  const sparkDir = join(opts.dir, 'spark');
  mkdirSync(k8sDir, { recursive: true });
  mkdirSync(sparkDir, { recursive: true });
  const [cp, cluster] = await Promise.allSettled([
    startControlPlane({ dir: k8sDir, ...(opts.auditUsers ? { auditUsers: opts.auditUsers } : {}) }),
    startSparkCluster({ dir: sparkDir, workers: opts.workers, coresPerWorker: 1, memoryPerWorker: '1g', ...(opts.install ? { install: opts.install } : {}) }),
  ]);
  if (cp.status === 'rejected' || cluster.status === 'rejected') {
    await Promise.all([cp.status === 'fulfilled' && cp.value.stop(), cluster.status === 'fulfilled' && cluster.value.stop()]);
    throw cp.status === 'rejected' ? cp.reason : (cluster as PromiseRejectedResult).reason;
  }
  const k = kubeClients(cp.value.kubeconfigPath);
  let bridge: SparkBridge;
  try {
    bridge = await startSparkBridge({ cluster: cluster.value, core: k.core, dir: opts.dir });
  } catch (err) {
    await Promise.all([cp.value.stop(), cluster.value.stop()]);
    throw err;
  }
  return {
    dir: opts.dir,
    cp: cp.value,
    k,
    cluster: cluster.value,
    bridge,
    logTails: (lines = 40) => [cp.value.logTails(Math.min(lines, 25)), cluster.value.logTails(lines), bridge.logTails(lines)].join('\n'),
    stop: async () => {
      await bridge.stop();
      await Promise.all([cluster.value.stop(), cp.value.stop()]);
    },
  };
}
