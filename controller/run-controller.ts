import type { Registry } from 'prom-client';
import type { Logger } from '../core/log/create-logger.ts';
import { startOpsServer } from '../core/ops/start-ops-server.ts';

export interface ControllerConfig {
  readonly opsHost: string;
  readonly opsPort: number;
  readonly kubeconfig: string | undefined;
}

export interface ControllerDeps {
  readonly log: Logger;
  readonly registry: Registry;
  readonly signal: AbortSignal;
}

/**
 * The cluster-wide controller. For now it serves its ops endpoints and waits; following Spark apps
 * and steering work away from at-risk nodes arrive in later issues.
 */
export async function runController(config: ControllerConfig, deps: ControllerDeps): Promise<void> {
  const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry: deps.registry, log: deps.log });
  deps.log.info({}, 'controller started');
  try {
    await new Promise<void>((resolve) => deps.signal.addEventListener('abort', () => resolve(), { once: true }));
  } finally {
    await ops.close();
    deps.log.info({}, 'controller stopped');
  }
}
