import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { NoticeKind } from '../../core/domain/notice.ts';
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
}

const textHeaders = { 'content-type': 'text/plain', server: 'EC2ws', 'accept-ranges': 'none' };
const notFoundPage = `<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
         "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>404 - Not Found</title>
 </head>
 <body>
  <h1>404 - Not Found</h1>
 </body>
</html>
`;
const defaultLead: Record<NoticeKind, number> = {
  'spot-interruption': 120_000,
  'rebalance-recommendation': 0,
  'scheduled-maintenance': 14 * 24 * 3_600_000,
};

export function awsImdsHandler(state: SimulatorState): ProviderHandler {
  const settings: Settings = { httpTokens: 'optional', hopLimitExceeded: false };
  const tokens = new Map<string, number>();
  const held = new Set<ServerResponse>();
  let unansweredTokenRequests = 0;

  const plain = (res: ServerResponse, status: number, body: string): void => {
    res.writeHead(status, status === 404 ? { 'content-type': 'text/html', server: 'EC2ws' } : textHeaders).end(body);
  };

  const documents = (path: string): string | null => {
    const now = state.clock.now();
    const visible = state.visible(now);
    const id = state.identity;
    switch (path) {
      case 'instance-id':
        return id.id;
      case 'instance-type':
        return id.type;
      case 'placement/availability-zone':
        return id.zone;
      case 'placement/region':
        return id.zone.replace(/[a-z]$/, '');
      case 'local-hostname':
      case 'hostname':
        return id.name;
      case 'instance-life-cycle':
        return id.capacity === 'spot' ? 'spot' : 'on-demand';
      case 'spot/instance-action': {
        const n = visible.filter((v) => v.kind === 'spot-interruption').at(-1);
        return n ? JSON.stringify({ action: n.action, time: rfc3339(n.at) }) : null;
      }
      case 'events/recommendations/rebalance': {
        const n = visible.filter((v) => v.kind === 'rebalance-recommendation').at(-1);
        return n ? JSON.stringify({ noticeTime: rfc3339(n.appearsAt) }) : null;
      }
      case 'events/maintenance/scheduled': {
        const events = state.notices.filter((n) => n.kind === 'scheduled-maintenance' && n.appearsAt <= now).map((n) => scheduledEvent(n, now));
        return JSON.stringify(events, null, 2);
      }
      default:
        return null;
    }
  };

  return {
    defaults(kind) {
      if (kind === 'spot-interruption') return { action: 'terminate', leadMs: defaultLead[kind], durationMs: null };
      if (kind === 'rebalance-recommendation') return { action: 'rebalance', leadMs: 0, durationMs: null };
      return { action: 'system-reboot', leadMs: defaultLead[kind], durationMs: null };
    },
    handle(req, res, url) {
      if (req.headers['x-forwarded-for'] !== undefined) return plain(res, 403, 'Forbidden');
      if (url.pathname === '/latest/api/token') {
        if (req.method !== 'PUT') return plain(res, 405, 'Method Not Allowed');
        const ttl = req.headers['x-aws-ec2-metadata-token-ttl-seconds'];
        if (typeof ttl !== 'string' || !/^\d+$/.test(ttl) || Number(ttl) < 1 || Number(ttl) > 21_600) return plain(res, 400, 'Bad Request');
        if (settings.hopLimitExceeded) {
          unansweredTokenRequests++;
          held.add(res);
          res.on('close', () => held.delete(res));
          return;
        }
        const token = randomBytes(42).toString('base64');
        tokens.set(token, state.clock.now() + Number(ttl) * 1000);
        res.writeHead(200, { ...textHeaders, 'x-aws-ec2-metadata-token-ttl-seconds': ttl }).end(token);
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return plain(res, 405, 'Method Not Allowed');
      const token = req.headers['x-aws-ec2-metadata-token'];
      if (typeof token === 'string') {
        const expires = tokens.get(token);
        if (expires === undefined || expires <= state.clock.now()) return plain(res, 401, 'Unauthorized');
      } else if (settings.httpTokens === 'required') {
        return plain(res, 401, 'Unauthorized');
      }
      const prefix = '/latest/meta-data/';
      if (!url.pathname.startsWith(prefix)) return plain(res, 404, notFoundPage);
      const body = documents(url.pathname.slice(prefix.length));
      if (body === null) return plain(res, 404, notFoundPage);
      plain(res, 200, body);
    },
    control(req, res, url, body) {
      if (url.pathname === '/_spotguard/aws' && req.method === 'GET') {
        sendJson(res, 200, { ...settings, tokens: tokens.size, unansweredTokenRequests });
        return true;
      }
      if (url.pathname === '/_spotguard/aws' && req.method === 'PATCH') {
        const patch = (body ?? {}) as Record<string, unknown>;
        if (patch.httpTokens !== undefined) {
          if (patch.httpTokens !== 'optional' && patch.httpTokens !== 'required') throw new ControlError('"httpTokens" must be optional or required');
          settings.httpTokens = patch.httpTokens;
        }
        if (patch.hopLimitExceeded !== undefined) {
          if (typeof patch.hopLimitExceeded !== 'boolean') throw new ControlError('"hopLimitExceeded" must be true or false');
          settings.hopLimitExceeded = patch.hopLimitExceeded;
        }
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

/** A scheduled event as IMDS lists it: active until it ends, canceled when cancelled, completed after. */
function scheduledEvent(n: SimNotice, now: number): Record<string, string> {
  const stateWord =
    typeof n.extra.state === 'string' ? n.extra.state : n.canceledAt !== null ? 'canceled' : n.endsAt !== null && now >= n.endsAt ? 'completed' : 'active';
  const event: Record<string, string> = {
    NotBefore: awsEventDate(n.at),
    Code: n.action,
    Description: typeof n.extra.description === 'string' ? n.extra.description : `scheduled ${n.action.replace('-', ' ')}`,
    EventId: n.id.startsWith('instance-event-') ? n.id : `instance-event-${hex17(n.id)}`,
    State: stateWord,
  };
  if (n.endsAt !== null) event.NotAfter = awsEventDate(n.endsAt);
  if (stateWord === 'canceled') event.Description = `Canceled - ${event.Description}`;
  if (stateWord === 'completed') event.Description = `Completed - ${event.Description}`;
  return event;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function awsEventDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} GMT`;
}

function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function hex17(id: string): string {
  let h = 0n;
  for (const c of id) h = (h * 131n + BigInt(c.charCodeAt(0))) % 2n ** 68n;
  return h.toString(16).padStart(17, '0').slice(-17);
}

