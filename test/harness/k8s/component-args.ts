// Command lines of the control-plane components. Loopback only; every port is
// chosen by the caller.
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from './kwok-stages.ts';

export interface ClusterLayout {
  dir: string;
  etcdDataDir: string;
  certDir: string;
  tokenFile: string;
  saPrivateKey: string;
  saPublicKey: string;
  kubeconfig: string;
  kwokConfig: string;
  ports: { etcdClient: number; etcdPeer: number; apiserver: number; kwok: number };
}

export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/16';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/**
 * Controllers run by kube-controller-manager. The disruption controller keeps
 * PodDisruptionBudget status (evictions need it), the namespace controller
 * finishes namespace deletion, the garbage collector follows ownerReferences,
 * the service-account controllers create `default` service accounts and their
 * tokens (pod admission needs them). The node-lifecycle controller removes
 * the node.kubernetes.io/not-ready taint that admission puts on every new
 * Node once kwok reports it Ready (and taints nodes whose heartbeat stops).
 * ReplicaSets and Deployments make controller-owned pods possible. No
 * taint-eviction controller (NoExecute taints evict nothing) and no scheduler
 * (pods are created bound, with spec.nodeName).
 */
export const DEFAULT_CONTROLLERS = [
  'disruption-controller',
  'namespace-controller',
  'garbage-collector-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'node-lifecycle-controller',
  'replicaset-controller',
  'deployment-controller',
];

export function etcdArgs(l: ClusterLayout): string[] {
  const client = `http://127.0.0.1:${l.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${l.ports.etcdPeer}`;
  return [
    '--name=spotguard',
    `--data-dir=${l.etcdDataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=spotguard=${peer}`,
    '--initial-cluster-state=new',
    // A throwaway test store: skip fsync, it dominates latency on small disks.
    '--unsafe-no-fsync',
    '--log-level=warn',
  ];
}

export function apiserverArgs(l: ClusterLayout): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${l.ports.etcdClient}`,
    `--secure-port=${l.ports.apiserver}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${l.certDir}`,
    `--token-auth-file=${l.tokenFile}`,
    '--authorization-mode=RBAC',
    '--anonymous-auth=false',
    `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
    `--service-account-key-file=${l.saPublicKey}`,
    `--service-account-signing-key-file=${l.saPrivateKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--allow-privileged=true',
    // 127.0.0.1 is not a valid Endpoints address: without this the apiserver
    // logs a failed sync of the `kubernetes` service every 10 s.
    '--endpoint-reconciler-type=none',
    '--profiling=false',
    '--v=1',
  ];
}

export function controllerManagerArgs(l: ClusterLayout, controllers: string[]): string[] {
  return [
    `--kubeconfig=${l.kubeconfig}`,
    `--controllers=${controllers.join(',')}`,
    '--leader-elect=false',
    '--use-service-account-credentials=false',
    `--service-account-private-key-file=${l.saPrivateKey}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    // No serving endpoint: readiness is judged from the objects it creates.
    '--secure-port=0',
    // Without these it looks up (and logs errors about) the in-cluster delegated auth config.
    '--authentication-skip-lookup=true',
    '--profiling=false',
    '--v=1',
  ];
}

export function kwokArgs(l: ClusterLayout): string[] {
  return [
    `--kubeconfig=${l.kubeconfig}`,
    `--config=${l.kwokConfig}`,
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=${KWOK_NODE_ANNOTATION_VALUE}`,
    `--server-address=127.0.0.1:${l.ports.kwok}`,
    '--node-lease-duration-seconds=40',
    '--cidr=10.244.0.1/16',
  ];
}
