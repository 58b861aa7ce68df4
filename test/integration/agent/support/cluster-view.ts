// What a person with kubectl sees of the agent's work: the node's taints,
// labels and spotguard.io/notice annotation, Events, pods.
import { ApiException } from '@kubernetes/client-node';
import type { EventsV1Event, V1Node, V1Pod, V1Taint } from '@kubernetes/client-node';
import type { KubeClients } from '../../../harness/k8s/kube-clients.ts';
import { waitFor } from '../../../harness/k8s/wait-for.ts';

export const interruptionTaint = 'spotguard.io/interruption';
export const atRiskTaint = 'spotguard.io/at-risk';
export const riskLabel = 'spotguard.io/risk';
export const noticeAnnotationKey = 'spotguard.io/notice';

/** The spotguard.io/notice annotation as documented (RFC 3339 times). */
export interface NoticeAnnotation {
  id: string;
  kind: string;
  action: string;
  deadline: string | null;
  detectedAt: string;
  urgency: string;
  progress: {
    executors: Array<{
      pod: string;
      uid: string;
      app: string | null;
      executor: string | null;
      step: string;
      at: string;
      outcome: string | null;
      outcomeAt: string | null;
      detail: string;
    }>;
    evicted: string[];
    emitted: string[];
    expired: boolean;
    acknowledged: boolean;
    done: boolean;
  };
}

export function taintOf(node: V1Node, key: string): V1Taint | undefined {
  return node.spec?.taints?.find((t) => t.key === key);
}

export function noticeOf(node: V1Node): NoticeAnnotation | null {
  const value = node.metadata?.annotations?.[noticeAnnotationKey];
  return value === undefined ? null : (JSON.parse(value) as NoticeAnnotation);
}

/** Polls the node until `check` returns something; returns that. */
export function waitForNode<T>(
  k: KubeClients, name: string, what: string, check: (node: V1Node) => T | undefined, timeoutMs = 15_000,
): Promise<T> {
  return waitFor(`node ${name}: ${what}`, async () => check(await k.core.readNode({ name })), { timeoutMs, intervalMs: 50 });
}

/** The pod, or null once it is gone. */
export async function podOrNull(k: KubeClients, namespace: string, name: string): Promise<V1Pod | null> {
  try {
    return await k.core.readNamespacedPod({ name, namespace });
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return null;
    throw err;
  }
}

/** events.k8s.io/v1 Events spotguard's agent reported about `name` (a Node: namespace default). */
export async function agentEventsAbout(k: KubeClients, name: string, namespace = 'default'): Promise<EventsV1Event[]> {
  const list = await k.events.listNamespacedEvent({ namespace });
  return list.items
    .filter((e) => e.reportingController === 'spotguard.io/agent' && e.regarding?.name === name)
    .sort((a, b) => eventMs(a) - eventMs(b));
}

/** Every Event spotguard's agent reported in these namespaces. */
export async function allAgentEvents(k: KubeClients, namespaces: string[] = ['default']): Promise<EventsV1Event[]> {
  const lists = await Promise.all(namespaces.map((namespace) => k.events.listNamespacedEvent({ namespace })));
  return lists.flatMap((l) => l.items).filter((e) => e.reportingController === 'spotguard.io/agent');
}

export function eventMs(e: EventsV1Event): number {
  return new Date(e.eventTime as unknown as string).getTime();
}

export function reasons(events: readonly EventsV1Event[]): string[] {
  return events.map((e) => e.reason ?? '');
}

/** Waits for an Event with `reason` about `name`. */
export function waitForEvent(k: KubeClients, name: string, reason: string, opts: { namespace?: string; timeoutMs?: number } = {}): Promise<EventsV1Event> {
  return waitFor(`Event ${reason} about ${name}`, async () =>
    (await agentEventsAbout(k, name, opts.namespace)).find((e) => e.reason === reason), { timeoutMs: opts.timeoutMs ?? 15_000, intervalMs: 100 });
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}
