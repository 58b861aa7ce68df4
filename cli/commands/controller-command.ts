import { Command } from 'commander';
import { freezeConfig } from '../../core/config/parse-values.ts';
import { createRegistry } from '../../core/metrics/create-registry.ts';
import { startOpsServer } from '../../core/ops/start-ops-server.ts';
import { addKubeconfigOption, addLoggingOptions, addOpsOptions } from '../common-options.ts';
import { runUntilSignalled, type LoggingConfig } from '../run-until-signalled.ts';

export function controllerCommand(): Command {
  const command = new Command('controller').description(
    'cluster-wide Deployment: follow Spark apps and steer shuffle-heavy work away from at-risk nodes (serves ops endpoints only for now)',
  );
  addKubeconfigOption(command);
  addOpsOptions(command, 9809);
  addLoggingOptions(command);
  command.action(async (opts: Record<string, unknown>) => {
    const config = freezeConfig({ opsHost: opts.opsHost as string, opsPort: opts.opsPort as number });
    await runUntilSignalled('controller', opts as unknown as LoggingConfig, async ({ log, signal }) => {
      const ops = await startOpsServer({ host: config.opsHost, port: config.opsPort, registry: createRegistry(), log });
      log.info({}, 'controller started');
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      await ops.close();
    });
  });
  return command;
}
