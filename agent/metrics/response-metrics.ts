import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface ResponseMetrics {
  readonly executorOutcomes: Counter<'outcome' | 'mode'>;
  readonly decommissionSeconds: Histogram<'mode'>;
  readonly podRemovals: Counter<'role' | 'method' | 'result'>;
  readonly signals: Counter<'result'>;
  readonly actionErrors: Counter<'action' | 'code'>;
  readonly driversOnInterruptedNodes: Counter;
  readonly nodeRisk: Gauge<'risk'>;
  readonly notices: Counter<'kind' | 'urgency'>;
  readonly noticeSecondsLeft: Gauge;
}

export function createResponseMetrics(registry: Registry): ResponseMetrics {
  const registers = [registry];
  return {
    executorOutcomes: new Counter({
      name: 'spotguard_executor_outcomes_total',
      help: 'Spark executors handled on an interrupted node, by outcome (decommissioned, killed-at-deadline, failed).',
      labelNames: ['outcome', 'mode'],
      registers,
    }),
    decommissionSeconds: new Histogram({
      name: 'spotguard_executor_decommission_seconds',
      help: 'Time from asking an executor to decommission until it was gone.',
      labelNames: ['mode'],
      buckets: [1, 2, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180],
      registers,
    }),
    podRemovals: new Counter({
      name: 'spotguard_pod_removals_total',
      help: 'Evictions and deletions requested, by pod role (executor, driver, other) and result (evicted, deleted, blocked, gone, error).',
      labelNames: ['role', 'method', 'result'],
      registers,
    }),
    signals: new Counter({
      name: 'spotguard_executor_signals_total',
      help: 'SIGPWR sent to executor JVMs (signal mode), by result (sent, not-found, error).',
      labelNames: ['result'],
      registers,
    }),
    actionErrors: new Counter({
      name: 'spotguard_action_errors_total',
      help: 'Actions that failed and will be retried on the next pass, by action and error code.',
      labelNames: ['action', 'code'],
      registers,
    }),
    driversOnInterruptedNodes: new Counter({
      name: 'spotguard_drivers_on_interrupted_nodes_total',
      help: 'Spark drivers found on a node being interrupted (their apps fail).',
      registers,
    }),
    nodeRisk: new Gauge({
      name: 'spotguard_node_risk',
      help: "1 for this node's current risk (none, elevated, imminent), 0 for the others.",
      labelNames: ['risk'],
      registers,
    }),
    notices: new Counter({
      name: 'spotguard_notices_handled_total',
      help: 'Notices the agent started responding to, by kind and urgency.',
      labelNames: ['kind', 'urgency'],
      registers,
    }),
    noticeSecondsLeft: new Gauge({
      name: 'spotguard_notice_deadline_seconds',
      help: 'Seconds left before the deadline of the notice being handled (absent when none).',
      registers,
    }),
  };
}
