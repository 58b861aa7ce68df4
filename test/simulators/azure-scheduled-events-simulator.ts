/**
 * Azure Instance Metadata Service as a VM sees it: Scheduled Events (GET the document, POST
 * StartRequests) and /metadata/instance. Faithful to Microsoft's documentation: 400 without
 * `Metadata: true` or with X-Forwarded-For, 400 listing the newest versions for a missing or unknown
 * api-version, DocumentIncarnation that moves on every change, events for other VMs in the same
 * document, `Started` with a blank NotBefore, 429 above 5 requests/s, a slow first call.
 *
 * Not documented by Microsoft, chosen here: the wording of the X-Forwarded-For, 404, 405, 429 and
 * bad StartRequests bodies; acknowledging an EventId that is not in the document answers 400.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NoticeKind } from '../../core/domain/notice.ts';
import { parseDuration, ValueError } from '../../core/config/parse-values.ts';
import { ControlError, type ProviderHandler } from './simulator-server.ts';
import type { SimIdentity, SimNotice, SimulatorState } from './simulator-state.ts';

export const azureDefaultIdentity: SimIdentity = {
  id: '5c08b38e-4d57-4c23-ac45-aca61037f084',
  type: 'Standard_D4s_v5',
  zone: 'westeurope-1',
  capacity: 'spot',
  name: 'aks-spot-31415926-vmss_0',
};

/** Scheduled Events versions, newest first (Microsoft's version table). */
export const scheduledEventsVersions = ['2020-07-01', '2019-08-01', '2019-04-01', '2019-01-01', '2017-11-01', '2017-08-01', '2017-03-01'];
/** Instance metadata versions, newest first. */
export const instanceVersions = [
  '2025-04-07', '2024-07-17', '2024-03-15', '2023-11-15', '2023-07-01', '2021-12-13', '2021-11-15', '2021-11-01', '2021-10-01',
  '2021-08-01', '2021-05-01', '2021-03-01', '2021-02-01', '2021-01-01', '2020-12-01', '2020-10-01', '2020-09-01', '2020-07-15',
  '2020-06-01', '2019-11-01', '2019-08-15', '2019-08-01', '2019-06-04', '2019-06-01', '2019-04-30', '2019-03-11', '2019-02-01',
  '2018-10-01', '2018-04-02', '2018-02-01', '2017-12-01', '2017-10-01', '2017-08-01', '2017-04-02', '2017-03-01',
];

const minute = 60_000;
/** Per EventType: minimum notice Azure documents, how long Started lasts before the event is removed, and the usual text. */
const eventTypes: Record<string, { kind: NoticeKind; leadMs: number; durationMs: number | null; description: string; seconds: number }> = {
  Preempt: { kind: 'spot-interruption', leadMs: 30_000, durationMs: null, description: '', seconds: -1 },
  Freeze: { kind: 'scheduled-maintenance', leadMs: 15 * minute, durationMs: 10 * minute, description: 'Virtual machine is being paused because of a memory-preserving Live Migration operation.', seconds: 5 },
  Reboot: { kind: 'scheduled-maintenance', leadMs: 15 * minute, durationMs: 10 * minute, description: 'Host server is undergoing maintenance.', seconds: -1 },
  Redeploy: { kind: 'scheduled-maintenance', leadMs: 10 * minute, durationMs: 10 * minute, description: 'Host server is undergoing maintenance.', seconds: -1 },
  Terminate: { kind: 'scheduled-maintenance', leadMs: 5 * minute, durationMs: null, description: '', seconds: -1 },
};

const errors = {
  metadataHeader: 'Bad request. Required metadata header not specified',
  forwarded: 'Bad request. Request with X-Forwarded-For header is not allowed',
  apiVersion: 'Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds',
  startRequests: 'Bad request. Body must be {"StartRequests":[{"EventId":"<id>"}]} naming current events',
};

const day = 24 * 3_600_000;

