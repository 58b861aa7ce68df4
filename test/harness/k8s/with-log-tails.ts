// Wraps a node:test test function so a failure prints the control-plane
// component logs (as test diagnostics) before the error is reported.
import type { TestContext } from 'node:test';

export interface HasLogTails {
  logTails(lines?: number): string;
}

export function withLogTails(
  source: () => HasLogTails | undefined,
  fn: (t: TestContext) => Promise<void>,
  lines = 40,
): (t: TestContext) => Promise<void> {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      const logs = source()?.logTails(lines);
      if (logs) t.diagnostic(`component logs:\n${logs}`);
      throw err;
    }
  };
}
