import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NodeSnapshot, PodSnapshot } from '../../../../core/domain/kube-snapshots.ts';
import type { Notice } from '../../../../core/domain/notice.ts';
import type { Action } from '../../../../agent/plan/actions.ts';
import { chooseNotice, urgencyOf } from '../../../../agent/plan/choose-notice.ts';
import type { NoticeRecord } from '../../../../agent/plan/notice-record.ts';
import { planResponse, type Plan } from '../../../../agent/plan/plan-response.ts';
import { defaultResponsePolicy } from '../../../../agent/plan/response-policy.ts';
import { aNode, aNotice, anExecutorPod, t0, withNodeActions } from '../../../fixtures/kube-builders.ts';

const policy = defaultResponsePolicy; // lead 10 min, early warning TTL 30 min
const minute = 60_000;
const rebalance = aNotice({ provider: 'aws', kind: 'rebalance-recommendation', deadline: null });
const hour = 60 * minute;

interface Pass {
  readonly notices: readonly Notice[];
  readonly now: number;
  readonly pods?: readonly PodSnapshot[] | null;
}

/** Plans pass after pass as the agent does (pods listed only while something is imminent). */
function run(passes: readonly Pass[], start: NodeSnapshot = aNode()): Plan[] {
  let node = start;
  let record: NoticeRecord | null = null;
  return passes.map((p) => {
    const result = planResponse({ notices: p.notices, node, pods: p.pods ?? null, record, liveJvms: null, now: p.now, policy });
    node = withNodeActions(node, result.actions);
    record = result.record;
    return result;
  });
}

function marks(plan: Plan | undefined): string[] {
  return (plan?.actions ?? []).flatMap((a: Action) => {
    if (a.type === 'add-taint') return [`+taint ${a.taint.key}:${a.taint.effect}`];
    if (a.type === 'remove-taint') return [`-taint ${a.key}`];
    if (a.type === 'set-labels') return Object.entries(a.labels).map(([k, v]) => (v === null ? `-label ${k}` : `+label ${k}=${v}`));
    return [];
  });
}

function reasons(plan: Plan | undefined): string[] {
  return (plan?.actions ?? []).flatMap((a) => (a.type === 'emit-event' ? [a.reason] : []));
}

describe('early warning: rebalance recommendation', () => {
  it('marks the node elevated and prefers other nodes, without cordoning or touching pods', () => {
    const [first] = run([{ notices: [rebalance], now: t0 + 1_000 }]);
    assert.deepEqual(marks(first), ['+taint spotguard.io/at-risk:PreferNoSchedule', '+label spotguard.io/risk=elevated']);
    assert.deepEqual(reasons(first), ['EarlyWarning']);
    assert.equal(first?.needsPods, false);
    assert.ok(!first?.actions.some((a) => a.type === 'evict-pod' || a.type === 'delete-pod' || a.type === 'signal-executor'));
    assert.equal(first?.record?.urgency, 'elevated');
    assert.equal(first?.record?.deadline, null);
  });

  it('does nothing more while the warning stands, lifts the marks after the TTL, and does not mark again', () => {
    const passes = run([
      { notices: [rebalance], now: t0 + 1_000 },
      { notices: [rebalance], now: t0 + 10 * minute },
      { notices: [rebalance], now: t0 + policy.earlyWarningTtlMs },
      { notices: [rebalance], now: t0 + policy.earlyWarningTtlMs + minute },
      { notices: [rebalance], now: t0 + 3 * hour },
    ]);
    assert.deepEqual(passes[1]?.actions, []);
    assert.deepEqual(marks(passes[2]), ['-taint spotguard.io/at-risk', '-label spotguard.io/risk']);
    assert.deepEqual(reasons(passes[2]), ['EarlyWarningExpired']);
    assert.deepEqual(passes[3]?.actions, []);
    assert.deepEqual(passes[4]?.actions, []);
  });

  it('escalates to the imminent response when a spot interruption follows', () => {
    const spot = aNotice({ kind: 'spot-interruption', detectedAt: t0 + 5 * minute });
    const passes = run([
      { notices: [rebalance], now: t0 + 1_000 },
      { notices: [rebalance, spot], now: t0 + 5 * minute, pods: [anExecutorPod()] },
    ]);
    assert.deepEqual(marks(passes[1]).sort(), [
      '+label spotguard.io/risk=imminent',
      '+taint spotguard.io/interruption:NoSchedule',
      '-taint spotguard.io/at-risk',
    ]);
    assert.deepEqual(reasons(passes[1]), ['InterruptionNotice', 'ExecutorsDecommissioning']);
    assert.equal(passes[1]?.record?.id, spot.id);
  });
});