export function azureScheduledEventsHandler(state: SimulatorState): ProviderHandler {
  const settings = { rateLimit: true, firstCallDelayMs: 0 };
  const acknowledged = new Map<string, number>(); // EventId (upper case) → when StartRequests named it
  const acknowledgements: Array<{ at: number; body: string }> = [];
  const arrivals: number[] = [];
  let incarnation = 1;
  let lastDocument = '[]';
  let lastEventsCallAt: number | null = null;

  function eventsAt(now: number): Record<string, unknown>[] {
    return state.visible(now).flatMap((n) => {
      const spec = eventTypes[n.action];
      const startedAt = Math.min(n.at, acknowledged.get(n.id.toUpperCase()) ?? Infinity);
      const started = now >= startedAt;
      if (started && n.endsAt !== null && now >= startedAt + (n.endsAt - n.at)) return [];
      return [{
        EventId: n.id,
        EventStatus: started ? 'Started' : 'Scheduled',
        EventType: n.action,
        ResourceType: 'VirtualMachine',
        Resources: resourcesOf(n, state.identity.name),
        NotBefore: started ? '' : new Date(n.at).toUTCString(),
        Description: typeof n.extra.description === 'string' ? n.extra.description : (spec?.description ?? ''),
        EventSource: typeof n.extra.eventSource === 'string' ? n.extra.eventSource : 'Platform',
        DurationInSeconds: typeof n.extra.durationInSeconds === 'number' ? n.extra.durationInSeconds : (spec?.seconds ?? -1),
      }];
    });
  }

  /** The document as of now; DocumentIncarnation moves whenever the events differ from the last look. */
  function documentNow(): { DocumentIncarnation: number; Events: Record<string, unknown>[] } {
    const events = eventsAt(state.clock.now());
    const text = JSON.stringify(events);
    if (text !== lastDocument) {
      incarnation++;
      lastDocument = text;
    }
    return { DocumentIncarnation: incarnation, Events: events };
  }
  const onChange = (): void => void documentNow();
  state.on('change', onChange);

  function overRateLimit(now: number): boolean {
    while (arrivals.length > 0 && (arrivals[0] as number) <= now - 1000) arrivals.shift();
    if (settings.rateLimit && arrivals.length >= 5) return true;
    arrivals.push(now);
    return false;
  }

  async function scheduledEvents(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    const now = state.clock.now();
    const firstCall = lastEventsCallAt === null || now - lastEventsCallAt > day; // disabled after 24 h unused
    lastEventsCallAt = now;
    if (firstCall && settings.firstCallDelayMs > 0) await new Promise((r) => setTimeout(r, settings.firstCallDelayMs));
    if (req.method === 'GET') {
      json(res, 200, documentNow());
      return;
    }
    acknowledgements.push({ at: now, body });
    const ids = startRequestIds(body);
    const current = new Set(eventsAt(state.clock.now()).map((e) => String(e.EventId).toUpperCase()));
    if (ids === null || ids.length === 0 || !ids.every((id) => current.has(id.toUpperCase()))) {
      json(res, 400, { error: errors.startRequests });
      return;
    }
    for (const id of ids) if (!acknowledged.has(id.toUpperCase())) acknowledged.set(id.toUpperCase(), state.clock.now());
    documentNow();
    res.writeHead(200).end();
  }

  return {
    defaults(kind, request = {}) {
      if (kind === 'rebalance-recommendation') throw new ControlError('Azure has no rebalance recommendations: use spot-interruption or scheduled-maintenance');
      const action = typeof request.action === 'string' ? request.action : kind === 'spot-interruption' ? 'Preempt' : 'Reboot';
      const spec = eventTypes[action];
      if (!spec || spec.kind !== kind) {
        const allowed = Object.keys(eventTypes).filter((t) => eventTypes[t]?.kind === kind);
        throw new ControlError(`"action" for ${kind} on Azure must be one of ${allowed.join(', ')}`);
      }
      validateExtras(request);
      return { action, leadMs: spec.leadMs, durationMs: spec.durationMs };
    },

    newId: () => guidFrom(state.newId('')),

    async handle(req, res, url, body) {
      const now = state.clock.now();
      if (overRateLimit(now)) return json(res, 429, { error: 'Too many requests' });
      const metadata = req.headers.metadata;
      if (typeof metadata !== 'string' || metadata.toLowerCase() !== 'true') return json(res, 400, { error: errors.metadataHeader });
      if (req.headers['x-forwarded-for'] !== undefined) return json(res, 400, { error: errors.forwarded });
      const path = url.pathname.replace(/\/+$/, '');
      if (path === '/metadata/versions') return json(res, 200, { apiVersions: [...instanceVersions].reverse() });
      const isEvents = path === '/metadata/scheduledevents';
      const isInstance = path === '/metadata/instance' || path.startsWith('/metadata/instance/');
      if (!isEvents && !isInstance) return json(res, 404, { error: 'Not found' });
      const allowed = isEvents ? ['GET', 'POST'] : ['GET'];
      if (!allowed.includes(req.method ?? 'GET')) return json(res, 405, { error: 'Method not allowed' });
      const versions = isEvents ? scheduledEventsVersions : instanceVersions;
      const asked = url.searchParams.getAll('api-version');
      if (asked.length !== 1 || !versions.includes(asked[0] as string)) {
        return json(res, 400, { error: errors.apiVersion, 'newest-versions': versions.slice(0, 3) });
      }
      if (isEvents) return scheduledEvents(req, res, body);
      return serveInstance(res, path, url, azureInstanceDocument(state.identity));
    },

    control(req, res, url, body) {
      if (url.pathname !== '/_spotguard/azure') return false;
      if (req.method === 'PATCH') {
        if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new ControlError('body must be a JSON object');
        const patch = body as Record<string, unknown>;
        if (patch.rateLimit !== undefined) {
          if (typeof patch.rateLimit !== 'boolean') throw new ControlError('"rateLimit" must be true or false');
          settings.rateLimit = patch.rateLimit;
        }
        if (patch.firstCallDelay !== undefined) {
          settings.firstCallDelayMs = patch.firstCallDelay === null ? 0 : duration(patch.firstCallDelay, 'firstCallDelay');
          lastEventsCallAt = null; // the next call enables the service again
        }
      } else if (req.method !== 'GET') {
        return false;
      }
      json(res, 200, { rateLimit: settings.rateLimit, firstCallDelayMs: settings.firstCallDelayMs, documentIncarnation: documentNow().DocumentIncarnation, acknowledgements });
      return true;
    },

    close: () => void state.off('change', onChange),
  };
}

