// A child process of the test world: output appended to a log file, stopped
// by PID (SIGTERM, then SIGKILL).
//
// An attached process (the default, for tests) shares this process's group,
// so Ctrl-C reaches it too, and is SIGKILLed when this process exits or is
// sent SIGTERM without having stopped it. A detached one (cluster-up) leads
// its own process group and outlives this process.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ManagedProcess {
  name: string;
  pid: number;
  binary: string;
  logPath: string;
  /** Resolves with a description once the process has exited (kept for error messages). */
  exited: Promise<string>;
  isRunning(): boolean;
  stop(): Promise<void>;
}

export interface StartProcessOptions {
  name: string;
  binary: string;
  args: string[];
  logPath: string;
  env?: NodeJS.ProcessEnv;
  /** Leave the process running after this Node process exits (cluster-up). */
  detach?: boolean;
}

/** Starts `binary` with stdout and stderr appended to `logPath`. */
export function startProcess(opts: StartProcessOptions): ManagedProcess {
  const fd = openSync(opts.logPath, 'a');
  let child;
  try {
    child = spawn(opts.binary, opts.args, {
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      detached: opts.detach ?? false,
    });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${opts.name}: could not start ${opts.binary}`);
  const pid = child.pid;
  let running = true;
  if (!opts.detach) killOnExit(pid);
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      running = false;
      resolve(`failed to start: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      running = false;
      attached.delete(pid);
      resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
  });
  if (opts.detach) child.unref();
  return {
    name: opts.name,
    pid,
    binary: opts.binary,
    logPath: opts.logPath,
    exited,
    isRunning: () => running,
    stop: () => stopPid(pid, opts.binary, () => !running),
  };
}

/**
 * Stops a process (and its group) by PID: SIGTERM, then SIGKILL after
 * `graceMs`. `expectedBinary` guards against a recycled PID: a process whose
 * command line does not start with it is left alone.
 */
export async function stopPid(
  pid: number,
  expectedBinary: string,
  hasExited: () => boolean = () => !pidIsAlive(pid, expectedBinary),
  graceMs = 10_000,
): Promise<void> {
  if (hasExited() || !pidIsAlive(pid, expectedBinary)) return;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (hasExited() || !pidIsAlive(pid, expectedBinary)) return;
    await sleep(50);
  }
  signalGroup(pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline && !hasExited() && pidIsAlive(pid, expectedBinary)) await sleep(20);
}

/** True when `pid` is a live process (not a zombie) running `expectedBinary`. */
export function pidIsAlive(pid: number, expectedBinary: string): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) Z /.test(stat)) return false;
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return argv0 === expectedBinary;
  } catch {
    return false;
  }
}

const attached = new Set<number>();
let exitHooksInstalled = false;

/** SIGKILLs attached children still running when this process exits or is terminated. */
function killOnExit(pid: number): void {
  attached.add(pid);
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  const killAll = (): void => {
    for (const p of attached) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    attached.clear();
  };
  process.on('exit', killAll);
  process.once('SIGTERM', () => {
    killAll();
    // Then die of SIGTERM as if nobody had listened.
    process.kill(process.pid, 'SIGTERM');
  });
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}
