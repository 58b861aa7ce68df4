import type { InstanceIdentity, Notice } from '../../core/domain/notice.ts';
import { SpotguardError } from '../../core/errors.ts';
import { createMetadataHttp, unexpectedStatus, type MetadataResponse } from './metadata-http.ts';
import type { NoticeSource } from './notice-source.ts';
import type { SourceOptions } from './source-options.ts';
import { awsPaths, capacityOfLifeCycle, parseInstanceAction, parseRebalance, parseScheduledEvents } from './aws-imds-parse.ts';

export interface AwsSourceOptions extends SourceOptions {
  /** Lifetime asked for IMDSv2 tokens (1–21600 s). */
  readonly tokenTtlSeconds?: number;
  /** A token PUT with no answer within this long means the hop limit is too low: fall back to IMDSv1. */
  readonly tokenTimeoutMs?: number;
  /** After falling back to IMDSv1, try IMDSv2 again this much later. */
  readonly v2RetryMs?: number;
}

const tokenHeader = 'x-aws-ec2-metadata-token';
const ttlHeader = 'x-aws-ec2-metadata-token-ttl-seconds';

/**
 * EC2 instance metadata (IMDS). Uses IMDSv2 session tokens, renewed on the clock before they
 * expire; a 401 gets one new token and one retry. A token PUT that gets no answer at all (the
 * response dies one hop short when the hop limit is 1 and we run in a pod) means IMDSv1: requests
 * go without a token, and v2 is tried again `v2RetryMs` later.
 */
