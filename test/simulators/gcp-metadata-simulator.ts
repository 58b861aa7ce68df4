import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NoticeKind } from '../../core/domain/notice.ts';
import type { SimIdentity, SimulatorState } from './simulator-state.ts';
import { ControlError, sendJson, type ProviderHandler } from './simulator-server.ts';

/**
 * The GCE metadata server as a guest sees it: plain-text values under /computeMetadata/v1/ with
 * `Metadata-Flavor: Google` required on the request and echoed on the response, an ETag per value,
 * and hanging GETs (`wait_for_change=true`, `last_etag`, `timeout_sec`) that answer when the value
 * changes. Preemption shows as `instance/preempted` = TRUE, host maintenance as
 * `instance/maintenance-event` = the event until it ends.
 */
export const gcpDefaultIdentity: SimIdentity = {
  id: '4520031799277581759',
  type: 'n2-standard-4',
  zone: 'us-central1-a',
  capacity: 'spot',
  name: 'gke-spark-spot-pool-7c1f2e9a-x4kq',
};

interface Settings {
  /** Serve no `scheduling/provisioning-model` (404), as on VMs created before Spot existed. */
  legacyScheduling: boolean;
  projectId: string;
  projectNumber: string;
}

interface Waiter {
  readonly target: string;
  /** The requested path and query, echoed by error pages. */
  readonly shown: string;
  readonly etag: string;
  readonly alt: string | null;
  readonly res: ServerResponse;
  timer: NodeJS.Timeout | null;
}

const commonHeaders = { 'metadata-flavor': 'Google', server: 'Metadata Server for VM', 'x-xss-protection': '0', 'x-frame-options': 'SAMEORIGIN' };
const root = '/computeMetadata/v1/';

/** Same value, same ETag: 16 hex digits of a hash of the value's text. */
export function gcpEtag(value: string): string {
  return createHash('md5').update(value).digest('hex').slice(-16);
}

