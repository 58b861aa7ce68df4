// A metadata simulator for agent tests: either the real `spotguard simulate`
// process or one started in this process; both are driven through the same
// HTTP control API (/_spotguard/), as an operator would drive it.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Provider } from '../../../../core/domain/notice.ts';
import { startSimulator } from '../../../simulators/start-simulator.ts';
import { spotguardBin, trackChild } from './start-agent.ts';

/** What POST /_spotguard/notices answers. */
export interface ScheduledNotice {
  id: string;
  kind: string;
  action: string;
  appearsAt: string;
  at: string;
}

export interface SimulatorControl {
  readonly provider: Provider;
  /** Base URL of the metadata service (the agent's --metadata-endpoint). */
  readonly url: string;
  /** Schedules a notice: {kind, in?, after?, action?, …}. */
  notice(body: Record<string, unknown>): Promise<ScheduledNotice>;
  cancel(id: string): Promise<void>;
  /** Adds a fault: {type: status|hang|reset|malformed|delay, path?, times?, status?}. */
  fault(body: Record<string, unknown>): Promise<void>;
  clearFaults(): Promise<void>;
  /** Metadata requests served so far. */
  requests(): Promise<Array<{ at: number; method: string; path: string; status: number | 'hang' | 'reset' }>>;
  /** AWS only: every IMDSv2 token issued so far becomes invalid (401). */
  revokeAwsTokens(): Promise<void>;
  /** Azure only: the StartRequests (acknowledgements) the simulator received. */
  azureAcknowledgements(): Promise<Array<{ at: number; body: string }>>;
  close(): Promise<void>;
}

/** Runs `spotguard simulate --provider <p> --port 0` and reads its URL from the first stdout line. */
export async function startSimulatorProcess(provider: Provider): Promise<SimulatorControl> {
  const child = spawn(spotguardBin, ['simulate', '--provider', provider, '--port', '0', '--host', '127.0.0.1'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackChild(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      try {
        resolve((JSON.parse(line) as { url: string }).url);
      } catch (err) {
        reject(new Error(`spotguard simulate printed ${JSON.stringify(line)}`, { cause: err }));
      }
    });
    child.once('exit', (code) => reject(new Error(`spotguard simulate exited with ${code}: ${stderr}`)));
  });
  return control(provider, url, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
}

/** A simulator in this process (cheaper; the same control API). */
export async function startSimulatorInProcess(provider: Provider): Promise<SimulatorControl> {
  const sim = await startSimulator({ provider });
  return control(provider, sim.url, () => sim.close());
}

function control(provider: Provider, url: string, close: () => Promise<void>): SimulatorControl {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${url}/_spotguard/${path}`, {
      method,
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator ${method} /_spotguard/${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as T;
  };
  return {
    provider,
    url,
    notice: (body) => call<ScheduledNotice>('POST', 'notices', body),
    cancel: async (id) => { await call('DELETE', `notices/${encodeURIComponent(id)}`); },
    fault: async (body) => { await call('POST', 'faults', body); },
    clearFaults: async () => { await call('DELETE', 'faults'); },
    requests: async () => (await call<{ requests: Awaited<ReturnType<SimulatorControl['requests']>> }>('GET', 'requests')).requests,
    revokeAwsTokens: async () => { await call('POST', 'aws/tokens/revoke', {}); },
    azureAcknowledgements: async () => (await call<{ acknowledgements: Array<{ at: number; body: string }> }>('GET', 'azure')).acknowledgements,
    close,
  };
}
