import { V1MicroTime, type EventsV1Api } from '@kubernetes/client-node';
import { kubeError } from '../../core/kube/load-kube-config.ts';
import type { EventReason, EventTarget } from '../plan/actions.ts';

export const reportingController = 'spotguard.io/agent';

/** events.k8s.io/v1 Events. Events about Nodes live in the default namespace. */
export class EventRecorder {
  private readonly api: EventsV1Api;
  private readonly instance: string;

  constructor(api: EventsV1Api, reportingInstance: string) {
    this.api = api;
    this.instance = reportingInstance;
  }

  async emit(regarding: EventTarget, type: 'Normal' | 'Warning', reason: EventReason, note: string, now: number): Promise<void> {
    const namespace = regarding.namespace ?? 'default';
    try {
      await this.api.createNamespacedEvent({
        namespace,
        body: {
          // `<object>.spotguard-<random>`: a generateName may not end in '.' (the apiserver answers 422).
          metadata: { generateName: `${regarding.name}.spotguard-`, namespace },
          eventTime: new V1MicroTime(now),
          type,
          reason,
          action: actionOf(reason),
          note,
          reportingController,
          reportingInstance: this.instance,
          regarding: {
            apiVersion: 'v1',
            kind: regarding.kind,
            name: regarding.name,
            uid: regarding.uid,
            ...(regarding.namespace ? { namespace: regarding.namespace } : {}),
          },
        },
      });
    } catch (err) {
      throw kubeError(err, `create event ${reason} for ${regarding.kind} ${regarding.name}`);
    }
  }
}

/** The machine-readable `action` of an Event: what spotguard did or is doing. */
function actionOf(reason: EventReason): string {
  switch (reason) {
    case 'ExecutorsDecommissioning':
    case 'ExecutorDecommissioned':
    case 'ExecutorKilledAtDeadline':
    case 'ExecutorDecommissionFailed':
    case 'DecommissioningDisabled':
      return 'Decommission';
    case 'DriverOnInterruptedNode':
      return 'Drain';
    case 'NoticeWithdrawn':
    case 'EarlyWarningExpired':
      return 'Unmark';
    default:
      return 'Mark';
  }
}
