import { Command } from 'commander';
import { defineOption } from '../../core/config/define-option.ts';
import { freezeConfig, parseHost, parsePort } from '../../core/config/parse-values.ts';
import type { Provider } from '../../core/domain/notice.ts';
import { startSimulator } from '../../test/simulators/start-simulator.ts';

interface SimulateConfig {
  provider: Provider;
  host: string;
  port: number;
}

export function simulateCommand(): Command {
  const command = new Command('simulate').description(
    'serve a faithful AWS, GCP or Azure metadata service with a control API (/_spotguard/) for tests, demos and game days',
  );
  defineOption(command, {
    flags: '--provider <provider>',
    env: 'SPOTGUARD_SIM_PROVIDER',
    description: 'which metadata service to simulate',
    choices: ['aws', 'gcp', 'azure'],
  });
  defineOption(command, { flags: '--host <host>', env: 'SPOTGUARD_SIM_HOST', description: 'address to listen on', default: '127.0.0.1', parse: parseHost });
  defineOption(command, {
    flags: '--port <port>',
    env: 'SPOTGUARD_SIM_PORT',
    description: 'port to listen on (0 picks a free one)',
    default: '1338',
    parse: (v) => parsePort(v, { allowZero: true }),
  });
  command.action(async (opts: Record<string, unknown>) => {
    if (opts.provider === undefined) command.error('error: --provider is required (aws, gcp or azure)', { exitCode: 2, code: 'spotguard.missingProvider' });
    const config = freezeConfig(opts as unknown as SimulateConfig);
    const sim = await startSimulator({ provider: config.provider, host: config.host, port: config.port });
    process.stdout.write(
      `${JSON.stringify({ msg: 'simulator listening', provider: config.provider, url: sim.url, control: `${sim.url}/_spotguard/` })}\n`,
    );
    const stop = (): void => {
      void sim.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return command;
}
