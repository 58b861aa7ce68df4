// The install manifests are accepted by a real kube-apiserver: `kubectl apply -k` of the base and
// of the signal-mode overlay, as an operator would run them.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { startControlPlane, type ControlPlane } from '../harness/k8s/control-plane.ts';
import { k8sBinDir } from '../harness/k8s/k8s-versions.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));
let cp: ControlPlane | undefined;
let dir: string;

function kubectl(...args: string[]): string {
  return execFileSync(join(k8sBinDir(), 'kubectl'), ['--kubeconfig', cp!.kubeconfigPath, ...args], { cwd: repo, encoding: 'utf8' });
}

describe('install manifests', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spotguard-manifests-'));
    cp = await startControlPlane({ dir });
  });
  after(async () => {
    await cp?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl apply -k manifests/base creates the agent with its RBAC', () => {
    const out = kubectl('apply', '-k', 'manifests/base');
    for (const made of ['namespace/spotguard-system', 'serviceaccount/spotguard-agent', 'clusterrole.rbac.authorization.k8s.io/spotguard-agent', 'daemonset.apps/spotguard-agent']) {
      assert.match(out, new RegExp(`${made.replaceAll('.', '\\.')} created`));
    }
    const ds = JSON.parse(kubectl('get', 'daemonset', '-n', 'spotguard-system', 'spotguard-agent', '-o', 'json')) as {
      spec: { template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string; valueFrom?: unknown }> }>; tolerations: unknown[] } } };
    };
    const env = ds.spec.template.spec.containers[0]!.env;
    assert.deepEqual(env.find((e) => e.name === 'SPOTGUARD_NODE_NAME')?.valueFrom, { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } });
    assert.deepEqual(ds.spec.template.spec.tolerations, [{ operator: 'Exists' }], 'runs on nodes spotguard tainted');
    const can = (verb: string, resource: string, ...more: string[]): string =>
      kubectl('auth', 'can-i', verb, resource, ...more, '--as', 'system:serviceaccount:spotguard-system:spotguard-agent').trim();
    assert.deepEqual(
      [can('patch', 'nodes'), can('create', 'pods', '--subresource=eviction'), can('list', 'pods'), can('create', 'events.events.k8s.io')],
      ['yes', 'yes', 'yes', 'yes'],
    );
    assert.throws(() => can('delete', 'nodes'), /no/);
  });

  it('the signal-mode overlay switches the agent to hostPID and SIGPWR', () => {
    kubectl('apply', '-k', 'manifests/overlays/signal-mode');
    const ds = JSON.parse(kubectl('get', 'daemonset', '-n', 'spotguard-system', 'spotguard-agent', '-o', 'json')) as {
      spec: { template: { spec: { hostPID?: boolean; containers: Array<{ env: Array<{ name: string; value?: string }>; securityContext: { capabilities: { add?: string[] } } }> } } };
    };
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostPID, true);
    assert.equal(pod.containers[0]!.env.find((e) => e.name === 'SPOTGUARD_MODE')?.value, 'signal');
    assert.deepEqual(pod.containers[0]!.securityContext.capabilities.add, ['KILL']);
  });
});
