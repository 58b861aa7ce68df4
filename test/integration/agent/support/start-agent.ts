// The real agent process (`bin/spotguard agent`), as a DaemonSet pod would
// run it: flags for its node, kubeconfig and metadata endpoint, JSON log
// lines on stderr (collected and parsed here), ops server on a free port
// (learnt from its 'ops server listening' line).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Provider } from '../../../../core/domain/notice.ts';
import { waitFor } from '../../../harness/k8s/wait-for.ts';
import { parseMetrics, type MetricSamples } from './metrics-text.ts';

export const spotguardBin = fileURLToPath(new URL('../../../../bin/spotguard', import.meta.url));

/** One JSON log line of the agent. */
export interface LogLine {
  level: string;
  msg: string;
  time: string;
  [field: string]: unknown;
}

export interface AgentOptions {
  nodeName: string;
  kubeconfig: string;
  metadataEndpoint: string;
  provider: Provider;
  /** Where the agent's stderr is kept (appended across restarts), for a failing test's output. */
  logPath: string;
  /** More flags, e.g. ['--mode', 'signal'] or ['--dry-run']. */
  args?: string[];
}

export interface RunningAgent {
  readonly pid: number;
  /** http://127.0.0.1:<port> of /healthz, /readyz, /metrics. */
  readonly opsUrl: string;
  /** Every JSON line logged so far. */
  readonly lines: readonly LogLine[];
  /** Lines with this message. */
  logged(msg: string): LogLine[];
  /** Waits for a line with this message (and matching `where`), logged by now or later. */
  waitForLog(msg: string, opts?: { where?: (line: LogLine) => boolean; timeoutMs?: number }): Promise<LogLine>;
  metrics(): Promise<MetricSamples>;
  isRunning(): boolean;
  /** Resolves when the process has exited: its exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends a signal and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the agent and waits until its ops server listens. */
export async function startAgent(opts: AgentOptions): Promise<RunningAgent> {
  const args = [
    'agent',
    '--node-name', opts.nodeName,
    '--kubeconfig', opts.kubeconfig,
    '--metadata-endpoint', opts.metadataEndpoint,
    '--provider', opts.provider,
    '--pass-interval', '200ms',
    '--ops-host', '127.0.0.1',
    '--ops-port', '0',
    '--log-format', 'json',
    ...(opts.args ?? []),
  ];
  appendFileSync(opts.logPath, `# ${spotguardBin} ${args.join(' ')}\n`);
  const child = spawn(spotguardBin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start bin/spotguard agent');
  trackChild(child);
  const lines: LogLine[] = [];
  const listeners = new Set<() => void>();
  let running = true;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running = false;
      appendFileSync(opts.logPath, `# exited: ${signal ?? `code ${code}`}\n`);
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  const onLine = (line: string): void => {
    appendFileSync(opts.logPath, `${line}\n`);
    try {
      const parsed = JSON.parse(line) as LogLine;
      if (typeof parsed.msg === 'string') {
        lines.push(parsed);
        for (const l of listeners) l();
      }
    } catch {
      // not a log line (e.g. a one-line start-up error): kept in the log file only
    }
  };
  createInterface({ input: child.stderr! }).on('line', onLine);
  createInterface({ input: child.stdout! }).on('line', onLine);

  const waitForLog: RunningAgent['waitForLog'] = (msg, o = {}) => {
    const match = (): LogLine | undefined => lines.find((l) => l.msg === msg && (o.where?.(l) ?? true));
    const found = match();
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const done = (): void => {
        listeners.delete(check);
        clearTimeout(timer);
      };
      const check = (): void => {
        const line = match();
        if (line) {
          done();
          resolve(line);
        } else if (!running) {
          done();
          reject(new Error(`agent exited before logging '${msg}'; last lines:\n${tail(lines)}`));
        }
      };
      const timeoutMs = o.timeoutMs ?? 15_000;
      const timer = setTimeout(() => {
        done();
        reject(new Error(`agent did not log '${msg}' within ${timeoutMs / 1000}s; last lines:\n${tail(lines)}`));
      }, timeoutMs);
      listeners.add(check);
    });
  };

  const listening = await waitForLog('ops server listening', { timeoutMs: 30_000 });
  const opsUrl = listening.url as string;
  return {
    pid: child.pid,
    opsUrl,
    lines,
    logged: (msg) => lines.filter((l) => l.msg === msg),
    waitForLog,
    metrics: async () => {
      const res = await fetch(`${opsUrl}/metrics`);
      if (!res.ok) throw new Error(`GET /metrics: HTTP ${res.status}`);
      return parseMetrics(await res.text());
    },
    isRunning: () => running,
    exited,
    kill: async (signal = 'SIGTERM') => {
      if (running) child.kill(signal);
      return exited;
    },
  };
}

/** Waits until /readyz answers 200 (the first metadata poll succeeded). */
export async function waitForReady(agent: RunningAgent, timeoutMs = 30_000): Promise<void> {
  await waitFor('agent /readyz to answer 200', async () => {
    const res = await fetch(`${agent.opsUrl}/readyz`);
    await res.arrayBuffer();
    return res.status === 200 ? true : undefined;
  }, { timeoutMs, intervalMs: 100, giveUpIf: () => (agent.isRunning() ? undefined : 'the agent exited') });
}

function tail(lines: readonly LogLine[], n = 15): string {
  return lines.slice(-n).map((l) => JSON.stringify(l)).join('\n');
}

const children = new Set<ChildProcess>();
let exitHook = false;

/** Child processes still running when the test process exits are SIGKILLed (no orphans after a crash). */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const c of children) c.kill('SIGKILL');
  });
}

/** Starts an empty log file for an agent. */
export function newLogFile(path: string): string {
  writeFileSync(path, '');
  return path;
}
