import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { NoticeKind } from '../../core/domain/notice.ts';
import { toRfc3339 } from '../../core/clock.ts';
import { parseDuration } from '../../core/config/parse-values.ts';
import type { SimIdentity, SimNotice, SimulatorState } from './simulator-state.ts';
import { ControlError, sendJson, type ProviderHandler } from './simulator-server.ts';

/**
 * EC2 instance metadata (IMDS) as an instance sees it: IMDSv2 session tokens (PUT with a TTL,
 * checked and expiring on the simulator's clock), IMDSv1 allowed unless tokens are required,
 * JSON documents served as text/plain, 404 pages for absent documents.
 */
export const awsDefaultIdentity: SimIdentity = {
  id: 'i-0abc1234def567890',
  type: 'm5.xlarge',
  zone: 'us-east-1a',
  capacity: 'spot',
  name: 'ip-10-0-1-23.ec2.internal',
};

interface Settings {
  /** `required`: requests without a token get 401 (IMDSv2 only). */
  httpTokens: 'optional' | 'required';
  /** The token PUT never answers, as when its response dies one hop short (hop limit 1 from a pod). */
  hopLimitExceeded: boolean;
  /** Documents under /latest/meta-data/ served as given (null: 404) instead of from the state. */
  documents: Record<string, string | null>;
}

const spotActions = ['terminate', 'stop', 'hibernate'];
const eventCodes = ['system-reboot', 'system-maintenance', 'instance-reboot', 'instance-stop', 'instance-retirement'];
const defaultLead: Record<NoticeKind, number> = {
  'spot-interruption': 120_000,
  'rebalance-recommendation': 0,
  'scheduled-maintenance': 14 * 24 * 3_600_000,
};
/** Every document the simulator can serve (for directory listings). */
const documentPaths = [
  'instance-id', 'instance-type', 'instance-life-cycle', 'hostname', 'local-hostname',
  'placement/availability-zone', 'placement/region',
  'spot/instance-action', 'events/recommendations/rebalance', 'events/maintenance/scheduled',
];
const textHeaders = { 'content-type': 'text/plain', 'accept-ranges': 'none', server: 'EC2ws' };
const reasons: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };

/** IMDS error pages are small XHTML documents titled with the status. */
function errorPage(status: number): string {
  const title = `${status} - ${reasons[status] ?? 'Error'}`;
  return `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>${title}</title>
 </head>
 <body>
  <h1>${title}</h1>
 </body>
</html>
`;
}

