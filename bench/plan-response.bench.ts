/**
 * How long the agent's planner takes for a crowded node: a spot interruption on a node with many
 * executors and other pods, first pass (evict everything) and a follow-up pass (half gone).
 * Prints one JSON line per case. Run: make bench.
 */
import { performance } from 'node:perf_hooks';
import { planResponse } from '../agent/plan/plan-response.ts';
import { decodeRecord, noticeAnnotation } from '../agent/plan/notice-record.ts';
import { defaultResponsePolicy } from '../agent/plan/response-policy.ts';
import { aNode, aNotice, aPod, anExecutorPod, t0, withNodeActions } from '../test/fixtures/kube-builders.ts';

function measure(name: string, executors: number, others: number): void {
  const node = aNode();
  const pods = [
    ...Array.from({ length: executors }, (_, i) => anExecutorPod({ app: `spark-app-${i % 8}`, executorId: String(i), node: node.name })),
    ...Array.from({ length: others }, (_, i) => aPod({ name: `web-${i}`, node: node.name })),
  ];
  const notice = aNotice();
  const first = planResponse({ notices: [notice], node, pods, record: null, liveJvms: null, now: t0 + 1000, policy: defaultResponsePolicy });
  const nextNode = withNodeActions(node, first.actions);
  const record = decodeRecord(nextNode.annotations[noticeAnnotation]);
  const remaining = pods.filter((_, i) => i % 2 === 0);
  const rounds = 200;
  const timings: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const started = performance.now();
    planResponse({ notices: [notice], node: nextNode, pods: remaining, record, liveJvms: null, now: t0 + 5000, policy: defaultResponsePolicy });
    timings.push(performance.now() - started);
  }
  const startedFirst = performance.now();
  for (let r = 0; r < rounds; r++) {
    planResponse({ notices: [notice], node, pods, record: null, liveJvms: null, now: t0 + 1000, policy: defaultResponsePolicy });
  }
  const firstPassMs = (performance.now() - startedFirst) / rounds;
  timings.sort((a, b) => a - b);
  const p = (q: number): number => Number((timings[Math.floor(q * (timings.length - 1))] ?? 0).toFixed(3));
  console.log(
    JSON.stringify({
      bench: 'plan-response',
      case: name,
      executors,
      otherPods: others,
      actionsFirstPass: first.actions.length,
      firstPassMeanMs: Number(firstPassMs.toFixed(3)),
      followUpP50Ms: p(0.5),
      followUpP99Ms: p(0.99),
      annotationBytes: (nextNode.annotations[noticeAnnotation] ?? '').length,
    }),
  );
}

measure('typical node', 8, 12);
measure('crowded node', 64, 40);
measure('huge node', 250, 110);
