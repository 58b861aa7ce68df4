// The scene an interruption lands on: a spot node running a Spark app's
// executors (its driver on an on-demand node), plain pods and a DaemonSet pod.
import { randomBytes } from 'node:crypto';
import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from '../../../harness/k8s/kube-clients.ts';
import type { PodDeletionMode } from '../../../harness/k8s/kwok-stages.ts';
import { aNode, createReadyNode } from '../../../harness/k8s/nodes.ts';
import type { NodeOptions, Provider as NodeProvider } from '../../../harness/k8s/nodes.ts';
import {
  aDaemonSet, aDaemonSetPod, aDriverPod, aPlainPod, aSparkApp, anExecutorPod, createRunningPod,
} from '../../../harness/k8s/pods.ts';
import type { SparkApp } from '../../../harness/k8s/pods.ts';

export interface SparkScene {
  /** The spot node the agent runs on. */
  node: V1Node;
  nodeName: string;
  /** The on-demand node the driver runs on. */
  driverNodeName: string;
  app: SparkApp;
  driver: V1Pod;
  executors: V1Pod[];
  plainPods: V1Pod[];
  daemonSetPod: V1Pod | null;
}

export interface SceneOptions {
  provider: NodeProvider;
  /** Options of the spot node (default: the provider's spot node). */
  node?: NodeOptions;
  executors?: number;
  /** How the executors' deletions complete under kwok (default at-grace-end: a graceful eviction takes its grace). */
  executorDeletion?: PodDeletionMode;
  plainPods?: number;
  daemonSetPod?: boolean;
  app?: Partial<SparkApp>;
  /** Extra labels on the executor pods. */
  executorLabels?: Record<string, string>;
}

export async function createSparkScene(k: KubeClients, opts: SceneOptions): Promise<SparkScene> {
  const [node, driverNode] = await Promise.all([
    createReadyNode(k.core, aNode(opts.provider, { capacity: 'spot', ...opts.node })),
    createReadyNode(k.core, aNode(opts.provider, { capacity: 'on-demand' })),
  ]);
  const nodeName = node.metadata!.name!;
  const driverNodeName = driverNode.metadata!.name!;
  const app = aSparkApp(opts.app);
  const driver = await createRunningPod(k.core, aDriverPod(app, { node: driverNodeName }));
  const executors = await Promise.all(Array.from({ length: opts.executors ?? 3 }, (_, i) =>
    createRunningPod(k.core, anExecutorPod(app, {
      node: nodeName, execId: i + 1, driver, deletion: opts.executorDeletion ?? 'at-grace-end', ...(opts.executorLabels ? { labels: opts.executorLabels } : {}),
    }))));
  const plainPods = await Promise.all(Array.from({ length: opts.plainPods ?? 2 }, () =>
    createRunningPod(k.core, aPlainPod({ node: nodeName }))));
  let daemonSetPod: V1Pod | null = null;
  if (opts.daemonSetPod ?? true) {
    const ds = await k.apps.createNamespacedDaemonSet({
      namespace: 'kube-system', body: aDaemonSet(`node-exporter-${randomBytes(3).toString('hex')}`),
    });
    daemonSetPod = await createRunningPod(k.core, aDaemonSetPod({ node: nodeName, daemonSet: ds }));
  }
  return { node, nodeName, driverNodeName, app, driver, executors, plainPods, daemonSetPod };
}

export function podName(pod: V1Pod): string {
  return pod.metadata!.name!;
}

export function podNamespace(pod: V1Pod): string {
  return pod.metadata!.namespace ?? 'default';
}
