// Builders for pods bound to a node (spec.nodeName; no scheduler runs): Spark
// driver and executor pods shaped as Spark on Kubernetes makes them, plain
// pods and DaemonSet pods.
import { randomBytes, randomUUID } from 'node:crypto';
import type { CoreV1Api, V1DaemonSet, V1OwnerReference, V1Pod, V1PodSpec } from '@kubernetes/client-node';
import { POD_DELETION_LABEL } from './kwok-stages.ts';
import type { PodDeletionMode } from './kwok-stages.ts';
import { waitFor } from './wait-for.ts';

export interface SparkApp {
  /** `spark-<32 hex>`, the value of spark-app-selector. */
  appId: string;
  appName: string;
  namespace: string;
  /** Spark's resource name prefix: `<app name>-<16 hex>`. */
  podNamePrefix: string;
  /** spark.decommission.enabled: executors then get the /opt/decom.sh preStop hook. */
  decommission: boolean;
  sparkVersion: string;
}

export function aSparkApp(opts: Partial<SparkApp> = {}): SparkApp {
  const appName = opts.appName ?? 'shuffle-job';
  return {
    appId: opts.appId ?? `spark-${randomUUID().replaceAll('-', '')}`,
    appName,
    namespace: opts.namespace ?? 'default',
    podNamePrefix: opts.podNamePrefix ?? `${appName}-${randomBytes(8).toString('hex')}`,
    decommission: opts.decommission ?? true,
    sparkVersion: opts.sparkVersion ?? '4.0.1',
  };
}

interface BoundPodOptions {
  node: string;
  /** How the pod's deletion completes under kwok (see kwok-stages.ts). Default immediate. */
  deletion?: PodDeletionMode;
  terminationGracePeriodSeconds?: number;
  labels?: Record<string, string>;
}

function sparkLabels(app: SparkApp, role: 'driver' | 'executor'): Record<string, string> {
  return {
    'spark-app-selector': app.appId,
    'spark-app-name': app.appName,
    'spark-role': role,
    'spark-version': app.sparkVersion,
  };
}

function deletionLabels(mode: PodDeletionMode | undefined): Record<string, string> {
  return mode && mode !== 'immediate' ? { [POD_DELETION_LABEL]: mode } : {};
}

function podSpec(node: string, spec: Partial<V1PodSpec>, grace: number | undefined): V1PodSpec {
  return {
    nodeName: node,
    restartPolicy: 'Never',
    ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace }),
    containers: [],
    ...spec,
  };
}

/** The driver pod `<prefix>-driver`. */
export function aDriverPod(app: SparkApp, opts: BoundPodOptions): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app.podNamePrefix}-driver`,
      namespace: app.namespace,
      labels: { ...sparkLabels(app, 'driver'), ...deletionLabels(opts.deletion), ...opts.labels },
    },
    spec: podSpec(opts.node, {
      containers: [{
        name: 'spark-kubernetes-driver',
        image: `apache/spark:${app.sparkVersion}`,
        args: ['driver', '--properties-file', '/opt/spark/conf/spark.properties', '--class', 'org.apache.spark.deploy.PythonRunner', 'local:///opt/job.py'],
        ports: [
          { name: 'driver-rpc-port', containerPort: 7078, protocol: 'TCP' },
          { name: 'blockmanager', containerPort: 7079, protocol: 'TCP' },
          { name: 'spark-ui', containerPort: 4040, protocol: 'TCP' },
        ],
        env: [{ name: 'SPARK_APPLICATION_ID', value: app.appId }],
      }],
    }, opts.terminationGracePeriodSeconds),
  };
}

export interface ExecutorPodOptions extends BoundPodOptions {
  execId: number;
  /** The created driver pod (needs metadata.uid): executors are owned by it, so deleting the driver deletes them. */
  driver?: V1Pod;
}

/** The executor pod `<prefix>-exec-<id>`, with the preStop hook when the app enabled decommissioning. */
export function anExecutorPod(app: SparkApp, opts: ExecutorPodOptions): V1Pod {
  const ownerReferences: V1OwnerReference[] = [];
  if (opts.driver) {
    const uid = opts.driver.metadata?.uid;
    if (!uid) throw new Error('anExecutorPod: the driver pod has no uid (pass the created pod)');
    ownerReferences.push({ apiVersion: 'v1', kind: 'Pod', name: opts.driver.metadata!.name!, uid, controller: true });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${app.podNamePrefix}-exec-${opts.execId}`,
      namespace: app.namespace,
      labels: {
        ...sparkLabels(app, 'executor'),
        'spark-exec-id': String(opts.execId),
        'spark-exec-resourceprofile-id': '0',
        ...deletionLabels(opts.deletion),
        ...opts.labels,
      },
      ownerReferences,
    },
    spec: podSpec(opts.node, {
      hostname: `${app.podNamePrefix}-exec-${opts.execId}`,
      containers: [{
        name: 'spark-kubernetes-executor',
        image: `apache/spark:${app.sparkVersion}`,
        args: ['executor'],
        ports: [{ name: 'blockmanager', containerPort: 7079, protocol: 'TCP' }],
        env: [
          { name: 'SPARK_EXECUTOR_ID', value: String(opts.execId) },
          { name: 'SPARK_APPLICATION_ID', value: app.appId },
          { name: 'SPARK_EXECUTOR_POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
        ],
        ...(app.decommission ? { lifecycle: { preStop: { exec: { command: ['/opt/decom.sh'] } } } } : {}),
      }],
    }, opts.terminationGracePeriodSeconds),
  };
}

