import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface SourceMetrics {
  readonly polls: Counter<'provider' | 'outcome'>;
  readonly errors: Counter<'provider' | 'code'>;
  readonly pollDuration: Histogram<'provider'>;
  readonly noticesDetected: Counter<'provider' | 'kind'>;
  readonly noticesActive: Gauge<'kind'>;
}

export function createSourceMetrics(registry: Registry): SourceMetrics {
  return {
    polls: new Counter({
      name: 'spotguard_metadata_polls_total',
      help: 'Polls of the instance metadata service, by outcome (ok or error).',
      labelNames: ['provider', 'outcome'],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'spotguard_metadata_errors_total',
      help: 'Failed metadata polls, by error code.',
      labelNames: ['provider', 'code'],
      registers: [registry],
    }),
    pollDuration: new Histogram({
      name: 'spotguard_metadata_poll_duration_seconds',
      help: 'Time one metadata poll took (GCP polls include the hanging GET wait).',
      labelNames: ['provider'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    noticesDetected: new Counter({
      name: 'spotguard_notices_detected_total',
      help: 'Interruption notices seen for the first time, by kind.',
      labelNames: ['provider', 'kind'],
      registers: [registry],
    }),
    noticesActive: new Gauge({
      name: 'spotguard_notices_active',
      help: 'Notices in force on this node right now, by kind.',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}
