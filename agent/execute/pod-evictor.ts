import type { CoreV1Api } from '@kubernetes/client-node';
import { kubeError, kubeStatus } from '../../core/kube/load-kube-config.ts';
import type { PodRef } from '../plan/actions.ts';

/** evicted: the API accepted it; blocked: a PodDisruptionBudget refused (429); gone: the pod no longer exists. */
export type RemoveResult = 'evicted' | 'deleted' | 'blocked' | 'gone';

/** Evictions (respecting PodDisruptionBudgets) and, near the deadline, deletions. Both bound to the pod's uid. */
export class PodEvictor {
  private readonly core: CoreV1Api;

  constructor(core: CoreV1Api) {
    this.core = core;
  }

  async evict(pod: PodRef, graceSeconds: number): Promise<RemoveResult> {
    try {
      await this.core.createNamespacedPodEviction({
        name: pod.name,
        namespace: pod.namespace,
        body: {
          apiVersion: 'policy/v1',
          kind: 'Eviction',
          metadata: { name: pod.name, namespace: pod.namespace },
          deleteOptions: { gracePeriodSeconds: graceSeconds, preconditions: { uid: pod.uid } },
        },
      });
      return 'evicted';
    } catch (err) {
      const status = kubeStatus(err);
      if (status === 429) return 'blocked';
      if (status === 404 || status === 409) return 'gone';
      throw kubeError(err, `evict pod ${pod.namespace}/${pod.name}`);
    }
  }

  async delete(pod: PodRef, graceSeconds: number): Promise<RemoveResult> {
    try {
      await this.core.deleteNamespacedPod({
        name: pod.name,
        namespace: pod.namespace,
        gracePeriodSeconds: graceSeconds,
        body: { preconditions: { uid: pod.uid }, gracePeriodSeconds: graceSeconds },
      });
      return 'deleted';
    } catch (err) {
      const status = kubeStatus(err);
      if (status === 404 || status === 409) return 'gone';
      throw kubeError(err, `delete pod ${pod.namespace}/${pod.name}`);
    }
  }
}
