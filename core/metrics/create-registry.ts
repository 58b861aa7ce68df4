import { Registry, collectDefaultMetrics } from 'prom-client';

/** A registry of our own (never prom-client's global one), with process metrics prefixed spotguard_. */
export function createRegistry(options: { processMetrics?: boolean } = {}): Registry {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: 'spotguard_' });
  return registry;
}
