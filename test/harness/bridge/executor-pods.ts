// The pods a Spark app would have on Kubernetes, for the JVMs it has in the
// standalone cluster: one driver pod per app on the on-demand node, and one
// executor pod per executor JVM on its worker's node, with Spark's labels
// (spark-role, spark-app-selector, spark-exec-id), the /opt/decom.sh preStop
// hook when the app decommissions, and an owner reference to the driver pod.
// Executor pods carry test.spotguard.io/pod-deletion=external: kwok never
// finishes their deletion, the bridge's kubelet stand-in does.
import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { aDriverPod, aSparkApp, anExecutorPod } from '../k8s/pods.ts';
import type { SparkApp } from '../k8s/pods.ts';
import type { ExecutorJvm } from '../spark/executor-jvms.ts';

/** Annotation on an executor pod: the pid of the JVM it mirrors. */
export const EXECUTOR_PID_ANNOTATION = 'test.spotguard.io/executor-pid';

/** The app as the pod builders want it; pods are named after the app id (a valid DNS label, e.g. app-20260101120000-0000). */
export function sparkAppFor(appId: string, appName: string, decommission: boolean, sparkVersion: string, namespace: string): SparkApp {
  return aSparkApp({ appId, appName: labelValue(appName), namespace, podNamePrefix: appId.toLowerCase(), decommission, sparkVersion });
}

export function driverPodFor(app: SparkApp, driverNode: string): V1Pod {
  return aDriverPod(app, { node: driverNode });
}

export function executorPodFor(app: SparkApp, jvm: ExecutorJvm, node: string, driver: V1Pod): V1Pod {
  const pod = anExecutorPod(app, { node, execId: Number(jvm.executorId), driver, deletion: 'external' });
  pod.metadata!.annotations = { ...pod.metadata!.annotations, [EXECUTOR_PID_ANNOTATION]: String(jvm.pid) };
  return pod;
}

/**
 * The worker an executor JVM belongs to (`host:port` of its --worker-url), or null. Workers of
 * other Spark clusters on this machine may share the loopback address, never the port.
 */
export function workerAddressOf(pid: number, procRoot = '/proc'): string | null {
  let args: string[];
  try {
    args = readFileSync(`${procRoot}/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return null;
  }
  const at = args.indexOf('--worker-url');
  const match = at >= 0 ? /^spark:\/\/Worker@(.+)$/.exec(args[at + 1] ?? '') : null;
  return match ? match[1]! : null;
}

function labelValue(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '').slice(0, 63) || 'spark-app';
}
