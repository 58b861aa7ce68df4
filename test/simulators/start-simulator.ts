import type { Provider } from '../../core/domain/notice.ts';
import { systemClock, type Clock } from '../../core/clock.ts';
import { SimulatorState, type SimIdentity } from './simulator-state.ts';
import { startSimulatorServer, type ProviderHandler, type RunningSimulator } from './simulator-server.ts';
import { awsImdsHandler, awsDefaultIdentity } from './aws-imds-simulator.ts';
import { gcpMetadataHandler, gcpDefaultIdentity } from './gcp-metadata-simulator.ts';
import { azureScheduledEventsHandler, azureDefaultIdentity } from './azure-scheduled-events-simulator.ts';

export interface SimulatorOptions {
  readonly provider: Provider;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly clock?: Clock;
  readonly identity?: Partial<SimIdentity>;
}

const simulators: Record<Provider, { identity: SimIdentity; handler: (state: SimulatorState) => ProviderHandler }> = {
  aws: { identity: awsDefaultIdentity, handler: awsImdsHandler },
  gcp: { identity: gcpDefaultIdentity, handler: gcpMetadataHandler },
  azure: { identity: azureDefaultIdentity, handler: azureScheduledEventsHandler },
};

/** Starts a faithful metadata service for one cloud, with the /_spotguard/ control API beside it. */
export function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const sim = simulators[options.provider];
  const state = new SimulatorState(options.provider, options.clock ?? systemClock, { ...sim.identity, ...options.identity });
  return startSimulatorServer(state, sim.handler(state), { host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
}
