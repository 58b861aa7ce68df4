import type { InstanceIdentity, Notice } from '../../core/domain/notice.ts';
import { SpotguardError, isSpotguardError } from '../../core/errors.ts';
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

/**
 * EC2 instance metadata (IMDS). Uses IMDSv2 session tokens, refreshed before they expire; on 401 a
 * new token and one retry; when the token PUT gets no answer (hop limit 1 with pod networking) it
 * falls back to IMDSv1 and tries v2 again later.
 */
export function createAwsImdsSource(options: AwsSourceOptions): NoticeSource {
  const { clock } = options;
  const log = options.log.child({ provider: 'aws' });
  const http = createMetadataHttp('aws', options.baseUrl);
  const ttlSeconds = options.tokenTtlSeconds ?? 21_600;
  const tokenTimeoutMs = options.tokenTimeoutMs ?? 1000;
  const v2RetryMs = options.v2RetryMs ?? 5 * 60_000;
  const timeoutMs = options.requestTimeoutMs ?? 2000;
  let token: { value: string; refreshAt: number } | null = null;
  let v1Until = 0;
  const firstSeen = new Map<string, number>();

  let pending: Promise<Record<string, string>> | null = null;

  /** Token headers for a request; concurrent callers share one token request. */
  async function sessionHeaders(signal: AbortSignal, renew: boolean): Promise<Record<string, string>> {
    const now = clock.now();
    if (!renew && token && now < token.refreshAt) return { 'x-aws-ec2-metadata-token': token.value };
    if (!renew && now < v1Until) return {};
    if (pending) return pending;
    pending = requestToken(signal).finally(() => {
      pending = null;
    });
    return pending;
  }

  async function requestToken(signal: AbortSignal): Promise<Record<string, string>> {
    token = null;
    let res: MetadataResponse;
    try {
      res = await http.send(awsPaths.token, {
        method: 'PUT',
        headers: { 'x-aws-ec2-metadata-token-ttl-seconds': String(ttlSeconds) },
        timeoutMs: tokenTimeoutMs,
        signal,
      });
    } catch (err) {
      if (!isSpotguardError(err, 'E_METADATA_UNAVAILABLE')) throw err;
      // No answer to the PUT: the response was dropped one hop short (hop limit). IMDSv1 may still work.
      v1Until = clock.now() + v2RetryMs;
      log.warn({ code: 'E_METADATA_TOKEN', err: err.message, retryV2InMs: v2RetryMs }, 'imds token request unanswered; using IMDSv1');
      return {};
    }
    if (res.status !== 200 || res.body.trim() === '') {
      throw new SpotguardError('E_METADATA_TOKEN', `aws metadata PUT ${awsPaths.token}: HTTP ${res.status}`);
    }
    const granted = Number(res.headers['x-aws-ec2-metadata-token-ttl-seconds'] ?? ttlSeconds);
    const lifetimeMs = (Number.isFinite(granted) && granted > 0 ? granted : ttlSeconds) * 1000;
    // Refresh when 10% of the lifetime (at most a minute) is left.
    token = { value: res.body.trim(), refreshAt: clock.now() + lifetimeMs - Math.min(lifetimeMs / 10, 60_000) };
    v1Until = 0;
    return { 'x-aws-ec2-metadata-token': token.value };
  }

  /** GET with the session token; a 401 gets a new token and one retry. */
  async function get(path: string, signal: AbortSignal): Promise<MetadataResponse> {
    const send = async (headers: Record<string, string>): Promise<MetadataResponse> => http.send(path, { headers, timeoutMs, signal });
    const res = await send(await sessionHeaders(signal, false));
    if (res.status !== 401) return res;
    log.info({ path }, 'imds token rejected; fetching a new one');
    const again = await send(await sessionHeaders(signal, true));
    if (again.status === 401) throw new SpotguardError('E_METADATA_TOKEN', `aws metadata GET ${path}: HTTP 401 after a new token`);
    return again;
  }

  /** The body of an optional document: null when IMDS says 404 (nothing there). */
  async function optional(path: string, signal: AbortSignal): Promise<string | null> {
    const res = await get(path, signal);
    if (res.status === 404) return null;
    if (res.status !== 200) throw unexpectedStatus('aws', path, res);
    return res.body;
  }

  return {
    provider: 'aws',
    pollIntervalMs: options.pollIntervalMs ?? 500,
    async poll(signal) {
      // One token for the three reads (they run together).
      await sessionHeaders(signal, false);
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
      for (const id of firstSeen.keys()) if (!present.has(id)) firstSeen.delete(id);
      return notices;
    },
    async identity(signal): Promise<InstanceIdentity> {
      const required = async (path: string): Promise<string> => {
        const body = await optional(path, signal);
        if (body === null || body.trim() === '') throw new SpotguardError('E_METADATA_MALFORMED', `aws metadata ${path}: missing`);
        return body.trim();
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
