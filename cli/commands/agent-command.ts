import { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { defineOption } from '../../core/config/define-option.ts';
import { freezeConfig, parseBoolean, parseKubeName } from '../../core/config/parse-values.ts';
import { createRegistry } from '../../core/metrics/create-registry.ts';
import { runAgent, type AgentConfig } from '../../agent/run-agent.ts';
import { addKubeconfigOption, addLoggingOptions, addMetadataOptions, addOpsOptions, durationOption } from '../common-options.ts';
import { runUntilSignalled, type LoggingConfig } from '../run-until-signalled.ts';

export function agentCommand(): Command {
  const command = new Command('agent').description(
    'per-node DaemonSet: watch the instance metadata for interruption notices and decommission Spark executors in time',
  );
  addMetadataOptions(command);
  defineOption(command, {
    flags: '--node-name <name>',
    env: 'SPOTGUARD_NODE_NAME',
    description: 'the Kubernetes Node this agent runs on (set it from the downward API: spec.nodeName)',
    parse: parseKubeName,
  });
  addKubeconfigOption(command);
  defineOption(command, {
    flags: '--poll-interval <duration>',
    env: 'SPOTGUARD_POLL_INTERVAL',
    description: "pause between metadata polls; default per cloud: aws 500ms, azure 1s, gcp waits on the service's own hanging GET",
    parse: durationOption(100, 60_000),
  });
  addOpsOptions(command, 9808);
  defineOption(command, {
    flags: '--dry-run [bool]',
    env: 'SPOTGUARD_DRY_RUN',
    description: 'log the full plan but change nothing',
    default: 'false',
    parse: parseBoolean,
  });
  addLoggingOptions(command);
  command.action(async (opts: Record<string, unknown>) => {
    const config = freezeConfig({
      provider: opts.provider,
      metadataEndpoint: opts.metadataEndpoint,
      nodeName: opts.nodeName,
      kubeconfig: opts.kubeconfig,
      pollIntervalMs: opts.pollInterval,
      opsHost: opts.opsHost,
      opsPort: opts.opsPort,
      dryRun: opts.dryRun === true,
    } as AgentConfig);
    await runUntilSignalled('agent', opts as unknown as LoggingConfig, (deps) =>
      runAgent(config, { ...deps, clock: systemClock, registry: createRegistry() }),
    );
  });
  return command;
}
