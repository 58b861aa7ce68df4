import { Command } from 'commander';
import { systemClock } from '../../core/clock.ts';
import { defineOption } from '../../core/config/define-option.ts';
import { freezeConfig, parseBoolean, parseKubeName } from '../../core/config/parse-values.ts';
import { createRegistry } from '../../core/metrics/create-registry.ts';
import { runAgent, type AgentConfig } from '../../agent/run-agent.ts';
import { defaultResponsePolicy, type ResponsePolicy } from '../../agent/plan/response-policy.ts';
import { addKubeconfigOption, addLoggingOptions, addMetadataOptions, addOpsOptions, durationOption } from '../common-options.ts';
import { runUntilSignalled, type LoggingConfig } from '../run-until-signalled.ts';
import { formatDuration } from '../../core/config/parse-values.ts';

export function agentCommand(): Command {
  const command = new Command('agent').description(
    'per-node DaemonSet: watch the instance metadata for interruption notices and decommission Spark executors in time',
  );
  const d = defaultResponsePolicy;
  addMetadataOptions(command);
  defineOption(command, {
    flags: '--node-name <name>',
    env: 'SPOTGUARD_NODE_NAME',
    description: 'the Kubernetes Node this agent runs on (required; set it from the downward API: spec.nodeName)',
    parse: parseKubeName,
  });
  addKubeconfigOption(command);
  defineOption(command, {
    flags: '--mode <mode>',
    env: 'SPOTGUARD_MODE',
    description: "evict: Eviction API with grace = time left − margin (Spark's preStop hook decommissions); signal: SIGPWR to executor JVMs (needs hostPID)",
    default: d.mode,
    choices: ['evict', 'signal'],
  });
  defineOption(command, {
    flags: '--drain <what>',
    env: 'SPOTGUARD_DRAIN',
    description: 'after executors, also evict: others (every other pod but DaemonSet and mirror pods), none, or auto (none on Karpenter nodes, else others)',
    default: d.drain,
    choices: ['auto', 'none', 'others'],
  });
  defineOption(command, {
    flags: '--deadline-margin <duration>',
    env: 'SPOTGUARD_DEADLINE_MARGIN',
    description: 'time kept free before the deadline: eviction grace = time left − margin',
    default: formatDuration(d.marginMs),
    parse: durationOption(0, 600_000),
  });
  defineOption(command, {
    flags: '--maintenance-lead <duration>',
    env: 'SPOTGUARD_MAINTENANCE_LEAD',
    description: 'act on scheduled maintenance this long before it starts (before that: early warning only)',
    default: formatDuration(d.maintenanceLeadMs),
    parse: durationOption(0, 7 * 24 * 3_600_000),
  });
  defineOption(command, {
    flags: '--early-warning-ttl <duration>',
    env: 'SPOTGUARD_EARLY_WARNING_TTL',
    description: 'lift the elevated-risk marks of a rebalance recommendation after this long unless it escalates',
    default: formatDuration(d.earlyWarningTtlMs),
    parse: durationOption(1000, 7 * 24 * 3_600_000),
  });
  defineOption(command, {
    flags: '--escalate-to-delete [bool]',
    env: 'SPOTGUARD_ESCALATE_TO_DELETE',
    description: 'near the deadline, delete executor pods whose eviction a PodDisruptionBudget still blocks',
    default: String(d.escalateToDelete),
    parse: parseBoolean,
  });
  defineOption(command, {
    flags: '--escalate-before <duration>',
    env: 'SPOTGUARD_ESCALATE_BEFORE',
    description: 'how long before the deadline blocked evictions escalate, and Spark drivers are evicted regardless',
    default: formatDuration(d.escalateBeforeMs),
    parse: durationOption(0, 600_000),
  });
  defineOption(command, {
    flags: '--proc-root <path>',
    env: 'SPOTGUARD_PROC_ROOT',
    description: 'where the host /proc is mounted (signal mode finds executor JVMs there)',
    default: '/proc',
  });
  defineOption(command, {
    flags: '--poll-interval <duration>',
    env: 'SPOTGUARD_POLL_INTERVAL',
    description: "pause between metadata polls; default per cloud: aws 500ms, azure 1s, gcp waits on the service's own hanging GET",
    parse: durationOption(100, 60_000),
  });
  defineOption(command, {
    flags: '--pass-interval <duration>',
    env: 'SPOTGUARD_PASS_INTERVAL',
    description: 'while a notice is being handled: pause between passes that re-read the node and its pods',
    default: '1s',
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
    if (typeof opts.nodeName !== 'string') {
      command.error('error: --node-name (SPOTGUARD_NODE_NAME) is required: the Node this agent runs on', { exitCode: 2, code: 'spotguard.missingNodeName' });
    }
    const policy: ResponsePolicy = {
      mode: opts.mode as ResponsePolicy['mode'],
      drain: opts.drain as ResponsePolicy['drain'],
      marginMs: opts.deadlineMargin as number,
      maintenanceLeadMs: opts.maintenanceLead as number,
      earlyWarningTtlMs: opts.earlyWarningTtl as number,
      escalateToDelete: opts.escalateToDelete === true,
      escalateBeforeMs: opts.escalateBefore as number,
      fallbackWindowMs: d.fallbackWindowMs,
    };
    const config = freezeConfig({
      provider: opts.provider,
      metadataEndpoint: opts.metadataEndpoint,
      nodeName: opts.nodeName,
      kubeconfig: opts.kubeconfig,
      pollIntervalMs: opts.pollInterval,
      opsHost: opts.opsHost,
      opsPort: opts.opsPort,
      dryRun: opts.dryRun === true,
      policy,
      procRoot: opts.procRoot,
      passIntervalMs: opts.passInterval,
    } as AgentConfig);
    await runUntilSignalled('agent', opts as unknown as LoggingConfig, (deps) =>
      runAgent(config, { ...deps, clock: systemClock, registry: createRegistry() }),
    );
  });
  return command;
}