export function createAwsImdsSource(options: AwsSourceOptions): NoticeSource {
  const { clock } = options;
  const log = options.log.child({ module: 'aws-imds' });
  const http = createMetadataHttp('aws', options.baseUrl);
  const ttlSeconds = options.tokenTtlSeconds ?? 21_600;
  const tokenTimeoutMs = options.tokenTimeoutMs ?? 1000;
  const v2RetryMs = options.v2RetryMs ?? 5 * 60_000;
  const timeoutMs = options.requestTimeoutMs ?? 2000;
  let session: { value: string; refreshAt: number } | null = null;
  /** While the clock is before this, requests go without a token (IMDSv1 fallback). */
  let v1Until = 0;
  /** One token request at a time, shared by every read that needs it. */
  let pending: Promise<string | null> | null = null;
  const firstSeen = new Map<string, number>();

  /**
   * The token to send (null: none, IMDSv1). `rejected` is what a request just sent and got 401
   * for (a token, or null for none): a token that differs from it is already a renewed one.
   */
  function tokenFor(signal: AbortSignal, rejected?: string | null): Promise<string | null> {
    const now = clock.now();
    if (session && session.value !== rejected && now < session.refreshAt) return Promise.resolve(session.value);
    if (rejected === undefined && session === null && now < v1Until) return Promise.resolve(null);
    pending ??= requestToken(signal).finally(() => {
      pending = null;
    });
    return pending;
  }

  async function requestToken(signal: AbortSignal): Promise<string | null> {
    session = null;
    const noAnswer = AbortSignal.timeout(tokenTimeoutMs);
    let res: MetadataResponse;
    try {
      res = await http.send(awsPaths.token, {
        method: 'PUT',
        headers: { [ttlHeader]: String(ttlSeconds) },
        timeoutMs: tokenTimeoutMs + 1000,
        signal: AbortSignal.any([signal, noAnswer]),
      });
    } catch (err) {
      // Aborted by the caller, or refused/reset (IMDS unreachable: v1 would not help): not the hop-limit case.
      if (signal.aborted || !noAnswer.aborted) throw err;
      v1Until = clock.now() + v2RetryMs;
      log.warn({ code: 'E_METADATA_TOKEN', timeoutMs: tokenTimeoutMs, retryV2InMs: v2RetryMs }, 'imds token request unanswered; using imdsv1');
      return null;
    }
    const value = res.body.trim();
    if (res.status !== 200 || value === '') {
      throw new SpotguardError('E_METADATA_TOKEN', `aws metadata PUT ${awsPaths.token}: HTTP ${res.status}${tokenHint(res.status)}`);
    }
    const granted = Number(res.headers[ttlHeader]);
    const lifetimeMs = (Number.isInteger(granted) && granted > 0 ? granted : ttlSeconds) * 1000;
    // Renew when a tenth of the lifetime (at most a minute) is left, so no request races expiry.
    session = { value, refreshAt: clock.now() + lifetimeMs - Math.min(lifetimeMs / 10, 60_000) };
    if (v1Until !== 0) log.info({ ttlSeconds: lifetimeMs / 1000 }, 'imds token obtained; using imdsv2 again');
    v1Until = 0;
    return value;
  }

  function send(path: string, token: string | null, signal: AbortSignal): Promise<MetadataResponse> {
    return http.send(path, { headers: token === null ? {} : { [tokenHeader]: token }, timeoutMs, signal });
  }

  /** GET with the session token; a 401 gets a new token and one retry. */
  async function get(path: string, signal: AbortSignal): Promise<MetadataResponse> {
    const token = await tokenFor(signal);
    const res = await send(path, token, signal);
    if (res.status !== 401) return res;
    log.info({ path, withToken: token !== null }, 'imds token rejected; fetching a new one');
    const renewed = await tokenFor(signal, token);
    const again = await send(path, renewed, signal);
    if (again.status !== 401) return again;
    throw new SpotguardError(
      'E_METADATA_TOKEN',
      renewed === null
        ? `aws metadata GET ${path}: HTTP 401 and the token request got no answer (IMDSv2 is required; is the hop limit too low?)`
        : `aws metadata GET ${path}: HTTP 401 again with a new token`,
    );
  }

  /** The body of an optional document: null when IMDS says 404 (nothing there). */
  async function optional(path: string, signal: AbortSignal): Promise<string | null> {
    const res = await get(path, signal);
    if (res.status === 404) return null;
    if (res.status === 429) throw new SpotguardError('E_METADATA_THROTTLED', `aws metadata ${path}: HTTP 429`);
    if (res.status !== 200) throw unexpectedStatus('aws', path, res);
    return res.body;
  }

  return {
    provider: 'aws',
    pollIntervalMs: options.pollIntervalMs ?? 500,
    async poll(signal): Promise<Notice[]> {
      const [action, rebalance, scheduled] = await Promise.all([
        optional(awsPaths.instanceAction, signal),
        optional(awsPaths.rebalance, signal),
        optional(awsPaths.scheduled, signal),
      ]);
      const now = clock.now();
      const present = new Set<string>();
      const seen = (id: string): number => {
        present.add(id);
        const at = firstSeen.get(id) ?? now;
        firstSeen.set(id, at);
        return at;
      };
      const notices: Notice[] = [];
      if (action !== null) notices.push(parseInstanceAction(action, awsPaths.instanceAction, seen));
      if (rebalance !== null) notices.push(parseRebalance(rebalance, awsPaths.rebalance, seen));
      if (scheduled !== null) notices.push(...parseScheduledEvents(scheduled, awsPaths.scheduled, seen));
      // A notice gone from a complete poll is over: forget when it was first seen.
      for (const id of firstSeen.keys()) if (!present.has(id)) firstSeen.delete(id);
      return notices;
    },
    async identity(signal): Promise<InstanceIdentity> {
      const required = async (path: string): Promise<string> => {
        const body = (await optional(path, signal))?.trim();
        if (!body) throw new SpotguardError('E_METADATA_MALFORMED', `aws metadata ${path}: missing`);
        return body;
      };
      const [id, type, zone, lifeCycle] = await Promise.all([
        required(awsPaths.instanceId),
        required(awsPaths.instanceType),
        required(awsPaths.zone),
        optional(awsPaths.lifeCycle, signal),
      ]);
      return { provider: 'aws', id, type, zone, capacity: capacityOfLifeCycle(lifeCycle) };
    },
    close: () => http.close(),
  };
}

function tokenHint(status: number): string {
  if (status === 400) return ' (the token request was refused as invalid)';
  if (status === 403) return ' (IMDS is turned off, or the request carried X-Forwarded-For)';
  return '';
}
