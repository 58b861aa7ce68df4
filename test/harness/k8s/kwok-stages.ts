// The Stage documents kwok runs for Pods in the test world.
//
// kwok (0.7) uses its built-in node stages (Ready + heartbeat with a Lease)
// when the config has no Node stage, and its built-in "fast" pod stages when
// it has no Pod stage. The fast pod-delete stage matches any pod with a
// deletionTimestamp, strips every finalizer and deletes it with grace 0 at
// once: a graceful deletion (eviction with gracePeriodSeconds, a preStop
// hook) would end instantly. So the harness gives its own pod stages, and a
// pod chooses how its deletion completes with the label POD_DELETION_LABEL:
//
//   (absent) | "immediate"  kwok deletes it (grace 0) as soon as it has a
//                           deletionTimestamp, as a kubelet does when the
//                           containers exit on SIGTERM at once.
//   "at-grace-end"          kwok deletes it when its deletionTimestamp (the
//                           end of the grace period) passes, as a kubelet
//                           does for a container that ignores SIGTERM.
//   "external"              kwok leaves the deletion alone: a kubelet
//                           stand-in (e.g. one bridging to real Spark
//                           executors) finishes it with a grace-0 delete.
//
// Finalizers are left in place in every mode, as a real kubelet leaves them.

export const POD_DELETION_LABEL = 'test.spotguard.io/pod-deletion';
export type PodDeletionMode = 'immediate' | 'at-grace-end' | 'external';

/** Nodes kwok manages carry this annotation (the nodes.ts builders add it). */
export const KWOK_NODE_ANNOTATION = 'kwok.x-k8s.io/node';
export const KWOK_NODE_ANNOTATION_VALUE = 'fake';

const deletionLabelKey = `.metadata.labels["${POD_DELETION_LABEL}"]`;

// A Go template (kwok renders it, then merges the YAML into .status).
const podRunningStatus = `{{ $now := Now }}
conditions:
- {type: PodScheduled, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: ContainersReady, status: "True", lastTransitionTime: {{ $now | Quote }}}
- {type: Ready, status: "True", lastTransitionTime: {{ $now | Quote }}}
containerStatuses:
{{ range .spec.containers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: ""
  ready: true
  started: true
  restartCount: 0
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
initContainerStatuses:
{{ range .spec.initContainers }}
- name: {{ .name | Quote }}
  image: {{ .image | Quote }}
  imageID: ""
  ready: true
  restartCount: 0
  state:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ $now | Quote }}
      finishedAt: {{ $now | Quote }}
{{ end }}
hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) | Quote }}
phase: Running
startTime: {{ $now | Quote }}
`;

interface Stage {
  apiVersion: 'kwok.x-k8s.io/v1alpha1';
  kind: 'Stage';
  metadata: { name: string };
  spec: Record<string, unknown>;
}

function podStage(name: string, spec: Record<string, unknown>): Stage {
  return {
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'Stage',
    metadata: { name },
    spec: { resourceRef: { apiGroup: 'v1', kind: 'Pod' }, ...spec },
  };
}

/** The harness's pod stages (see the comment at the top of this file). */
export function podStages(): Stage[] {
  const deleting = { key: '.metadata.deletionTimestamp', operator: 'Exists' };
  return [
    podStage('spotguard-pod-running', {
      selector: {
        matchExpressions: [
          { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
          { key: '.status.podIP', operator: 'DoesNotExist' },
        ],
      },
      next: { statusTemplate: podRunningStatus },
    }),
    podStage('spotguard-pod-delete-immediate', {
      selector: {
        matchExpressions: [
          deleting,
          { key: deletionLabelKey, operator: 'NotIn', values: ['at-grace-end', 'external'] },
        ],
      },
      next: { delete: true },
    }),
    podStage('spotguard-pod-delete-at-grace-end', {
      selector: { matchExpressions: [deleting, { key: deletionLabelKey, operator: 'In', values: ['at-grace-end'] }] },
      // A timestamp as a duration means "until then".
      delay: { durationMilliseconds: 0, durationFrom: { expressionFrom: '.metadata.deletionTimestamp' } },
      next: { delete: true },
    }),
  ];
}

/** kwok's --config file: YAML documents (JSON is YAML). */
export function kwokConfigYaml(): string {
  return podStages().map((stage) => JSON.stringify(stage, null, 2)).join('\n---\n') + '\n';
}
