// Proof that the Kubernetes test world is real: a kube-apiserver built from
// k8s.io/kubernetes, etcd, the controller-manager and kwok, driven through
// @kubernetes/client-node exactly as spotguard will drive a real cluster.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { V1Node } from '@kubernetes/client-node';
import { startControlPlane } from '../harness/k8s/control-plane.ts';
import type { ControlPlane } from '../harness/k8s/control-plane.ts';
import { k8sVersions } from '../harness/k8s/k8s-versions.ts';
import { kubeClients } from '../harness/k8s/kube-clients.ts';
import type { KubeClients } from '../harness/k8s/kube-clients.ts';
import { aGceNode, anAwsNode, anAzureNode, createReadyNode } from '../harness/k8s/nodes.ts';
import {
  aDaemonSet, aDaemonSetPod, aDriverPod, aPlainPod, aSparkApp, anExecutorPod, createRunningPod,
} from '../harness/k8s/pods.ts';
import { waitFor } from '../harness/k8s/wait-for.ts';
import { withLogTails } from '../harness/k8s/with-log-tails.ts';

let cp: ControlPlane | undefined;
let k: KubeClients;
let dir: string;
const test = (name: string, fn: () => Promise<void>): void => {
  it(name, withLogTails(() => cp, fn));
};

/** The HTTP status of a failed client-node call (fails the test when the call succeeded). */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
  assert.fail('expected the API call to fail');
}

/** A MicroTime (6 fractional digits): client-node serialises a Date with 3, which the apiserver refuses. */
function microTime(date: Date): Date {
  return date.toISOString().replace(/Z$/, '000Z') as unknown as Date;
}

async function gone(read: () => Promise<unknown>, what: string, timeoutMs = 15_000): Promise<void> {
  await waitFor(`${what} to be deleted`, async () => ((await statusOf(read())) === 404 ? true : undefined), { timeoutMs });
}

