import type { V1Node, V1Pod } from '@kubernetes/client-node';
import type { NodeSnapshot, PodSnapshot, SparkRole, Taint } from '../domain/kube-snapshots.ts';

export function toNodeSnapshot(node: V1Node): NodeSnapshot {
  return {
    name: node.metadata?.name ?? '',
    uid: node.metadata?.uid ?? '',
    resourceVersion: node.metadata?.resourceVersion ?? '',
    providerId: node.spec?.providerID ?? null,
    labels: { ...node.metadata?.labels },
    annotations: { ...node.metadata?.annotations },
    taints: (node.spec?.taints ?? []).map(
      (t): Taint => ({ key: t.key, ...(t.value === undefined ? {} : { value: t.value }), effect: t.effect as Taint['effect'] }),
    ),
    unschedulable: node.spec?.unschedulable === true,
  };
}

export function toPodSnapshot(pod: V1Pod): PodSnapshot {
  const labels = pod.metadata?.labels ?? {};
  const role = labels['spark-role'];
  const owners = pod.metadata?.ownerReferences ?? [];
  const driverOwner = role === 'executor' ? owners.find((o) => o.kind === 'Pod') : undefined;
  const deletion = pod.metadata?.deletionTimestamp;
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    nodeName: pod.spec?.nodeName ?? null,
    phase: pod.status?.phase ?? 'Unknown',
    labels: { ...labels },
    deletionTimestamp: deletion ? new Date(deletion).getTime() : null,
    deletionGracePeriodSeconds: pod.metadata?.deletionGracePeriodSeconds ?? null,
    ownerKinds: owners.map((o) => o.kind),
    mirror: pod.metadata?.annotations?.['kubernetes.io/config.mirror'] !== undefined,
    sparkRole: role === 'driver' || role === 'executor' ? (role as SparkRole) : null,
    sparkAppId: labels['spark-app-selector'] ?? null,
    sparkExecutorId: labels['spark-exec-id'] ?? null,
    driver: driverOwner ? { name: driverOwner.name, uid: driverOwner.uid } : null,
    terminationGracePeriodSeconds: pod.spec?.terminationGracePeriodSeconds ?? 30,
    decommissionHook: (pod.spec?.containers ?? []).some((c) =>
      (c.lifecycle?.preStop?.exec?.command ?? []).some((arg) => arg.includes('decom.sh')),
    ),
  };
}
