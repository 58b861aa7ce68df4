// The Kubernetes side of the Spark cluster's machines: each Spark worker is a
// kwok Node that looks like an EC2 spot instance (aws providerID, Karpenter's
// capacity label), plus one on-demand Node for the drivers. The node's
// InternalIP is the worker's loopback address, so `kubectl get nodes -o wide`
// shows which worker is which node.
import type { CoreV1Api, V1Node } from '@kubernetes/client-node';
import { anAwsNode, createReadyNode } from '../k8s/nodes.ts';
import type { SparkWorker } from '../spark/spark-cluster.ts';

/** Label on every node the bridge registers: `worker` or `driver`. */
export const BRIDGE_NODE_LABEL = 'test.spotguard.io/spark-bridge';
/** Annotation on a worker's node: the Spark worker it stands for (host:port). */
export const SPARK_WORKER_ANNOTATION = 'test.spotguard.io/spark-worker';

export const DRIVER_NODE_NAME = 'spark-drivers';

export function workerNodeName(worker: SparkWorker): string {
  return `spark-worker-${worker.index}`;
}

/** A spot node standing for `worker`. */
export function aWorkerNode(worker: SparkWorker): V1Node {
  const node = anAwsNode({
    name: workerNodeName(worker),
    capacity: 'spot',
    zone: ['us-east-1a', 'us-east-1b', 'us-east-1c'][(worker.index - 1) % 3],
    labels: { [BRIDGE_NODE_LABEL]: 'worker' },
    annotations: { [SPARK_WORKER_ANNOTATION]: `${worker.host}:${worker.port}` },
    cpu: '1',
    memory: '1Gi',
  });
  return withAddress(node, worker.host);
}

/** The on-demand node the drivers' pods are bound to (the driver runs on 127.0.0.1). */
export function aDriverNode(): V1Node {
  const node = anAwsNode({ name: DRIVER_NODE_NAME, capacity: 'on-demand', labels: { [BRIDGE_NODE_LABEL]: 'driver' } });
  return withAddress(node, '127.0.0.1');
}

/** Creates every node and waits until all are Ready. */
export async function registerNodes(core: CoreV1Api, workers: readonly SparkWorker[]): Promise<void> {
  await Promise.all([aDriverNode(), ...workers.map(aWorkerNode)].map((node) => createReadyNode(core, node)));
}

function withAddress(node: V1Node, ip: string): V1Node {
  const name = node.metadata!.name!;
  node.status = { ...node.status, addresses: [{ type: 'InternalIP', address: ip }, { type: 'Hostname', address: name }] };
  return node;
}