export function awsImdsHandler(state: SimulatorState): ProviderHandler {
  const settings: Settings = { httpTokens: 'optional', hopLimitExceeded: false, documents: {} };
  /** Token → expiry (epoch ms on the state's clock). */
  const tokens = new Map<string, number>();
  const held = new Set<ServerResponse>();
  let unansweredTokenRequests = 0;

  const fail = (res: ServerResponse, status: number): void => {
    // 401 comes with an empty body; the others with an error page.
    if (status === 401) res.writeHead(401, textHeaders).end();
    else res.writeHead(status, { 'content-type': 'text/html', server: 'EC2ws' }).end(errorPage(status));
  };

  const document = (path: string): string | null => {
    if (path in settings.documents) return settings.documents[path] ?? null;
    const now = state.clock.now();
    const id = state.identity;
    const latest = (kind: NoticeKind): SimNotice | undefined => state.visible(now).filter((v) => v.kind === kind).at(-1);
    switch (path) {
      case 'instance-id':
        return id.id;
      case 'instance-type':
        return id.type;
      case 'placement/availability-zone':
        return id.zone;
      case 'placement/region':
        return id.zone.replace(/[a-z]$/, '');
      case 'hostname':
      case 'local-hostname':
        return id.name;
      case 'instance-life-cycle':
        return id.capacity === 'spot' ? 'spot' : 'on-demand';
      case 'spot/instance-action': {
        const n = latest('spot-interruption');
        return n ? JSON.stringify({ action: n.action, time: toRfc3339(n.at) }) : null;
      }
      case 'events/recommendations/rebalance': {
        const n = latest('rebalance-recommendation');
        return n ? JSON.stringify({ noticeTime: toRfc3339(n.appearsAt) }) : null;
      }
      case 'events/maintenance/scheduled': {
        const events = state.notices.filter((n) => n.kind === 'scheduled-maintenance' && n.appearsAt <= now);
        return JSON.stringify(events.map((n) => scheduledEvent(n, now)), null, 2);
      }
      default:
        return null;
    }
  };

  /** `dir/` lists the names below it that exist now (sub-directories end with `/`). */
  const listing = (dir: string): string | null => {
    const names = new Set<string>();
    for (const path of new Set([...documentPaths, ...Object.keys(settings.documents)])) {
      if (!path.startsWith(dir) || document(path) === null) continue;
      const rest = path.slice(dir.length);
      const slash = rest.indexOf('/');
      names.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    return names.size === 0 ? null : [...names].sort().join('\n');
  };

  const issueToken = (res: ServerResponse, ttl: string): void => {
    if (settings.hopLimitExceeded) {
      // The answer would die one hop short: the client never hears back.
      unansweredTokenRequests++;
      held.add(res);
      res.on('close', () => held.delete(res));
      return;
    }
    const token = randomBytes(42).toString('base64');
    tokens.set(token, state.clock.now() + Number(ttl) * 1000);
    res.writeHead(200, { ...textHeaders, 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds': ttl }).end(token);
  };

  return {
    defaults(kind, request = {}) {
      const action = request.action;
      if (kind === 'spot-interruption') {
        if (action !== undefined && !spotActions.includes(action as string)) throw new ControlError(`"action" must be one of ${spotActions.join(', ')}`);
        // Hibernation starts at once: the notice comes without the two-minute warning.
        return { action: 'terminate', leadMs: action === 'hibernate' ? 0 : defaultLead[kind], durationMs: null };
      }
      if (kind === 'rebalance-recommendation') return { action: 'rebalance', leadMs: 0, durationMs: null };
      if (action !== undefined && !eventCodes.includes(action as string)) throw new ControlError(`"action" must be one of ${eventCodes.join(', ')}`);
      const deadline = request.notBeforeDeadline;
      if (deadline !== undefined && (typeof deadline !== 'string' || !/^\d+(\.\d+)?(ms|s|m|h)$/.test(deadline))) {
        throw new ControlError('"notBeforeDeadline" must be a duration after the start, such as "72h"');
      }
      return { action: 'system-reboot', leadMs: defaultLead[kind], durationMs: null };
    },
    handle(req, res, url) {
      if (url.pathname === '/latest/api/token') {
        if (req.method !== 'PUT') return fail(res, 405);
        // A forwarded PUT is refused, so a proxy in front of IMDS cannot mint tokens.
        if (req.headers['x-forwarded-for'] !== undefined) return fail(res, 403);
        const ttl = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
        if (typeof ttl !== 'string' || !/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > 21_600) return fail(res, 400);
        return issueToken(res, ttl);
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405);
      const token = req.headers['x-aws-ec2-metadata-token'];
      const headers: Record<string, string> = { ...textHeaders };
      if (typeof token === 'string') {
        const expires = tokens.get(token);
        const now = state.clock.now();
        if (expires === undefined || expires <= now) return fail(res, 401);
        headers['X-Aws-Ec2-Metadata-Token-Ttl-Seconds'] = String(Math.ceil((expires - now) / 1000));
      } else if (settings.httpTokens === 'required') {
        return fail(res, 401);
      }
      const prefix = '/latest/meta-data/';
      if (!url.pathname.startsWith(prefix)) return fail(res, 404);
      const path = url.pathname.slice(prefix.length);
      const body = path === '' || path.endsWith('/') ? listing(path) : document(path);
      if (body === null) return fail(res, 404);
      res.writeHead(200, headers).end(body);
    },
    control(req, res, url, body) {
      if (url.pathname === '/_spotguard/aws' && req.method === 'GET') {
        sendJson(res, 200, { ...settings, tokens: tokens.size, unansweredTokenRequests });
        return true;
      }
      if (url.pathname === '/_spotguard/aws' && req.method === 'PATCH') {
        applySettings(settings, (body ?? {}) as Record<string, unknown>);
        sendJson(res, 200, settings);
        return true;
      }
      if (url.pathname === '/_spotguard/aws/tokens/revoke' && req.method === 'POST') {
        const revoked = tokens.size;
        tokens.clear();
        sendJson(res, 200, { revoked });
        return true;
      }
      return false;
    },
    close() {
      for (const res of held) res.destroy();
    },
  };
}

function applySettings(settings: Settings, patch: Record<string, unknown>): void {
  if (patch.httpTokens !== undefined) {
    if (patch.httpTokens !== 'optional' && patch.httpTokens !== 'required') throw new ControlError('"httpTokens" must be optional or required');
    settings.httpTokens = patch.httpTokens;
  }
  if (patch.hopLimitExceeded !== undefined) {
    if (typeof patch.hopLimitExceeded !== 'boolean') throw new ControlError('"hopLimitExceeded" must be true or false');
    settings.hopLimitExceeded = patch.hopLimitExceeded;
  }
  if (patch.documents !== undefined) {
    const docs = patch.documents;
    const valid =
      docs !== null && typeof docs === 'object' && !Array.isArray(docs) && Object.values(docs).every((v) => v === null || typeof v === 'string');
    if (!valid) throw new ControlError('"documents" must map meta-data paths to a body, or to null for 404');
    settings.documents = { ...(docs as Record<string, string | null>) };
  }
}

/** A scheduled event as IMDS lists it: active until it ends, canceled when cancelled, completed after. */
function scheduledEvent(n: SimNotice, now: number): Record<string, string> {
  const stateWord =
    typeof n.extra.state === 'string'
      ? n.extra.state
      : n.canceledAt !== null
        ? 'canceled'
        : n.endsAt !== null && now >= n.endsAt
          ? 'completed'
          : 'active';
  const description = typeof n.extra.description === 'string' ? n.extra.description : `scheduled ${n.action.replace('-', ' ')}`;
  const event: Record<string, string> = {
    NotBefore: awsEventDate(n.at),
    Code: n.action,
    Description: stateWord === 'canceled' ? `Canceled - ${description}` : stateWord === 'completed' ? `Completed - ${description}` : description,
    EventId: n.id.startsWith('instance-event-') ? n.id : `instance-event-${hex17(n.id)}`,
    State: stateWord,
  };
  if (n.endsAt !== null) event.NotAfter = awsEventDate(n.endsAt);
  if (typeof n.extra.notBeforeDeadline === 'string') event.NotBeforeDeadline = awsEventDate(n.at + parseDuration(n.extra.notBeforeDeadline));
  return event;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `21 Jan 2019 09:00:43 GMT`: day without padding, as IMDS writes it. */
function awsEventDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

/** A stable 17-hex-digit event id from the simulator's notice id. */
function hex17(id: string): string {
  let h = 0n;
  for (const c of id) h = (h * 131n + BigInt(c.charCodeAt(0))) % 2n ** 68n;
  return h.toString(16).padStart(17, '0').slice(-17);
}