export interface PlainPodOptions extends BoundPodOptions {
  name?: string;
  namespace?: string;
}

/** A single-container pod with nothing Spark about it. */
export function aPlainPod(opts: PlainPodOptions): V1Pod {
  const name = opts.name ?? `web-${randomBytes(3).toString('hex')}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: opts.namespace ?? 'default',
      labels: { app: name.replace(/-[0-9a-f]+$/, ''), ...deletionLabels(opts.deletion), ...opts.labels },
    },
    spec: podSpec(opts.node, {
      restartPolicy: 'Always',
      containers: [{ name: 'app', image: 'registry.k8s.io/pause:3.10' }],
    }, opts.terminationGracePeriodSeconds),
  };
}

/**
 * A DaemonSet to own DaemonSet pods (create it first: the garbage collector
 * deletes pods whose owner does not exist). No daemonset controller runs, so
 * it makes no pods of its own.
 */
export function aDaemonSet(name: string, namespace = 'kube-system'): V1DaemonSet {
  const labels = { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace, labels },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name, image: `example.com/${name}:1.0` }] } },
    },
  };
}

export interface DaemonSetPodOptions extends PlainPodOptions {
  /** The created DaemonSet (needs metadata.uid). */
  daemonSet: V1DaemonSet;
}

/** A pod owned by a DaemonSet, as the DaemonSet controller names and labels it. */
export function aDaemonSetPod(opts: DaemonSetPodOptions): V1Pod {
  const { name: dsName, uid, namespace } = opts.daemonSet.metadata ?? {};
  if (!dsName || !uid) throw new Error('aDaemonSetPod: the DaemonSet has no name or uid (pass the created object)');
  const pod = aPlainPod({
    ...opts,
    namespace: opts.namespace ?? namespace ?? 'kube-system',
    name: opts.name ?? `${dsName}-${randomBytes(3).toString('hex').slice(0, 5)}`,
  });
  pod.metadata!.labels = {
    ...opts.daemonSet.spec?.template.metadata?.labels,
    'controller-revision-hash': randomBytes(5).toString('hex'),
    'pod-template-generation': '1',
    ...deletionLabels(opts.deletion),
    ...opts.labels,
  };
  pod.metadata!.ownerReferences = [{
    apiVersion: 'apps/v1', kind: 'DaemonSet', name: dsName, uid, controller: true, blockOwnerDeletion: true,
  }];
  // The tolerations the DaemonSet controller adds to every pod it makes.
  pod.spec!.tolerations = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  return pod;
}

/** Creates `pod` (bound to a kwok node) and waits until kwok reports it Running. */
export async function createRunningPod(core: CoreV1Api, pod: V1Pod, timeoutMs = 30_000): Promise<V1Pod> {
  const { name, namespace } = pod.metadata as { name: string; namespace: string };
  await core.createNamespacedPod({ namespace, body: pod });
  return waitFor(`pod ${namespace}/${name} Running (is its node managed by kwok?)`, async () => {
    const current = await core.readNamespacedPod({ name, namespace });
    return current.status?.phase === 'Running' ? current : undefined;
  }, { timeoutMs, intervalMs: 100 });
}
