// The kube-apiserver audit log: which requests given users made. Lets a
// test count a component's real API traffic (e.g. "no requests while idle")
// without a proxy in between.
//
//   const cp = await startControlPlane({ dir, auditUsers: ['system:serviceaccount:ns:name'] });
//   ... later ...
//   const events = readAuditEvents(cp.auditLogPath!).filter((e) => e.user.username === '...');
import { existsSync, readFileSync } from 'node:fs';

/** One audit event (audit.k8s.io/v1 Event at level Metadata), the fields tests read. */
export interface AuditEvent {
  auditID: string;
  stage: string;
  requestURI: string;
  /** get, list, watch, create, update, patch, delete, … */
  verb: string;
  user: { username: string; groups?: string[] };
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; subresource?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  /** RFC 3339 with microseconds. */
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

/** Verbs that change something. */
export const mutatingVerbs: ReadonlySet<string> = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/**
 * An audit policy (JSON is YAML) that records, at level Metadata and once per
 * request (when the response is complete), every request `users` make, and
 * nothing else: the log stays small while kwok and the controllers chatter.
 */
export function auditPolicyYaml(users: readonly string[]): string {
  return JSON.stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived', 'ResponseStarted'],
    rules: [
      ...(users.length > 0 ? [{ level: 'Metadata', users: [...users] }] : []),
      { level: 'None' },
    ],
  }, null, 2) + '\n';
}

/** kube-apiserver flags that write the audit log (one JSON event a line, written before the response is sent). */
export function auditArgs(policyPath: string, logPath: string): string[] {
  return [
    `--audit-policy-file=${policyPath}`,
    `--audit-log-path=${logPath}`,
    '--audit-log-format=json',
    '--audit-log-mode=blocking',
    '--audit-log-maxbackup=0',
  ];
}

/** Every event in the log so far ([] before the first request is logged). */
export function readAuditEvents(logPath: string): AuditEvent[] {
  if (!existsSync(logPath)) return [];
  return readFileSync(logPath, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as AuditEvent];
      } catch {
        return []; // a line being written right now
      }
    });
}

/** "GET /api/v1/nodes/x 200": one line per event, for test diagnostics. */
export function describeAuditEvent(e: AuditEvent): string {
  return `${e.verb} ${e.requestURI} ${e.responseStatus?.code ?? '?'}`;
}
