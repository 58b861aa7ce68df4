import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PodSnapshot } from '../../../../core/domain/kube-snapshots.ts';
import type { Action } from '../../../../agent/plan/actions.ts';
import type { ExecutorOutcome } from '../../../../agent/plan/notice-record.ts';
import { planResponse, type Plan } from '../../../../agent/plan/plan-response.ts';
import { defaultResponsePolicy, type ResponsePolicy } from '../../../../agent/plan/response-policy.ts';
import { aDriverPod, aNode, aNotice, anExecutorPod, t0, terminating, withNodeActions } from '../../../fixtures/kube-builders.ts';

const policy = defaultResponsePolicy; // margin 5 s, escalate to delete 15 s before the deadline
const deadline = t0 + 120_000;
const spot = aNotice({ kind: 'spot-interruption', deadline });
const driver = aDriverPod({ app: 'spark-a', node: 'on-demand-1' });

type Seen = 'running' | 'terminating' | 'gone';

interface Case {
  readonly name: string;
  readonly decommission?: boolean;
  /** How the first pass (2 s after the notice) finds the executor. */
  readonly first?: Seen;
  /** How the next pass finds it, and when. */
  readonly next: Seen;
  readonly at: number;
  readonly policy?: Partial<ResponsePolicy>;
  readonly outcome: ExecutorOutcome | null;
  readonly action?: readonly [Action['type'], number];
  readonly event?: readonly [string, 'Normal' | 'Warning'];
}

const cases: Case[] = [
  { name: 'gone before the deadline: decommissioned', next: 'gone', at: t0 + 40_000, outcome: 'decommissioned', event: ['ExecutorDecommissioned', 'Normal'] },
  { name: 'still terminating before the deadline: followed, nothing to do', next: 'terminating', at: t0 + 60_000, outcome: null },
  { name: 'still there at the deadline: killed-at-deadline', next: 'terminating', at: deadline, outcome: 'killed-at-deadline', event: ['ExecutorKilledAtDeadline', 'Warning'] },
  { name: 'no decommission hook, gone: failed', decommission: false, next: 'gone', at: t0 + 10_000, outcome: 'failed', event: ['ExecutorDecommissionFailed', 'Warning'] },
  { name: 'eviction did not take: evicted again with the time now left', next: 'running', at: t0 + 60_000, outcome: null, action: ['evict-pod', 55] },
  { name: 'eviction did not take just before the escalation window: evicted again', next: 'running', at: deadline - 15_001, outcome: null, action: ['evict-pod', 10] },
  { name: 'eviction still blocked near the deadline: deleted', next: 'running', at: deadline - 15_000, outcome: null, action: ['delete-pod', 10] },
  { name: 'eviction still blocked near the deadline, escalation off: evicted again', next: 'running', at: deadline - 15_000, policy: { escalateToDelete: false }, outcome: null, action: ['evict-pod', 10] },
  { name: 'already terminating when the notice came, then gone: decommissioned', first: 'terminating', next: 'gone', at: t0 + 30_000, outcome: 'decommissioned', event: ['ExecutorDecommissioned', 'Normal'] },
  { name: 'already terminating when the notice came: not evicted again', first: 'terminating', next: 'terminating', at: t0 + 30_000, outcome: null },
];

function podAs(pod: PodSnapshot, seen: Seen): PodSnapshot[] {
  return seen === 'gone' ? [] : seen === 'terminating' ? [terminating(pod)] : [pod];
}

function podActions(plan: Plan): Array<[string, number]> {
  return plan.actions.flatMap((a) => (a.type === 'evict-pod' || a.type === 'delete-pod' ? [[a.type, a.graceSeconds] as [string, number]] : []));
}

describe('following each executor until it is gone or the deadline passes (evict mode)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const executor = anExecutorPod({ app: 'spark-a', driver, decommission: c.decommission ?? true });
      const p = { ...policy, ...c.policy };
      const first = planResponse({ notices: [spot], node: aNode(), pods: podAs(executor, c.first ?? 'running'), record: null, liveJvms: null, now: t0 + 2_000, policy: p });
      assert.deepEqual(podActions(first), c.first === 'terminating' ? [] : [['evict-pod', 113]]);

      const next = planResponse({
        notices: [spot],
        node: withNodeActions(aNode(), first.actions),
        pods: podAs(executor, c.next),
        record: first.record,
        liveJvms: null,
        now: c.at,
        policy: p,
      });
      assert.equal(next.record?.progress.executors[0]?.outcome, c.outcome);
      assert.deepEqual(podActions(next), c.action ? [c.action] : []);
      const outcomeEvents = next.actions.filter((a) => a.type === 'emit-event' && a.reason.startsWith('Executor') && a.reason !== 'ExecutorsDecommissioning');
      assert.deepEqual(
        outcomeEvents.map((e) => (e.type === 'emit-event' ? [e.reason, e.eventType, e.regarding.name] : [])),
        c.event ? [[...c.event, driver.name]] : [],
      );
      if (c.outcome === null && !c.action) {
        assert.match(next.skipped.find((s) => s.target === `spark/${executor.name}`)?.reason ?? '', /waiting for the executor/);
      }
    });
  }

  it('reports an executor first seen after the deadline as killed-at-deadline without evicting it', () => {
    const late = planResponse({ notices: [spot], node: aNode(), pods: [anExecutorPod()], record: null, liveJvms: null, now: deadline + 1_000, policy });
    assert.deepEqual(podActions(late), []);
    assert.equal(late.record?.progress.executors[0]?.outcome, 'killed-at-deadline');
  });
});
