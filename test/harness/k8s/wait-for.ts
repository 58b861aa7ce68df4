// Polling with a deadline, for readiness checks against real processes.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitForOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Checked before every attempt: a string ends the wait early with that reason (e.g. "exited with code 1"). */
  giveUpIf?: () => string | undefined;
}

/**
 * Calls `attempt` until it returns a value other than undefined, and returns
 * it. Throws with `what`, the reason and the last attempt's error otherwise.
 */
export async function waitFor<T>(what: string, attempt: () => Promise<T | undefined>, opts: WaitForOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError = '';
  for (;;) {
    const reason = opts.giveUpIf?.();
    if (reason) throw new Error(`${what}: ${reason}${lastError ? ` (last check: ${lastError})` : ''}`);
    try {
      const value = await attempt();
      if (value !== undefined) return value;
      lastError = '';
    } catch (err) {
      lastError = (err as Error).message;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: not done after ${opts.timeoutMs / 1000}s${lastError ? ` (last check: ${lastError})` : ''}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}
