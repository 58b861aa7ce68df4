// A long-running process of the Spark test world (master, worker, driver),
// started as the leader of its own process group so that stopping it also
// stops what it started: a worker's executor JVMs, a driver's Python process.
//
// Stopped by id: SIGTERM to the group, then SIGKILL to the group and to every
// descendant seen before stopping (PySpark's daemon leaves the group with
// setpgid). Groups still running when this Node process exits, or is sent
// SIGTERM/SIGINT, are SIGKILLed.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonProcess {
  name: string;
  pid: number;
  logPath: string;
  /** Resolves with a description once the group leader has exited. */
  exited: Promise<string>;
  isRunning(): boolean;
  stop(graceMs?: number): Promise<void>;
}

export interface StartDaemonOptions {
  name: string;
  command: string;
  args: string[];
  logPath: string;
  env: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts `command` in a new process group, stdout and stderr appended to `logPath`. */
export function startDaemon(opts: StartDaemonOptions): DaemonProcess {
  const fd = openSync(opts.logPath, 'a');
  let child;
  try {
    child = spawn(opts.command, opts.args, { stdio: ['ignore', fd, fd], env: opts.env, cwd: opts.cwd, detached: true });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`${opts.name}: could not start ${opts.command}`);
  const pid = child.pid;
  let running = true;
  liveGroups.add(pid);
  installExitHooks();
  const exited = new Promise<string>((resolve) => {
    child.once('error', (err) => {
      running = false;
      resolve(`failed to start: ${err.message}`);
    });
    child.once('exit', (code, signal) => {
      running = false;
      resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
  });
  child.unref();
  return {
    name: opts.name,
    pid,
    logPath: opts.logPath,
    exited,
    isRunning: () => running,
    stop: async (graceMs = 10_000) => {
      await stopGroup(pid, graceMs);
      liveGroups.delete(pid);
    },
  };
}

async function stopGroup(pgid: number, graceMs: number): Promise<void> {
  const tree = descendants(pgid);
  signal(-pgid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && groupExists(pgid)) await sleep(100);
  signal(-pgid, 'SIGKILL');
  for (const p of tree) if (startTime(p.pid) === p.startTime) signal(p.pid, 'SIGKILL');
  const killDeadline = Date.now() + 5_000;
  while (Date.now() < killDeadline && groupExists(pgid)) await sleep(50);
}

interface ProcRef {
  pid: number;
  startTime: string;
}

/** Every live descendant of `root` (by parent pid), with its start time to guard against reused pids. */
export function descendants(root: number): ProcRef[] {
  const children = new Map<number, ProcRef[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (!fields) continue;
    const ppid = Number(fields[1]);
    const list = children.get(ppid) ?? [];
    list.push({ pid: Number(entry), startTime: fields[19] ?? '' });
    children.set(ppid, list);
  }
  const found: ProcRef[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child.pid);
    }
  }
  return found;
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, …]; undefined when gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function startTime(pid: number): string | undefined {
  return statFields(pid)?.[19];
}

/** True while any process (zombies aside) is left in the group. */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch {
    return false;
  }
  // kill(-pgid, 0) also succeeds for zombies awaiting their parent: look closer.
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    if (fields && Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // already gone
  }
}

const liveGroups = new Set<number>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    for (const pgid of liveGroups) signal(-pgid, 'SIGKILL');
    liveGroups.clear();
  };
  process.on('exit', killAll);
  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    process.once(sig, () => {
      killAll();
      // Then die of the signal as if nobody had listened.
      process.kill(process.pid, sig);
    });
  }
}