describe('scheduled maintenance', () => {
  const startsAt = t0 + 3 * 24 * hour;
  const maintenance = aNotice({ kind: 'scheduled-maintenance', action: 'system-reboot', startsAt, deadline: startsAt });

  it('is an early warning while far ahead, and stays one until its lead time (no TTL)', () => {
    const passes = run([
      { notices: [maintenance], now: t0 },
      { notices: [maintenance], now: t0 + 2 * hour },
      { notices: [maintenance], now: startsAt - policy.maintenanceLeadMs - 1 },
    ]);
    assert.deepEqual(marks(passes[0]), ['+taint spotguard.io/at-risk:PreferNoSchedule', '+label spotguard.io/risk=elevated']);
    assert.deepEqual(reasons(passes[0]), ['MaintenanceScheduled']);
    assert.deepEqual(passes[1]?.actions, []);
    assert.deepEqual(passes[2]?.actions, []);
  });

  it('becomes the imminent response within the lead time of its start, with its own notice Event', () => {
    const passes = run([
      { notices: [maintenance], now: t0 },
      { notices: [maintenance], now: startsAt - policy.maintenanceLeadMs, pods: [anExecutorPod()] },
    ]);
    assert.deepEqual(marks(passes[1]).sort(), [
      '+label spotguard.io/risk=imminent',
      '+taint spotguard.io/interruption:NoSchedule',
      '-taint spotguard.io/at-risk',
    ]);
    const taint = passes[1]?.actions.find((a) => a.type === 'add-taint');
    assert.equal(taint?.type === 'add-taint' ? taint.taint.value : null, 'scheduled-maintenance');
    assert.deepEqual(reasons(passes[1]), ['InterruptionNotice', 'ExecutorsDecommissioning']);
    assert.ok(passes[1]?.actions.some((a) => a.type === 'evict-pod'));
    assert.equal(passes[1]?.needsPods, true);
  });
});

describe('which notice the agent acts on', () => {
  const urgencies: Array<[string, Notice, number, 'elevated' | 'imminent']> = [
    ['spot interruption', aNotice({ kind: 'spot-interruption' }), t0, 'imminent'],
    ['rebalance recommendation', rebalance, t0, 'elevated'],
    ['maintenance in 3 days', aNotice({ kind: 'scheduled-maintenance', startsAt: t0 + 72 * hour }), t0, 'elevated'],
    ['maintenance 1 ms before its lead time', aNotice({ kind: 'scheduled-maintenance', startsAt: t0 + 10 * minute + 1 }), t0, 'elevated'],
    ['maintenance exactly at its lead time', aNotice({ kind: 'scheduled-maintenance', startsAt: t0 + 10 * minute }), t0, 'imminent'],
    ['maintenance already started', aNotice({ kind: 'scheduled-maintenance', startsAt: t0 - minute }), t0, 'imminent'],
    ['maintenance with only a deadline, far ahead', aNotice({ kind: 'scheduled-maintenance', startsAt: null, deadline: t0 + 72 * hour }), t0, 'elevated'],
    ['maintenance with no time at all', aNotice({ kind: 'scheduled-maintenance', startsAt: null, deadline: null }), t0, 'imminent'],
  ];
  for (const [name, notice, now, urgency] of urgencies) {
    it(`${name} → ${urgency}`, () => {
      assert.equal(urgencyOf(notice, now, policy), urgency);
    });
  }

  it('prefers an imminent notice to an early warning, then the earliest deadline', () => {
    const late = aNotice({ id: 'late', kind: 'spot-interruption', deadline: t0 + 120_000 });
    const early = aNotice({ id: 'early', kind: 'spot-interruption', deadline: t0 + 30_000 });
    assert.equal(chooseNotice([rebalance, late, early], null, t0, policy)?.notice.id, 'early');
  });

  it('keeps to the notice already being handled while it is as urgent as any other', () => {
    const current = aNotice({ id: 'current', kind: 'spot-interruption', deadline: t0 + 120_000 });
    const newer = aNotice({ id: 'newer', kind: 'spot-interruption', deadline: t0 + 30_000 });
    const [handling] = run([{ notices: [current], now: t0, pods: [] }]);
    assert.equal(chooseNotice([current, newer], handling?.record ?? null, t0 + 1_000, policy)?.notice.id, 'current');
  });
});
