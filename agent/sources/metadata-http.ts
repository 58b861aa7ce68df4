import { Agent, errors as undiciErrors, request } from 'undici';
import type { Provider } from '../../core/domain/notice.ts';
import { SpotguardError } from '../../core/errors.ts';

export interface MetadataResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface MetadataRequest {
  readonly method?: 'GET' | 'PUT' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Give up when no complete answer arrived within this many ms. */
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** HTTP to one metadata service. Transport failures become E_METADATA_UNAVAILABLE; statuses are the caller's to judge. */
export interface MetadataHttp {
  readonly baseUrl: string;
  send(path: string, req: MetadataRequest): Promise<MetadataResponse>;
  close(): Promise<void>;
}

const maxBodyBytes = 1024 * 1024;

export function createMetadataHttp(provider: Provider, baseUrl: string): MetadataHttp {
  // A few keep-alive connections: GCP holds two hanging GETs open while identity is read.
  const dispatcher = new Agent({ connections: 4, keepAliveTimeout: 30_000, pipelining: 0 });
  const base = baseUrl.replace(/\/+$/, '');
  return {
    baseUrl: base,
    async send(path, req) {
      const timeout = AbortSignal.timeout(req.timeoutMs);
      const signal = AbortSignal.any([req.signal, timeout]);
      const url = base + path;
      try {
        const res = await request(url, {
          method: req.method ?? 'GET',
          headers: req.headers,
          body: req.body,
          signal,
          dispatcher,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        });
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxBodyBytes) {
            res.body.destroy();
            throw new SpotguardError('E_METADATA_MALFORMED', `${provider} metadata ${path}: body larger than ${maxBodyBytes} bytes`);
          }
          chunks.push(chunk);
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(res.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        return { status: res.statusCode, headers, body: Buffer.concat(chunks).toString('utf8') };
      } catch (err) {
        if (req.signal.aborted) throw req.signal.reason;
        if (err instanceof SpotguardError) throw err;
        const why = timeout.aborted ? `no answer within ${req.timeoutMs} ms` : describeTransportError(err);
        throw new SpotguardError('E_METADATA_UNAVAILABLE', `${provider} metadata ${req.method ?? 'GET'} ${url}: ${why}`, { cause: err });
      }
    },
    close: () => dispatcher.close(),
  };
}

function describeTransportError(err: unknown): string {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) return 'timed out';
  if (err instanceof undiciErrors.SocketError) return 'connection reset';
  const code = (err as { code?: unknown; cause?: { code?: unknown } }).code ?? (err as { cause?: { code?: unknown } }).cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'host unreachable';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'name not resolved';
  return err instanceof Error ? err.message : String(err);
}

/** Shorthand for "status was not what we expected" errors. */
export function unexpectedStatus(provider: Provider, path: string, res: MetadataResponse): SpotguardError {
  const snippet = res.body.slice(0, 120).replace(/\s+/g, ' ');
  return new SpotguardError('E_METADATA_HTTP', `${provider} metadata ${path}: HTTP ${res.status}${snippet ? ` (${snippet})` : ''}`, {
    retryable: res.status >= 500 || res.status === 404 || res.status === 401 || res.status === 403,
  });
}
