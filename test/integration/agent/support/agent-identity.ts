// The agent's identity in the test world, as in a real cluster: the
// ServiceAccount and ClusterRole from manifests/base, and a token for that
// ServiceAccount (TokenRequest API). The agent then runs with exactly the
// rights the manifests give it, and the audit log can single out its requests.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubernetesObjectApi, loadAllYaml } from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { writeKubeconfig } from '../../../harness/k8s/cluster-files.ts';
import type { ControlPlane } from '../../../harness/k8s/control-plane.ts';
import type { KubeClients } from '../../../harness/k8s/kube-clients.ts';

export const agentNamespace = 'spotguard-system';
export const agentServiceAccount = 'spotguard-agent';
/** The user name the apiserver gives requests made with the agent's token. */
export const agentUser = `system:serviceaccount:${agentNamespace}:${agentServiceAccount}`;

const manifests = ['namespace.yaml', 'agent-rbac.yaml'].map((file) => new URL(`../../../../manifests/base/${file}`, import.meta.url));

export interface AgentIdentity {
  /** A kubeconfig whose user is the agent's ServiceAccount. */
  kubeconfigPath: string;
  username: string;
}

/** Applies the agent's namespace and RBAC from manifests/base and writes a kubeconfig for its ServiceAccount. */
export async function createAgentIdentity(cp: ControlPlane, k: KubeClients, dir: string): Promise<AgentIdentity> {
  const objects = KubernetesObjectApi.makeApiClient(k.kc);
  for (const url of manifests) {
    for (const doc of loadAllYaml(readFileSync(url, 'utf8')) as KubernetesObject[]) {
      if (doc) await objects.create(doc);
    }
  }
  const request = await k.core.createNamespacedServiceAccountToken({
    name: agentServiceAccount,
    namespace: agentNamespace,
    body: { spec: { audiences: [], expirationSeconds: 6 * 3600 } },
  });
  const token = request.status?.token;
  if (!token) throw new Error('TokenRequest returned no token');
  const kubeconfigPath = join(dir, 'agent.kubeconfig');
  writeKubeconfig(kubeconfigPath, { server: cp.server, token, caPath: cp.caPath });
  return { kubeconfigPath, username: agentUser };
}
