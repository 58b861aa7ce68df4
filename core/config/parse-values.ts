/**
 * Parsers for flag and SPOTGUARD_* values. Each throws a ValueError whose message says what is
 * allowed; the CLI turns it into one line naming the flag, the value and that message (exit 2).
 */
export class ValueError extends Error {
  override name = 'ValueError';
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "500ms", "2s", "1.5m", "1h" → milliseconds. */
export function parseDuration(value: string, bounds: { minMs?: number; maxMs?: number } = {}): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!match) throw new ValueError('expected a duration such as 500ms, 2s, 1m or 1h');
  const ms = Math.round(Number(match[1]) * (durationUnits[match[2] as string] as number));
  if (bounds.minMs !== undefined && ms < bounds.minMs) throw new ValueError(`expected at least ${formatDuration(bounds.minMs)}`);
  if (bounds.maxMs !== undefined && ms > bounds.maxMs) throw new ValueError(`expected at most ${formatDuration(bounds.maxMs)}`);
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0 && ms > 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0 && ms > 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function parsePort(value: string, options: { allowZero?: boolean } = {}): number {
  const min = options.allowZero ? 0 : 1;
  if (!/^\d+$/.test(value.trim())) throw new ValueError(`expected a port number ${min}-65535`);
  const port = Number(value);
  if (port < min || port > 65535) throw new ValueError(`expected a port number ${min}-65535`);
  return port;
}

export function parseInteger(value: string, bounds: { min: number; max: number }): number {
  if (!/^-?\d+$/.test(value.trim())) throw new ValueError(`expected a whole number ${bounds.min}-${bounds.max}`);
  const n = Number(value);
  if (n < bounds.min || n > bounds.max) throw new ValueError(`expected a whole number ${bounds.min}-${bounds.max}`);
  return n;
}

export function parseChoice<T extends string>(value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ValueError(`expected one of ${choices.join(', ')}`);
}

/** An http(s) base URL without query or fragment; trailing slashes are dropped. */
export function parseBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ValueError('expected an http:// or https:// URL such as http://127.0.0.1:1338');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ValueError('expected an http:// or https:// URL');
  if (url.search || url.hash) throw new ValueError('expected a URL without query or fragment');
  return url.toString().replace(/\/+$/, '');
}

export function parseHost(value: string): string {
  const host = value.trim();
  if (host === '' || /[\s/]/.test(host)) throw new ValueError('expected a host name or IP address such as 127.0.0.1');
  return host;
}

export function parseBoolean(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new ValueError('expected true or false');
}

/** A Kubernetes object name (RFC 1123 subdomain). */
export function parseKubeName(value: string): string {
  if (value.length > 253 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value)) {
    throw new ValueError('expected a Kubernetes name: lowercase letters, digits, "-" and ".", at most 253 characters');
  }
  return value;
}

/** Deep-freezes a plain configuration object so nothing can change it after validation. */
export function freezeConfig<T extends object>(config: T): Readonly<T> {
  for (const value of Object.values(config)) {
    if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) freezeConfig(value as object);
  }
  return Object.freeze(config);
}
