import type { Clock } from '../../core/clock.ts';
import type { NodeSnapshot, PodSnapshot } from '../../core/domain/kube-snapshots.ts';
import type { Notice } from '../../core/domain/notice.ts';
import { toSpotguardError } from '../../core/errors.ts';
import type { KubeApis } from '../../core/kube/kube-apis.ts';
import { kubeError } from '../../core/kube/load-kube-config.ts';
import { toNodeSnapshot, toPodSnapshot } from '../../core/kube/to-snapshots.ts';
import type { Logger } from '../../core/log/create-logger.ts';
import { describeAction, executePlan, type PlanExecutor } from '../execute/execute-plan.ts';
import type { ExecutorJvm } from '../execute/executor-jvms.ts';
import type { ResponseMetrics } from '../metrics/response-metrics.ts';
import { chooseNotice } from '../plan/choose-notice.ts';
import type { Action } from '../plan/actions.ts';
import { decodeRecord, noticeAnnotation, type NoticeRecord } from '../plan/notice-record.ts';
import { planResponse } from '../plan/plan-response.ts';
import type { ResponsePolicy } from '../plan/response-policy.ts';
import { recordOutcomes } from './record-outcomes.ts';

export interface ResponderOptions {
  readonly apis: KubeApis;
  readonly nodeName: string;
  readonly policy: ResponsePolicy;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ResponseMetrics;
  readonly executor: Omit<PlanExecutor, 'clock' | 'log' | 'metrics' | 'dryRun'>;
  /** Signal mode: lists executor JVMs on this host. */
  readonly scanJvms: (() => Promise<ExecutorJvm[]>) | null;
  readonly dryRun: boolean;
  /** Pause between passes while a response is under way. */
  readonly passIntervalMs: number;
}

/**
 * Turns the notices in force into actions on the cluster. Costs nothing while there is no notice
 * and nothing recorded on the node; otherwise reads the node (and, when imminent, its pods), plans
 * and executes, pass after pass, until the notice is handled or withdrawn.
 */
export class NoticeResponder {
  private readonly o: ResponderOptions;
  private readonly exec: PlanExecutor;
  private notices: readonly Notice[] = [];
  private record: NoticeRecord | null = null;
  private wake: (() => void) | null = null;
  private readonly dryRunLogged = new Set<string>();

  constructor(options: ResponderOptions) {
    this.o = options;
    this.exec = { ...options.executor, clock: options.clock, log: options.log, metrics: options.metrics, dryRun: options.dryRun };
  }

  /** Reads what an earlier agent recorded on the node, so a restart resumes instead of starting over. */
  async resume(): Promise<NoticeRecord | null> {
    const node = await this.readNode();
    this.record = decodeRecord(node.annotations[noticeAnnotation]);
    if (node.annotations[noticeAnnotation] !== undefined && this.record === null) {
      this.o.log.warn({ node: node.name }, 'unreadable notice annotation; starting afresh');
    }
    if (this.record) this.o.log.info({ noticeId: this.record.id, executors: this.record.progress.executors.length }, 'resuming recorded response');
    this.setRiskGauge(this.record?.urgency ?? 'none');
    return this.record;
  }

