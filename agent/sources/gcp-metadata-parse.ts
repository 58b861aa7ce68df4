/**
 * Pure parts of the GCP metadata source: reading the metadata server's plain-text values and
 * turning what was observed into notices with stable ids and first-seen times.
 */
import type { Capacity, Notice } from '../../core/domain/notice.ts';
import { SpotguardError } from '../../core/errors.ts';

/** A spot VM's guest gets about 30 s between the preemption notice and the hard stop. */
export const preemptionLeadMs = 30_000;
/** `maintenance-event` changes about 60 s before host maintenance starts. */
export const maintenanceLeadMs = 60_000;
/**
 * Our word for GCP's preemption: the metadata key is `instance/preempted` and the audit log calls
 * the event `compute.instances.preempted`; GCP itself gives the guest no action word.
 */
export const preemptionAction = 'preempted';

function malformed(path: string, what: string, value: string): SpotguardError {
  const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return new SpotguardError('E_METADATA_MALFORMED', `gcp metadata ${path}: expected ${what}, got ${JSON.stringify(shown)}`);
}

/** `instance/preempted`: TRUE once the VM is being preempted, else FALSE. */
export function parsePreempted(body: string): boolean {
  const value = body.trim();
  if (value === 'TRUE') return true;
  if (value === 'FALSE') return false;
  throw malformed('instance/preempted', 'TRUE or FALSE', body);
}

/**
 * `instance/maintenance-event`: NONE, or the upcoming event such as MIGRATE_ON_HOST_MAINTENANCE or
 * TERMINATE_ON_HOST_MAINTENANCE. Unknown upper-case words are kept (Google adds values); anything
 * else is malformed.
 */
export function parseMaintenanceEvent(body: string): string {
  const value = body.trim();
  if (!/^[A-Z][A-Z0-9_]*$/.test(value)) throw malformed('instance/maintenance-event', 'NONE or an event such as TERMINATE_ON_HOST_MAINTENANCE', body);
  return value;
}

/** `projects/123/machineTypes/n2-standard-4` → `n2-standard-4`; `projects/123/zones/us-central1-a` → `us-central1-a`. */
export function parseResourceName(path: string, collection: 'machineTypes' | 'zones', body: string): string {
  const match = new RegExp(`^projects/[^/\\s]+/${collection}/([a-z0-9][a-z0-9-]*)$`).exec(body.trim());
  if (!match) throw malformed(path, `projects/<project>/${collection}/<name>`, body);
  return match[1] as string;
}

/** `instance/id`: the numeric instance id. */
export function parseInstanceId(body: string): string {
  const value = body.trim();
  if (!/^\d+$/.test(value)) throw malformed('instance/id', 'a numeric instance id', body);
  return value;
}

/** `instance/name`: the VM name (what a GKE Node's providerID ends with). */
export function parseInstanceName(body: string): string {
  const value = body.trim();
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(value)) throw malformed('instance/name', 'a VM name', body);
  return value;
}

/**
 * `instance/scheduling/provisioning-model`: SPOT → spot; STANDARD and the reservation-like models →
 * on-demand (a legacy preemptible VM may still say STANDARD: the caller then asks `preemptible`).
 */
export function parseProvisioningModel(body: string): Capacity {
  const value = body.trim();
  if (value === 'SPOT') return 'spot';
  if (value === 'STANDARD' || value === 'RESERVATION_BOUND' || value === 'FLEX_START') return 'on-demand';
  if (/^[A-Z][A-Z_]*$/.test(value)) return 'unknown';
  throw malformed('instance/scheduling/provisioning-model', 'SPOT or STANDARD', body);
}

/** `instance/scheduling/preemptible`: TRUE → spot, FALSE → on-demand. */
export function parsePreemptible(body: string): Capacity {
  const value = body.trim();
  if (value === 'TRUE') return 'spot';
  if (value === 'FALSE') return 'on-demand';
  throw malformed('instance/scheduling/preemptible', 'TRUE or FALSE', body);
}

/** The readable text of an error body; the metadata server answers errors with an HTML page. */
export function describeErrorBody(body: string): string {
  const text = body
    .replace(/<style[\s\S]*?<\/style>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** One read of a watched value: the value and the ETag the server gave it. */
export interface Observed<T> {
  readonly value: T;
  readonly etag: string | null;
}

export interface Observation {
  readonly preempted: Observed<boolean>;
  readonly maintenance: Observed<string>;
}

/** Notices in force, remembered between polls so ids, detectedAt and deadlines stay put. */
export interface DetectionState {
  readonly preemption: Notice | null;
  readonly maintenance: Notice | null;
}

export const noDetections: DetectionState = { preemption: null, maintenance: null };

/**
 * Folds one observation into the detection state. A notice already in force keeps its id, detectedAt
 * and deadline; a value back at FALSE / NONE drops it. `instanceId` names the preemption (one per
 * VM life); a maintenance event is named by its value and the ETag it first came with (the time
 * of detection when the server sent no ETag).
 */
export function trackNotices(previous: DetectionState, seen: Observation, now: number, instanceId: string): DetectionState {
  let preemption: Notice | null = null;
  if (seen.preempted.value) {
    preemption = previous.preemption ?? {
      id: `gcp:spot-interruption:${instanceId}`,
      provider: 'gcp',
      kind: 'spot-interruption',
      action: preemptionAction,
      deadline: now + preemptionLeadMs,
      detectedAt: now,
      raw: { preempted: 'TRUE', etag: seen.preempted.etag },
    };
  }
  let maintenance: Notice | null = null;
  const event = seen.maintenance.value;
  if (event !== 'NONE') {
    maintenance =
      previous.maintenance?.action === event
        ? previous.maintenance
        : {
            id: `gcp:scheduled-maintenance:${event}:${seen.maintenance.etag ?? now}`,
            provider: 'gcp',
            kind: 'scheduled-maintenance',
            action: event,
            deadline: now + maintenanceLeadMs,
            detectedAt: now,
            raw: { 'maintenance-event': event, etag: seen.maintenance.etag },
          };
  }
  return { preemption, maintenance };
}

export function noticesOf(state: DetectionState): Notice[] {
  return [state.preemption, state.maintenance].filter((n): n is Notice => n !== null);
}
