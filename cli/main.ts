import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { agentCommand } from './commands/agent-command.ts';
import { controllerCommand } from './commands/controller-command.ts';
import { probeCommand } from './commands/probe-command.ts';
import { simulateCommand } from './commands/simulate-command.ts';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

/** Commander's codes for a bad command line: reported in one line, exit 2. */
const usageErrors = new Set([
  'commander.invalidArgument',
  'commander.optionMissingArgument',
  'commander.missingArgument',
  'commander.missingMandatoryOptionValue',
  'commander.unknownOption',
  'commander.unknownCommand',
  'commander.excessArguments',
  'commander.conflictingOption',
  'spotguard.missingProvider',
  'spotguard.missingNodeName',
]);

function buildProgram(): Command {
  const program = new Command('spotguard')
    .description('Spark-aware spot interruption handling for Kubernetes')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of [agentCommand(), controllerCommand(), probeCommand(), simulateCommand()]) {
    program.addCommand(command.exitOverride().showHelpAfterError(false));
  }
  program
    .command('version')
    .description('print the version')
    .action(() => {
      process.stdout.write(`spotguard ${pkg.version} (node ${process.version})\n`);
    });
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = usageErrors.has(err.code) ? 2 : err.exitCode;
  } else {
    throw err;
  }
}
