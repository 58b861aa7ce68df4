import { PatchStrategy, setHeaderOptions, type CoreV1Api } from '@kubernetes/client-node';
import type { Taint } from '../../core/domain/kube-snapshots.ts';
import { kubeError, kubeStatus } from '../../core/kube/load-kube-config.ts';
import { noticeAnnotation } from '../plan/notice-record.ts';

const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

/**
 * Node changes. Labels and the annotation use merge patches; taints use JSON patches guarded by a
 * resourceVersion test (a merge patch would replace the whole taints list, losing others' taints).
 */
export class NodePatcher {
  private readonly core: CoreV1Api;
  private readonly nodeName: string;

  constructor(core: CoreV1Api, nodeName: string) {
    this.core = core;
    this.nodeName = nodeName;
  }

  async setLabels(labels: Readonly<Record<string, string | null>>): Promise<void> {
    await this.merge({ metadata: { labels } }, 'label node');
  }

  async writeRecord(value: string | null): Promise<void> {
    await this.merge({ metadata: { annotations: { [noticeAnnotation]: value } } }, 'annotate node');
  }

  /** Returns false when the taint was already there. */
  async addTaint(taint: Taint): Promise<boolean> {
    return this.withFreshNode('taint node', (taints) => {
      if (taints.some((t) => t.key === taint.key && t.effect === taint.effect && (t.value ?? '') === (taint.value ?? ''))) return null;
      return taints.length === 0 ? [{ op: 'add', path: '/spec/taints', value: [taint] }] : [{ op: 'add', path: '/spec/taints/-', value: taint }];
    });
  }

  /** Removes every taint with this key; false when there was none. */
  async removeTaint(key: string): Promise<boolean> {
    return this.withFreshNode('untaint node', (taints) => {
      const indexes = taints.flatMap((t, i) => (t.key === key ? [i] : [])).reverse();
      return indexes.length === 0 ? null : indexes.map((i) => ({ op: 'remove', path: `/spec/taints/${i}` }));
    });
  }

  private async merge(body: object, what: string): Promise<void> {
    try {
      await this.core.patchNode({ name: this.nodeName, body }, mergePatch);
    } catch (err) {
      throw kubeError(err, `${what} ${this.nodeName}`);
    }
  }

  /** Reads the node, builds a patch from its taints, applies it if the node did not change meanwhile; retries on conflict. */
  private async withFreshNode(what: string, build: (taints: Taint[]) => object[] | null): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      let node;
      try {
        node = await this.core.readNode({ name: this.nodeName });
      } catch (err) {
        throw kubeError(err, `read node ${this.nodeName}`);
      }
      const ops = build((node.spec?.taints ?? []) as Taint[]);
      if (ops === null) return false;
      const body = [{ op: 'test', path: '/metadata/resourceVersion', value: node.metadata?.resourceVersion }, ...ops];
      try {
        await this.core.patchNode({ name: this.nodeName, body }, jsonPatch);
        return true;
      } catch (err) {
        const status = kubeStatus(err);
        // A failed resourceVersion test is 422 (or 409): someone else changed the node; read it again.
        if ((status === 409 || status === 422) && attempt < 5) continue;
        throw kubeError(err, `${what} ${this.nodeName}`);
      }
    }
  }
}
