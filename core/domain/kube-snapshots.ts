/**
 * Plain read-only views of Kubernetes objects, as planners see them. Adapters in core/kube build
 * them from API objects; planners never see client-node types.
 */

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface NodeSnapshot {
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
  readonly providerId: string | null;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly unschedulable: boolean;
}

export type SparkRole = 'driver' | 'executor';

export interface PodSnapshot {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly nodeName: string | null;
  readonly phase: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Epoch ms when deletion was requested, or null. */
  readonly deletionTimestamp: number | null;
  readonly deletionGracePeriodSeconds: number | null;
  /** Kinds of the controllers that own it (e.g. DaemonSet, ReplicaSet, Pod for Spark executors). */
  readonly ownerKinds: readonly string[];
  /** A static pod shown by the kubelet (kubernetes.io/config.mirror annotation). */
  readonly mirror: boolean;
  readonly sparkRole: SparkRole | null;
  /** spark-app-selector label, e.g. spark-5c3a… */
  readonly sparkAppId: string | null;
  readonly sparkExecutorId: string | null;
  /** Spark executors: the driver pod that owns them (ownerReference), when set. */
  readonly driver: { readonly name: string; readonly uid: string } | null;
  readonly terminationGracePeriodSeconds: number;
  /** Spark adds a preStop hook running /opt/decom.sh when the app enabled spark.decommission.enabled. */
  readonly decommissionHook: boolean;
}
