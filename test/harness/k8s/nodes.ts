// Builders for kwok-managed Nodes that look like the cloud's own: the
// providerID format, well-known labels and each provider's spot label.
import { randomBytes } from 'node:crypto';
import type { CoreV1Api, V1Node, V1Taint } from '@kubernetes/client-node';
import { KWOK_NODE_ANNOTATION, KWOK_NODE_ANNOTATION_VALUE } from './kwok-stages.ts';
import { waitFor } from './wait-for.ts';

export type Provider = 'aws' | 'gce' | 'azure';
/** `preemptible` exists on GCE only (the older cloud.google.com/gke-preemptible VMs). */
export type CapacityType = 'spot' | 'on-demand' | 'preemptible';

export interface NodeOptions {
  name?: string;
  capacity?: CapacityType;
  zone?: string;
  instanceType?: string;
  /** AWS: which capacity label the node carries (Karpenter's or EKS managed node groups'). Default karpenter. */
  awsCapacityLabel?: 'karpenter' | 'eks';
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  taints?: V1Taint[];
  /** Managed by kwok (made Ready, heartbeats). Default true. */
  kwok?: boolean;
  cpu?: string;
  memory?: string;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** A node of `provider`; see anAwsNode, aGceNode, anAzureNode. */
export function aNode(provider: Provider, opts: NodeOptions = {}): V1Node {
  switch (provider) {
    case 'aws': return anAwsNode(opts);
    case 'gce': return aGceNode(opts);
    case 'azure': return anAzureNode(opts);
  }
}

/** EC2: `aws:///<zone>/i-<17 hex>`, named like ip-10-0-x-y.ec2.internal. */
export function anAwsNode(opts: NodeOptions = {}): V1Node {
  const capacity = opts.capacity ?? 'spot';
  if (capacity === 'preemptible') throw new Error('aws nodes are spot or on-demand');
  const zone = opts.zone ?? 'us-east-1a';
  const ip = `10.0.${randomBytes(1)[0]}.${(randomBytes(1)[0]! % 250) + 2}`;
  const name = opts.name ?? `ip-${ip.replaceAll('.', '-')}.ec2.internal`;
  const capacityLabels: Record<string, string> = (opts.awsCapacityLabel ?? 'karpenter') === 'karpenter'
    ? { 'karpenter.sh/capacity-type': capacity, 'karpenter.sh/nodepool': 'default' }
    : { 'eks.amazonaws.com/capacityType': capacity === 'spot' ? 'SPOT' : 'ON_DEMAND', 'eks.amazonaws.com/nodegroup': `ng-${capacity}` };
  return buildNode(name, `aws:///${zone}/i-0${hex(8).slice(0, 16)}`, zone, zone.slice(0, -1), opts.instanceType ?? 'm5.xlarge',
    capacityLabels, [], opts, ip);
}

/** GKE: `gce://<project>/<zone>/<instance>`; spot nodes carry cloud.google.com/gke-spot=true. */
export function aGceNode(opts: NodeOptions = {}): V1Node {
  const capacity = opts.capacity ?? 'spot';
  const zone = opts.zone ?? 'us-central1-a';
  const pool = capacity === 'on-demand' ? 'default-pool' : `${capacity}-pool`;
  const name = opts.name ?? `gke-spotguard-${pool}-${hex(4)}-${hex(2)}`;
  const capacityLabels: Record<string, string> = { 'cloud.google.com/gke-nodepool': pool };
  if (capacity === 'spot') capacityLabels['cloud.google.com/gke-spot'] = 'true';
  if (capacity === 'preemptible') capacityLabels['cloud.google.com/gke-preemptible'] = 'true';
  return buildNode(name, `gce://spotguard-test/${zone}/${name}`, zone, zone.slice(0, -2), opts.instanceType ?? 'e2-standard-4',
    capacityLabels, [], opts);
}

/** AKS: a VM scale set instance; spot pools carry the scalesetpriority label and taint. */
export function anAzureNode(opts: NodeOptions = {}): V1Node {
  const capacity = opts.capacity ?? 'spot';
  if (capacity === 'preemptible') throw new Error('azure nodes are spot or on-demand');
  const zone = opts.zone ?? 'eastus-1';
  const pool = capacity === 'spot' ? 'spotpool' : 'nodepool1';
  const scaleSet = `aks-${pool}-${String(randomBytes(4).readUInt32BE() % 1e8).padStart(8, '0')}-vmss`;
  const instance = randomBytes(1)[0]! % 16;
  const name = opts.name ?? `${scaleSet}${instance.toString(36).padStart(6, '0')}`;
  const subscription = [hex(4), hex(2), hex(2), hex(2), hex(6)].join('-');
  const providerID = `azure:///subscriptions/${subscription}/resourceGroups/mc_spotguard_spotguard_eastus`
    + `/providers/Microsoft.Compute/virtualMachineScaleSets/${scaleSet}/virtualMachines/${instance}`;
  const capacityLabels: Record<string, string> = { 'kubernetes.azure.com/agentpool': pool, agentpool: pool };
  const taints: V1Taint[] = [];
  if (capacity === 'spot') {
    capacityLabels['kubernetes.azure.com/scalesetpriority'] = 'spot';
    taints.push({ key: 'kubernetes.azure.com/scalesetpriority', value: 'spot', effect: 'NoSchedule' });
  }
  return buildNode(name, providerID, zone, zone.split('-')[0]!, opts.instanceType ?? 'Standard_D4s_v3',
    capacityLabels, taints, opts);
}

function buildNode(
  name: string, providerID: string, zone: string, region: string, instanceType: string,
  capacityLabels: Record<string, string>, providerTaints: V1Taint[], opts: NodeOptions, internalIP?: string,
): V1Node {
  const cpu = opts.cpu ?? '4';
  const memory = opts.memory ?? '16Gi';
  const resources = { cpu, memory, pods: '110', 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        'node.kubernetes.io/instance-type': instanceType,
        'topology.kubernetes.io/zone': zone,
        'topology.kubernetes.io/region': region,
        type: 'kwok',
        ...capacityLabels,
        ...opts.labels,
      },
      annotations: {
        ...(opts.kwok === false ? {} : { [KWOK_NODE_ANNOTATION]: KWOK_NODE_ANNOTATION_VALUE }),
        'node.alpha.kubernetes.io/ttl': '0',
        ...opts.annotations,
      },
    },
    spec: {
      providerID,
      taints: [...providerTaints, ...(opts.taints ?? [])],
    },
    // Nodes may be created with their status; kwok keeps capacity and addresses it finds.
    status: {
      capacity: resources,
      allocatable: resources,
      ...(internalIP ? { addresses: [{ type: 'InternalIP', address: internalIP }, { type: 'Hostname', address: name }] } : {}),
    },
  };
}

/** The node's providerID-derived instance id (the last path segment), handy in assertions. */
export function instanceIdOf(node: V1Node): string {
  return node.spec?.providerID?.split('/').pop() ?? '';
}

/**
 * Creates `node` and waits until it looks like a healthy node: Ready (kwok)
 * and rid of the not-ready taint admission adds at creation (node-lifecycle
 * controller).
 */
export async function createReadyNode(core: CoreV1Api, node: V1Node, timeoutMs = 30_000): Promise<V1Node> {
  const name = node.metadata!.name!;
  await core.createNode({ body: node });
  return waitFor(`node ${name} Ready (is kwok running?)`, async () => {
    const current = await core.readNode({ name });
    const ready = current.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
    const notReadyTaint = current.spec?.taints?.some((t) => t.key === 'node.kubernetes.io/not-ready');
    return ready && !notReadyTaint ? current : undefined;
  }, { timeoutMs, intervalMs: 100 });
}