describe('the Kubernetes test world', () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spotguard-k8s-'));
    cp = await startControlPlane({ dir });
    k = kubeClients(cp.kubeconfigPath);
  });

  after(async () => {
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('kube-apiserver reports the pinned Kubernetes version', async () => {
    const info = await k.version.getCode();
    assert.equal(info.gitVersion, k8sVersions().k8s);
  });

  test('kwok makes nodes of every provider Ready, keeping providerID and capacity labels', async () => {
    const nodes = [anAwsNode(), anAwsNode({ capacity: 'on-demand', awsCapacityLabel: 'eks' }), aGceNode(), anAzureNode()];
    const ready = await Promise.all(nodes.map((node) => createReadyNode(k.core, node)));
    assert.match(ready[0]!.spec!.providerID!, /^aws:\/\/\/us-east-1a\/i-0[0-9a-f]{16}$/);
    assert.equal(ready[0]!.metadata!.labels!['karpenter.sh/capacity-type'], 'spot');
    assert.equal(ready[1]!.metadata!.labels!['eks.amazonaws.com/capacityType'], 'ON_DEMAND');
    assert.match(ready[2]!.spec!.providerID!, /^gce:\/\/spotguard-test\/us-central1-a\/gke-/);
    assert.equal(ready[2]!.metadata!.labels!['cloud.google.com/gke-spot'], 'true');
    assert.match(ready[3]!.spec!.providerID!, /^azure:\/\/\/subscriptions\/.+\/virtualMachineScaleSets\/aks-spotpool-\d{8}-vmss\/virtualMachines\/\d+$/);
    assert.equal(ready[3]!.metadata!.labels!['kubernetes.azure.com/scalesetpriority'], 'spot');
    assert.equal(ready[0]!.status!.capacity!.cpu, '4');
  });

  test('a JSON patch adds a taint next to the existing ones, a merge patch adds a label', async () => {
    const node = await createReadyNode(k.core, anAzureNode());
    const name = node.metadata!.name!;
    const taint = { key: 'spotguard.io/interruption', value: 'spot-interruption', effect: 'NoSchedule' };
    await k.core.patchNode({
      name,
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: node.metadata!.resourceVersion },
        { op: 'add', path: '/spec/taints/-', value: taint },
      ],
    }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch));
    await k.core.patchNode({ name, body: { metadata: { labels: { 'spotguard.io/risk': 'imminent' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch));

    const patched = await k.core.readNode({ name });
    assert.deepEqual(patched.spec!.taints!.map((t) => t.key),
      ['kubernetes.azure.com/scalesetpriority', 'spotguard.io/interruption']);
    assert.equal(patched.metadata!.labels!['spotguard.io/risk'], 'imminent');

    // The same JSON patch against the stale resourceVersion fails its test op (422): no lost updates.
    const stale = await statusOf(k.core.patchNode({
      name,
      body: [
        { op: 'test', path: '/metadata/resourceVersion', value: node.metadata!.resourceVersion },
        { op: 'add', path: '/spec/taints/-', value: taint },
      ],
    }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)));
    assert.equal(stale, 422, `stale patch answered ${stale}`);
  });

  test('Spark driver and executor pods run on a node; deleting the driver garbage-collects its executors', async () => {
    const node = (await createReadyNode(k.core, anAwsNode())).metadata!.name!;
    const app = aSparkApp({ appName: 'wordcount' });
    const driver = await createRunningPod(k.core, aDriverPod(app, { node }));
    const executors = await Promise.all([1, 2].map((execId) =>
      createRunningPod(k.core, anExecutorPod(app, { node, execId, driver }))));
    const ds = await k.apps.createNamespacedDaemonSet({ namespace: 'kube-system', body: aDaemonSet('spotguard-agent') });
    const agentPod = await createRunningPod(k.core, aDaemonSetPod({ node, daemonSet: ds }));

    const listed = await k.core.listNamespacedPod({
      namespace: 'default', labelSelector: `spark-app-selector=${app.appId},spark-role=executor`,
    });
    assert.deepEqual(listed.items.map((p) => p.metadata!.labels!['spark-exec-id']).sort(), ['1', '2']);
    assert.deepEqual(executors[0]!.spec!.containers[0]!.lifecycle?.preStop?.exec?.command, ['/opt/decom.sh']);
    assert.ok(executors[0]!.status!.podIP, 'kwok gave the executor a pod IP');
    assert.equal(agentPod.metadata!.ownerReferences![0]!.kind, 'DaemonSet');

    await k.core.deleteNamespacedPod({ name: driver.metadata!.name!, namespace: 'default' });
    for (const e of executors) {
      await gone(() => k.core.readNamespacedPod({ name: e.metadata!.name!, namespace: 'default' }), `executor ${e.metadata!.name}`, 30_000);
    }
  });

  test('an eviction is refused with 429 while the PodDisruptionBudget forbids it and allowed once it permits', async () => {
    const node = (await createReadyNode(k.core, aGceNode())).metadata!.name!;
    const labels = { app: 'pdb-guarded' };
    const pods = await Promise.all([1, 2].map((i) => createRunningPod(k.core, aPlainPod({ node, name: `guarded-${i}`, labels }))));
    await k.policy.createNamespacedPodDisruptionBudget({
      namespace: 'default',
      body: { metadata: { name: 'guarded' }, spec: { minAvailable: 2, selector: { matchLabels: labels } } },
    });
    const budget = (healthy: number) => waitFor(`disruption controller to count ${healthy} healthy pods`, async () => {
      const pdb = await k.policy.readNamespacedPodDisruptionBudget({ name: 'guarded', namespace: 'default' });
      return pdb.status?.observedGeneration === pdb.metadata?.generation && pdb.status?.currentHealthy === healthy ? pdb : undefined;
    }, { timeoutMs: 30_000 });
    const evict = (name: string) => k.core.createNamespacedPodEviction({
      name, namespace: 'default',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' } },
    });

    assert.equal((await budget(2)).status!.disruptionsAllowed, 0);
    assert.equal(await statusOf(evict(pods[0]!.metadata!.name!)), 429);
    await k.core.readNamespacedPod({ name: pods[0]!.metadata!.name!, namespace: 'default' });

    await createRunningPod(k.core, aPlainPod({ node, name: 'guarded-3', labels }));
    assert.equal((await budget(3)).status!.disruptionsAllowed, 1);
    await evict(pods[0]!.metadata!.name!);
    await gone(() => k.core.readNamespacedPod({ name: pods[0]!.metadata!.name!, namespace: 'default' }), 'the evicted pod');
  });

  test('an eviction grace period holds an "at-grace-end" pod in Terminating until it ends', async () => {
    const node = (await createReadyNode(k.core, anAwsNode())).metadata!.name!;
    const app = aSparkApp();
    const pod = await createRunningPod(k.core, anExecutorPod(app, { node, execId: 1, deletion: 'at-grace-end' }));
    const name = pod.metadata!.name!;
    const t0 = Date.now();
    await k.core.createNamespacedPodEviction({
      name, namespace: 'default',
      body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 3 } },
    });
    const terminating = await k.core.readNamespacedPod({ name, namespace: 'default' });
    assert.equal(terminating.metadata!.deletionGracePeriodSeconds, 3);
    await gone(() => k.core.readNamespacedPod({ name, namespace: 'default' }), 'the evicted executor');
    const elapsed = Date.now() - t0;
    // deletionTimestamp has whole seconds, so the wait is 2 to 3 s.
    assert.ok(elapsed >= 1_500 && elapsed < 10_000, `deleted after ${elapsed} ms, expected about 3 s`);
  });

  test('an "external" pod stays Terminating until its kubelet stand-in finishes the deletion', async () => {
    const node = (await createReadyNode(k.core, anAwsNode())).metadata!.name!;
    const pod = await createRunningPod(k.core, anExecutorPod(aSparkApp(), { node, execId: 1, deletion: 'external' }));
    const name = pod.metadata!.name!;
    await k.core.deleteNamespacedPod({ name, namespace: 'default', gracePeriodSeconds: 30 });
    await sleep(1_500);
    assert.ok((await k.core.readNamespacedPod({ name, namespace: 'default' })).metadata!.deletionTimestamp);
    await k.core.deleteNamespacedPod({ name, namespace: 'default', gracePeriodSeconds: 0 });
    await gone(() => k.core.readNamespacedPod({ name, namespace: 'default' }), 'the pod');
  });

  test('an events.k8s.io/v1 Event about a node is stored and visible as a core Event', async () => {
    const node = await createReadyNode(k.core, anAwsNode());
    const created = await k.events.createNamespacedEvent({
      namespace: 'default',
      body: {
        metadata: { generateName: 'spotguard-' },
        eventTime: microTime(new Date()),
        type: 'Warning',
        reason: 'SpotInterruption',
        action: 'Taint',
        note: 'spot interruption notice: terminate in 120s',
        reportingController: 'spotguard.io/agent',
        reportingInstance: `spotguard-agent-${node.metadata!.name}`,
        regarding: { apiVersion: 'v1', kind: 'Node', name: node.metadata!.name!, uid: node.metadata!.uid! },
      },
    });
    const core = await k.core.readNamespacedEvent({ name: created.metadata!.name!, namespace: 'default' });
    assert.equal(core.involvedObject.name, node.metadata!.name);
    assert.equal(core.reason, 'SpotInterruption');
    assert.equal(core.message, 'spot interruption notice: terminate in 120s');
  });

  test('a Lease is created, renewed with its resourceVersion, and a stale renewal is refused with 409', async () => {
    const lease = await k.coordination.createNamespacedLease({
      namespace: 'kube-system',
      body: { metadata: { name: 'spotguard-controller' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: microTime(new Date()) } },
    });
    const renewed = await k.coordination.replaceNamespacedLease({
      name: 'spotguard-controller', namespace: 'kube-system',
      body: { ...lease, spec: { ...lease.spec, renewTime: microTime(new Date()) } },
    });
    assert.notEqual(renewed.metadata!.resourceVersion, lease.metadata!.resourceVersion);
    const stale = await statusOf(k.coordination.replaceNamespacedLease({
      name: 'spotguard-controller', namespace: 'kube-system',
      body: { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } },
    }));
    assert.equal(stale, 409);
  });

  test('a watch delivers a label change on a node', async () => {
    const node = await createReadyNode(k.core, aGceNode({ labels: { 'watch-test': 'yes' } }));
    const name = node.metadata!.name!;
    const seen: V1Node[] = [];
    // From the node's resourceVersion: every later change is delivered, however soon it happens.
    const controller = await k.watch.watch('/api/v1/nodes',
      { labelSelector: 'watch-test=yes', resourceVersion: node.metadata!.resourceVersion },
      (phase, obj: V1Node) => { if (phase === 'MODIFIED') seen.push(obj); }, () => {});
    try {
      await k.core.patchNode({ name, body: { metadata: { labels: { 'spotguard.io/risk': 'elevated' } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await waitFor('the watch to deliver the label', async () =>
        seen.some((n) => n.metadata?.labels?.['spotguard.io/risk'] === 'elevated') ? true : undefined, { timeoutMs: 10_000 });
    } finally {
      controller.abort();
    }
  });

  test('a new namespace gets its default service account, and a deleted one goes away', async () => {
    await k.core.createNamespace({ body: { metadata: { name: 'spark-jobs' } } });
    await waitFor('default service account', async () =>
      (await k.core.readNamespacedServiceAccount({ name: 'default', namespace: 'spark-jobs' })) ? true : undefined, { timeoutMs: 20_000 });
    await k.core.deleteNamespace({ name: 'spark-jobs' });
    await gone(() => k.core.readNamespace({ name: 'spark-jobs' }), 'namespace spark-jobs', 30_000);
  });
});
