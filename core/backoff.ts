/** Exponential backoff with full jitter: a delay in [base, min(max, base·2^attempt)]. */
export function backoffDelay(attempt: number, bounds: { baseMs: number; maxMs: number }, random: () => number = Math.random): number {
  const ceiling = Math.min(bounds.maxMs, bounds.baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(bounds.baseMs + random() * (ceiling - bounds.baseMs));
}
