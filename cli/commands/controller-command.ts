import { Command } from 'commander';
import { freezeConfig } from '../../core/config/parse-values.ts';
import { createRegistry } from '../../core/metrics/create-registry.ts';
import { runController, type ControllerConfig } from '../../controller/run-controller.ts';
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
    const config = freezeConfig<ControllerConfig>({
      opsHost: opts.opsHost as string,
      opsPort: opts.opsPort as number,
      kubeconfig: opts.kubeconfig as string | undefined,
    });
    await runUntilSignalled('controller', opts as unknown as LoggingConfig, ({ log, signal }) =>
      runController(config, { log, signal, registry: createRegistry() }),
    );
  });
  return command;
}