function resourcesOf(n: SimNotice, vmName: string): string[] {
  const r = n.extra.resources;
  if (typeof r === 'string') return [r];
  if (Array.isArray(r)) return r.map(String);
  return [vmName];
}

function validateExtras(request: Readonly<Record<string, unknown>>): void {
  const r = request.resources;
  if (r !== undefined && typeof r !== 'string' && !(Array.isArray(r) && r.length > 0 && r.every((x) => typeof x === 'string'))) {
    throw new ControlError('"resources" must be a VM name or a non-empty list of VM names');
  }
  if (request.eventSource !== undefined && request.eventSource !== 'Platform' && request.eventSource !== 'User') {
    throw new ControlError('"eventSource" must be Platform or User');
  }
  if (request.description !== undefined && typeof request.description !== 'string') throw new ControlError('"description" must be a string');
  if (request.durationInSeconds !== undefined && !Number.isInteger(request.durationInSeconds)) {
    throw new ControlError('"durationInSeconds" must be a whole number (-1 for unknown)');
  }
}

/** StartRequests body → EventIds; null when it is not that shape. */
function startRequestIds(body: string): string[] | null {
  try {
    const doc: unknown = JSON.parse(body);
    const list = (doc as { StartRequests?: unknown } | null)?.StartRequests;
    if (!Array.isArray(list)) return null;
    const ids = list.map((s: unknown) => (s as { EventId?: unknown } | null)?.EventId);
    return ids.every((id): id is string => typeof id === 'string' && id !== '') ? ids : null;
  } catch {
    return null;
  }
}

/** A GUID-shaped id that is the same for the same counter value: "0001" → "xxxxxxxx-xxxx-4xxx-8xxx-xxxxxxxxxxxx". */
export function guidFrom(seed: string): string {
  const h = createHash('sha256').update(`spotguard-azure-event-${seed}`).digest('hex').toUpperCase();
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function serveInstance(res: ServerResponse, path: string, url: URL, doc: unknown): void {
  // Route parameters walk into the document: /metadata/instance/compute/vmSize.
  let node: unknown = doc;
  for (const key of path.split('/').slice(3)) {
    node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[decodeURIComponent(key)] : undefined;
    if (node === undefined) return json(res, 404, { error: 'Not found' });
  }
  if (node !== null && typeof node === 'object') return json(res, 200, node);
  if (url.searchParams.get('format') !== 'text') return json(res, 400, { error: 'Bad request. Leaf nodes need format=text' });
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(String(node));
}

/** GET /metadata/instance (2021-02-01 shape, the fields a node agent reads plus their usual neighbours). */
export function azureInstanceDocument(identity: SimIdentity): Record<string, unknown> {
  const zoned = /^(.*)-(\d+)$/.exec(identity.zone);
  const [location, zone] = zoned ? [zoned[1] as string, zoned[2] as string] : [identity.zone, ''];
  const spot = identity.capacity === 'spot';
  const scaleSet = /^(.*)_(\d+)$/.exec(identity.name);
  const group = `MC_spotguard_spotguard_${location}`;
  const subscription = '0b1f6471-1bf0-4dda-aec3-111122223333';
  const resource = scaleSet
    ? `virtualMachineScaleSets/${scaleSet[1]}/virtualMachines/${scaleSet[2]}`
    : `virtualMachines/${identity.name}`;
  return {
    compute: {
      azEnvironment: 'AzurePublicCloud',
      evictionPolicy: spot ? 'Delete' : '',
      location,
      name: identity.name,
      osType: 'Linux',
      platformFaultDomain: '0',
      platformUpdateDomain: '0',
      priority: spot ? 'Spot' : 'Regular',
      provider: 'Microsoft.Compute',
      resourceGroupName: group,
      resourceId: `/subscriptions/${subscription}/resourceGroups/${group}/providers/Microsoft.Compute/${resource}`,
      subscriptionId: subscription,
      tags: '',
      tagsList: [],
      vmId: identity.id,
      vmScaleSetName: scaleSet ? scaleSet[1] : '',
      vmSize: identity.type,
      zone,
    },
    network: {
      interface: [{
        ipv4: { ipAddress: [{ privateIpAddress: '10.224.0.4', publicIpAddress: '' }], subnet: [{ address: '10.224.0.0', prefix: '16' }] },
        ipv6: { ipAddress: [] },
        macAddress: '000D3A2B4C5D',
      }],
    },
  };
}

function duration(value: unknown, field: string): number {
  if (typeof value !== 'string') throw new ControlError(`"${field}" must be a duration such as "3s", or null`);
  try {
    return parseDuration(value);
  } catch (err) {
    throw new ControlError(`"${field}": ${err instanceof ValueError ? err.message : String(err)}`);
  }
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(value));
}
