// Files the control plane needs: the token file, the service-account key and
// the kubeconfig. Everything is generated with node:crypto.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

export const ADMIN_USER = 'spotguard-admin';

/** A random bearer token. */
export function newToken(): string {
  return randomBytes(24).toString('hex');
}

/** kube-apiserver --token-auth-file: `token,user,uid,"group1,group2"`. */
export function writeTokenFile(path: string, token: string): void {
  writeFileSync(path, `${token},${ADMIN_USER},${ADMIN_USER},"system:masters"\n`, { mode: 0o600 });
}

/** An RSA key pair: signs service-account tokens (apiserver, controller-manager) and verifies them (apiserver). */
export function writeServiceAccountKeys(privatePath: string, publicPath: string): void {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(privatePath, privateKey, { mode: 0o600 });
  writeFileSync(publicPath, publicKey);
}

export interface KubeconfigSpec {
  server: string;
  token: string;
  /** PEM bundle that verifies the apiserver's serving certificate. */
  caPath: string;
  clusterName?: string;
}

/** A kubeconfig with one cluster, one token user and one current context. */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  const cluster = spec.clusterName ?? 'spotguard-test';
  const yaml = `apiVersion: v1
kind: Config
clusters:
- name: ${cluster}
  cluster:
    server: ${spec.server}
    certificate-authority: ${JSON.stringify(spec.caPath)}
users:
- name: ${ADMIN_USER}
  user:
    token: ${spec.token}
contexts:
- name: ${cluster}
  context:
    cluster: ${cluster}
    user: ${ADMIN_USER}
    namespace: default
current-context: ${cluster}
preferences: {}
`;
  writeFileSync(path, yaml, { mode: 0o600 });
}