  /** The notices in force changed (called after every poll). */
  update(notices: readonly Notice[]): void {
    this.notices = notices;
    this.wake?.();
  }

  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (this.notices.length === 0 && this.record === null) {
        await this.sleep(signal, null);
        continue;
      }
      try {
        await this.pass();
      } catch (err) {
        const e = toSpotguardError(err, 'E_KUBE_API');
        this.o.metrics.actionErrors.inc({ action: 'pass', code: e.code });
        this.o.log.warn({ code: e.code, err: e.message }, 'response pass failed; will retry');
      }
      await this.sleep(signal, this.o.passIntervalMs);
    }
  }

  /** One pass: read, plan, execute. */
  async pass(): Promise<void> {
    const { policy, clock, log } = this.o;
    const node = await this.readNode();
    const now = clock.now();
    const chosen = chooseNotice(this.notices, this.record, now, policy);
    const listPods = chosen?.urgency === 'imminent';
    const pods = listPods ? await this.listPods() : null;
    const jvms = listPods && this.o.scanJvms ? await this.o.scanJvms() : null;
    const plan = planResponse({
      notices: this.notices,
      node,
      pods,
      record: this.record,
      liveJvms: jvms ? liveJvmUids(jvms, pods ?? [], this.record) : null,
      now,
      policy,
    });
    if (plan.actions.length > 0) {
      log.info({ noticeId: plan.record?.id ?? this.record?.id, actions: plan.actions.map(describeAction), skipped: plan.skipped.length }, 'plan');
      if (plan.skipped.length > 0) log.debug({ skipped: plan.skipped }, 'left alone');
    }
    const actions = this.o.dryRun ? plan.actions.filter((a) => this.firstDryRun(a)) : plan.actions;
    const { recordWritten, failedEvents } = await executePlan(actions, pods ?? [], this.exec);
    if (!recordWritten) return;
    if (plan.record && (!this.record || plan.record.id !== this.record.id)) {
      this.o.metrics.notices.inc({ kind: plan.record.kind, urgency: plan.record.urgency });
    }
    recordOutcomes(this.record, plan.record, policy.mode, this.o.metrics, log);
    this.record = forgetEvents(plan.record, failedEvents);
    this.setRiskGauge(plan.record === null || plan.record.progress.expired ? 'none' : plan.record.urgency);
    if (plan.record?.deadline) this.o.metrics.noticeSecondsLeft.set(Math.max(0, (plan.record.deadline - now) / 1000));
    else this.o.metrics.noticeSecondsLeft.reset();
  }

  private async readNode(): Promise<NodeSnapshot> {
    try {
      return toNodeSnapshot(await this.o.apis.core.readNode({ name: this.o.nodeName }));
    } catch (err) {
      throw kubeError(err, `read node ${this.o.nodeName}`);
    }
  }

  private async listPods(): Promise<PodSnapshot[]> {
    try {
      const list = await this.o.apis.core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${this.o.nodeName}` });
      return list.items.map(toPodSnapshot);
    } catch (err) {
      throw kubeError(err, `list pods on node ${this.o.nodeName}`);
    }
  }

  /**
   * Dry run logs each planned action once. Nothing is evicted, so every pass plans the evictions
   * again with the grace shrinking by the second: those are the same action, not a new one.
   */
  private firstDryRun(action: Action): boolean {
    const key = describeAction(action).replace(/ grace \d+s$/, '');
    if (this.dryRunLogged.has(key)) return false;
    this.dryRunLogged.add(key);
    return true;
  }

  private setRiskGauge(risk: 'none' | 'elevated' | 'imminent'): void {
    for (const r of ['none', 'elevated', 'imminent']) this.o.metrics.nodeRisk.set({ risk: r }, r === risk ? 1 : 0);
  }

  private sleep(signal: AbortSignal, ms: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.wake = null;
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = ms === null ? null : setTimeout(done, ms);
      this.wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The record without the keys of Events that were not created, so the next pass plans them again. */
function forgetEvents(record: NoticeRecord | null, failed: readonly string[]): NoticeRecord | null {
  if (record === null || failed.length === 0) return record;
  return { ...record, progress: { ...record.progress, emitted: record.progress.emitted.filter((key) => !failed.includes(key)) } };
}

/** Pods (listed now or recorded earlier) whose executor JVM still runs on this host. */
function liveJvmUids(jvms: readonly ExecutorJvm[], pods: readonly PodSnapshot[], record: NoticeRecord | null): Set<string> {
  const live = new Set<string>();
  const candidates = [
    ...pods.filter((p) => p.sparkRole === 'executor').map((p) => ({ uid: p.uid, app: p.sparkAppId, executor: p.sparkExecutorId })),
    ...(record?.progress.executors ?? []).map((e) => ({ uid: e.uid, app: e.app, executor: e.executor })),
  ];
  for (const c of candidates) {
    const alive = jvms.some(
      (j) => j.podUid === c.uid || (j.podUid === null && j.appId !== null && j.appId === c.app && j.executorId === c.executor),
    );
    if (alive) live.add(c.uid);
  }
  return live;
}
