import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { noticeKinds, type NoticeKind } from '../../core/domain/notice.ts';
import { toRfc3339 } from '../../core/clock.ts';
import { parseDuration, ValueError } from '../../core/config/parse-values.ts';
import type { Fault, FaultType, SimNotice, SimulatorState } from './simulator-state.ts';

/** What a provider simulator plugs into the shared server. */
export interface ProviderHandler {
  /**
   * Provider word and lead time (ms between appearance and interruption) when the request names none.
   * `request` is the control request's body, so a provider can vary the lead by action and throw a
   * ControlError for values it does not know.
   */
  defaults(kind: NoticeKind, request?: Readonly<Record<string, unknown>>): { action: string; leadMs: number; durationMs: number | null };
  /** Id for a notice whose request names none (Azure: GUIDs); state.newId otherwise. */
  newId?(): string;
  /** Serves one metadata request (faults were already applied). */
  handle(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void | Promise<void>;
  /** Extra control routes under /_spotguard/; returns false when the route is not its own. */
  control?(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown): boolean;
  close?(): void;
}

export interface RunningSimulator {
  readonly url: string;
  readonly state: SimulatorState;
  close(): Promise<void>;
}

export class ControlError extends Error {}

const faultTypes: readonly FaultType[] = ['status', 'hang', 'reset', 'malformed', 'delay'];

export async function startSimulatorServer(
  state: SimulatorState,
  handler: ProviderHandler,
  listen: { host: string; port: number },
): Promise<RunningSimulator> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    void serve(state, handler, req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        handler.close?.();
        state.close();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function serve(state: SimulatorState, handler: ProviderHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://simulator');
  const body = await readBody(req);
  if (url.pathname.startsWith('/_spotguard/')) {
    try {
      const parsed: unknown = body === '' ? {} : JSON.parse(body);
      if (!serveControl(state, handler, req, res, url, parsed) && !handler.control?.(req, res, url, parsed)) {
        sendJson(res, 404, { error: `no control route ${req.method} ${url.pathname}` });
      }
    } catch (err) {
      sendJson(res, 400, { error: err instanceof SyntaxError ? 'body is not JSON' : (err as Error).message });
    }
    return;
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
  const log = (status: number | 'hang' | 'reset'): void => {
    state.requests.push({ at: state.clock.now(), method: req.method ?? 'GET', path: url.pathname + url.search, headers, status });
    if (state.requests.length > 5000) state.requests.splice(0, 1000);
  };
  const fault = state.takeFault(url.pathname);
  if (fault?.type === 'reset') {
    log('reset');
    req.socket.destroy();
    return;
  }
  if (fault?.type === 'hang') {
    log('hang'); // never answered; the socket closes when the client gives up or the server stops
    return;
  }
  if (fault?.type === 'status') {
    log(fault.status);
    res.writeHead(fault.status, { 'content-type': 'text/plain' }).end(`simulated fault: HTTP ${fault.status}\n`);
    return;
  }
  if (fault?.type === 'malformed') {
    log(200);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"Events": [ {"EventId": "tru');
    return;
  }
  if (fault?.type === 'delay') await new Promise((r) => setTimeout(r, fault.delayMs));
  res.on('finish', () => log(res.statusCode));
  await handler.handle(req, res, url, body);
}

function serveControl(
  state: SimulatorState,
  handler: ProviderHandler,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  body: unknown,
): boolean {
  const route = `${req.method} ${url.pathname}`;
  const noticeMatch = /^\/_spotguard\/notices\/([^/]+)$/.exec(url.pathname);
  if (route === 'POST /_spotguard/notices') {
    const notice = scheduleNotice(state, handler, body);
    sendJson(res, 201, describeNotice(notice));
  } else if (route === 'GET /_spotguard/notices') {
    sendJson(res, 200, { notices: state.notices.map(describeNotice) });
  } else if (route === 'DELETE /_spotguard/notices') {
    sendJson(res, 200, { canceled: state.cancelAll() });
  } else if (req.method === 'DELETE' && noticeMatch) {
    const ok = state.cancel(decodeURIComponent(noticeMatch[1] as string));
    sendJson(res, ok ? 200 : 404, ok ? { canceled: 1 } : { error: 'no such notice' });
  } else if (route === 'POST /_spotguard/faults') {
    state.faults.push(parseFault(body));
    sendJson(res, 201, { faults: state.faults.length });
  } else if (route === 'DELETE /_spotguard/faults') {
    state.faults = [];
    sendJson(res, 200, { faults: 0 });
  } else if (route === 'GET /_spotguard/requests') {
    sendJson(res, 200, { requests: state.requests });
  } else if (route === 'DELETE /_spotguard/requests') {
    state.requests = [];
    sendJson(res, 200, { requests: 0 });
  } else if (route === 'GET /_spotguard/instance') {
    sendJson(res, 200, state.identity);
  } else if (route === 'PATCH /_spotguard/instance') {
    const patch = asObject(body);
    for (const key of ['id', 'type', 'zone', 'name'] as const) if (typeof patch[key] === 'string') state.identity[key] = patch[key];
    if (patch.capacity === 'spot' || patch.capacity === 'on-demand') state.identity.capacity = patch.capacity;
    state.changed();
    sendJson(res, 200, state.identity);
  } else {
    return false;
  }
  return true;
}

function scheduleNotice(state: SimulatorState, handler: ProviderHandler, body: unknown): SimNotice {
  const req = asObject(body);
  const kind = req.kind;
  if (typeof kind !== 'string' || !(noticeKinds as readonly string[]).includes(kind)) {
    throw new ControlError(`"kind" must be one of ${noticeKinds.join(', ')}`);
  }
  const defaults = handler.defaults(kind as NoticeKind, req);
  const now = state.clock.now();
  const appearsAt = now + durationField(req, 'after', 0);
  const at = appearsAt + durationField(req, 'in', defaults.leadMs);
  const duration = req.duration === undefined ? defaults.durationMs : durationField(req, 'duration', 0);
  const action = typeof req.action === 'string' ? req.action : defaults.action;
  const { kind: _k, in: _i, after: _a, action: _ac, duration: _d, ...extra } = req;
  const notice: SimNotice = {
    id: typeof req.id === 'string' ? req.id : (handler.newId?.() ?? state.newId(state.provider === 'azure' ? '' : 'sim-')),
    kind: kind as NoticeKind,
    action,
    appearsAt,
    at,
    endsAt: duration === null ? null : at + duration,
    extra,
    canceledAt: null,
  };
  state.add(notice);
  return notice;
}

function durationField(req: Record<string, unknown>, field: string, fallback: number): number {
  const value = req[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'string') throw new ControlError(`"${field}" must be a duration string such as "120s"`);
  try {
    return parseDuration(value);
  } catch (err) {
    throw new ControlError(`"${field}": ${err instanceof ValueError ? err.message : String(err)}`);
  }
}

function parseFault(body: unknown): Fault {
  const req = asObject(body);
  if (typeof req.type !== 'string' || !(faultTypes as readonly string[]).includes(req.type)) {
    throw new ControlError(`"type" must be one of ${faultTypes.join(', ')}`);
  }
  const times = req.times === undefined ? 1 : req.times;
  if (typeof times !== 'number' || !Number.isInteger(times) || times < -1 || times === 0) {
    throw new ControlError('"times" must be a positive whole number, or -1 for "until cleared"');
  }
  const status = req.status === undefined ? 500 : req.status;
  if (typeof status !== 'number' || status < 100 || status > 599) throw new ControlError('"status" must be an HTTP status 100-599');
  return {
    type: req.type as FaultType,
    path: typeof req.path === 'string' ? req.path : '',
    status,
    delayMs: durationField(req, 'delay', 5000),
    remaining: times,
  };
}

export function describeNotice(n: SimNotice): Record<string, unknown> {
  return {
    id: n.id,
    kind: n.kind,
    action: n.action,
    appearsAt: toRfc3339(n.appearsAt),
    at: toRfc3339(n.at),
    endsAt: n.endsAt === null ? null : toRfc3339(n.endsAt),
    canceled: n.canceledAt !== null,
    ...n.extra,
  };
}

function asObject(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ControlError('body must be a JSON object');
  return body as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(''));
  });
}