export function gcpMetadataHandler(state: SimulatorState): ProviderHandler {
  const settings: Settings = { legacyScheduling: false, projectId: 'spotguard-sim', projectNumber: '123456789012' };
  const waiters = new Set<Waiter>();
  let boundaryTimer: NodeJS.Timeout | null = null;

  const onChange = (): void => {
    armBoundaryTimer();
    for (const w of waiters) {
      const value = valueOf(w.target);
      if (value === null || gcpEtag(value) !== w.etag) finish(w);
    }
  };
  state.on('change', onChange);

  /**
   * Wakes watchers at the next moment a value can change: a notice appearing or a maintenance
   * window ending. (`state` also wakes at appearance, but a timer may fire a millisecond early.)
   */
  function armBoundaryTimer(): void {
    if (boundaryTimer) clearTimeout(boundaryTimer);
    boundaryTimer = null;
    const now = state.clock.now();
    const boundaries = state.notices
      .filter((n) => n.canceledAt === null)
      .flatMap((n) => [n.appearsAt, n.endsAt ?? Number.NaN])
      .filter((t) => t > now);
    if (boundaries.length === 0) return;
    boundaryTimer = setTimeout(() => state.changed(), Math.min(...boundaries) - now + 1);
    boundaryTimer.unref();
  }

  function preempted(): string {
    return state.visible().some((n) => n.kind === 'spot-interruption') ? 'TRUE' : 'FALSE';
  }

  function maintenanceEvent(): string {
    const now = state.clock.now();
    const events = state.visible(now).filter((n) => n.kind === 'scheduled-maintenance' && (n.endsAt === null || n.endsAt > now));
    const latest = events.sort((a, b) => b.appearsAt - a.appearsAt)[0];
    return latest ? latest.action : 'NONE';
  }

  /** The text the server holds at `target` (a path under /computeMetadata/v1/), or null for 404. */
  function valueOf(target: string): string | null {
    const id = state.identity;
    const spot = id.capacity === 'spot';
    const project = `projects/${settings.projectNumber}`;
    switch (target) {
      case 'instance/id':
        return id.id;
      case 'instance/name':
        return id.name;
      case 'instance/hostname':
        return `${id.name}.${id.zone}.c.${settings.projectId}.internal`;
      case 'instance/zone':
        return `${project}/zones/${id.zone}`;
      case 'instance/machine-type':
        return `${project}/machineTypes/${id.type}`;
      case 'instance/preempted':
        return preempted();
      case 'instance/maintenance-event':
        return maintenanceEvent();
      case 'instance/scheduling/preemptible':
        return spot ? 'TRUE' : 'FALSE';
      case 'instance/scheduling/provisioning-model':
        return settings.legacyScheduling ? null : spot ? 'SPOT' : 'STANDARD';
      case 'instance/scheduling/automatic-restart':
        return spot ? 'FALSE' : 'TRUE';
      case 'instance/scheduling/on-host-maintenance':
        return spot ? 'TERMINATE' : 'MIGRATE';
      case 'project/project-id':
        return settings.projectId;
      case 'project/numeric-project-id':
        return settings.projectNumber;
      default:
        return null;
    }
  }

  function sendValue(res: ServerResponse, value: string, alt: string | null): void {
    const json = alt === 'json';
    res
      .writeHead(200, { ...commonHeaders, 'content-type': json ? 'application/json' : 'application/text', etag: gcpEtag(value) })
      .end(json ? JSON.stringify(value) : value);
  }

  function finish(w: Waiter): void {
    waiters.delete(w);
    if (w.timer) clearTimeout(w.timer);
    const value = valueOf(w.target);
    if (value === null) sendError(w.res, 404, w.shown);
    else sendValue(w.res, value, w.alt);
  }

  return {
    defaults(kind: NoticeKind) {
      switch (kind) {
        case 'spot-interruption':
          // The guest sees preempted=TRUE about 30 s before the VM is stopped.
          return { action: 'preempted', leadMs: 30_000, durationMs: null };
        case 'scheduled-maintenance':
          // maintenance-event changes about 60 s ahead and holds until the event ends (duration) or is cancelled.
          return { action: 'TERMINATE_ON_HOST_MAINTENANCE', leadMs: 60_000, durationMs: null };
        case 'rebalance-recommendation':
          throw new ControlError('"rebalance-recommendation" is an AWS notice; GCP has spot-interruption (preempted) and scheduled-maintenance (maintenance-event)');
      }
    },

    handle(req: IncomingMessage, res: ServerResponse, url: URL) {
      const shown = url.pathname + url.search;
      if (req.headers['x-forwarded-for'] !== undefined) return sendError(res, 403, shown, '');
      if (url.pathname !== '/' && req.headers['metadata-flavor'] !== 'Google') {
        return sendError(res, 403, shown, ' Missing Metadata-Flavor:Google header.');
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, shown);
      if (url.pathname === '/') return sendValue(res, 'computeMetadata/\n', null);
      const value = url.pathname.startsWith(root) ? valueOf(url.pathname.slice(root.length)) : null;
      if (value === null) return sendError(res, 404, shown);
      const alt = url.searchParams.get('alt');
      const etag = gcpEtag(value);
      const lastEtag = url.searchParams.get('last_etag');
      // A hanging GET waits only while the client's ETag (or none) matches what the server holds.
      if (!isTrue(url.searchParams.get('wait_for_change')) || (lastEtag !== null && lastEtag !== etag)) return sendValue(res, value, alt);
      const waiter: Waiter = { target: url.pathname.slice(root.length), shown, etag, alt, res, timer: null };
      const timeoutSec = Number(url.searchParams.get('timeout_sec'));
      if (Number.isInteger(timeoutSec) && timeoutSec > 0) {
        waiter.timer = setTimeout(() => finish(waiter), timeoutSec * 1000);
      }
      waiters.add(waiter);
      res.on('close', () => {
        waiters.delete(waiter);
        if (waiter.timer) clearTimeout(waiter.timer);
      });
    },

    control(req: IncomingMessage, res: ServerResponse, url: URL, body: unknown): boolean {
      if (url.pathname !== '/_spotguard/gcp') return false;
      if (req.method === 'PATCH') {
        const patch = body as Record<string, unknown>;
        if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) throw new ControlError('body must be a JSON object');
        if (patch.legacyScheduling !== undefined) {
          if (typeof patch.legacyScheduling !== 'boolean') throw new ControlError('"legacyScheduling" must be true or false');
          settings.legacyScheduling = patch.legacyScheduling;
        }
        state.changed();
      } else if (req.method !== 'GET') {
        return false;
      }
      sendJson(res, 200, settings);
      return true;
    },

    close() {
      state.off('change', onChange);
      if (boundaryTimer) clearTimeout(boundaryTimer);
      for (const w of waiters) {
        if (w.timer) clearTimeout(w.timer);
        w.res.destroy();
      }
      waiters.clear();
    },
  };
}

function isTrue(value: string | null): boolean {
  return value !== null && ['true', '1', 'yes', 'on'].includes(value.toLowerCase());
}

const reasons: Record<number, string> = { 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed' };

/** The metadata server's errors are Google's HTML error page, echoing the requested URL. */
function sendError(res: ServerResponse, status: number, shown: string, extra = ''): void {
  const reason = reasons[status] ?? 'Error';
  const code = `<code>${escapeHtml(shown)}</code>`;
  const text =
    status === 403
      ? `Your client does not have permission to get URL ${code} from this server.${extra}`
      : status === 404
        ? `The requested URL ${code} was not found on this server.`
        : `The request method is not supported for the requested URL ${code}.`;
  const body = [
    '<!DOCTYPE html>',
    '<html lang=en>',
    '  <meta charset=utf-8>',
    `  <title>Error ${status} (${reason})!!1</title>`,
    `  <p><b>${status}.</b> <ins>That’s an error.</ins>`,
    `  <p>${text}  <ins>That’s all we know.</ins>`,
    '',
  ].join('\n');
  res.writeHead(status, { ...commonHeaders, 'content-type': 'text/html; charset=UTF-8' }).end(body);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
