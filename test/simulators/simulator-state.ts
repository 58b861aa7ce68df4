import { EventEmitter } from 'node:events';
import type { NoticeKind, Provider } from '../../core/domain/notice.ts';
import type { Clock } from '../../core/clock.ts';

/** A notice scheduled through the control API. `visible` notices are what the metadata service shows. */
export interface SimNotice {
  readonly id: string;
  readonly kind: NoticeKind;
  /** Provider word; each provider simulator fills its default. */
  readonly action: string;
  /** When the metadata service starts showing it (epoch ms). */
  readonly appearsAt: number;
  /** When the interruption happens / maintenance starts (epoch ms). */
  readonly at: number;
  /** For maintenance windows: when the work ends (epoch ms), or null when unknown. */
  readonly endsAt: number | null;
  /** Provider-specific extras from the request (e.g. Azure resources, AWS event state). */
  readonly extra: Readonly<Record<string, unknown>>;
  canceledAt: number | null;
}

export interface SimIdentity {
  id: string;
  type: string;
  zone: string;
  capacity: 'spot' | 'on-demand';
  /** Azure VM name; GCP instance name. */
  name: string;
}

export type FaultType = 'status' | 'hang' | 'reset' | 'malformed' | 'delay';

export interface Fault {
  readonly type: FaultType;
  /** Only requests whose path starts with this are affected ('' = all metadata requests). */
  readonly path: string;
  /** HTTP status for 'status' faults. */
  readonly status: number;
  /** Milliseconds for 'delay' faults. */
  readonly delayMs: number;
  /** Requests left to affect; -1 until cleared. */
  remaining: number;
}

export interface LoggedRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly status: number | 'hang' | 'reset';
}

/** Everything a simulator knows; provider simulators read it and react to 'change'. */
export class SimulatorState extends EventEmitter {
  readonly provider: Provider;
  readonly clock: Clock;
  identity: SimIdentity;
  notices: SimNotice[] = [];
  faults: Fault[] = [];
  requests: LoggedRequest[] = [];
  private nextId = 1;
  private timers = new Set<NodeJS.Timeout>();

  constructor(provider: Provider, clock: Clock, identity: SimIdentity) {
    super();
    this.provider = provider;
    this.clock = clock;
    this.identity = identity;
  }

  newId(prefix: string): string {
    return `${prefix}${String(this.nextId++).padStart(4, '0')}`;
  }

  add(notice: SimNotice): void {
    this.notices.push(notice);
    // Wake watchers when the notice appears and when its time comes.
    for (const when of [notice.appearsAt, notice.at]) {
      const wait = when - this.clock.now();
      if (wait > 0) {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          this.changed();
        }, wait);
        timer.unref();
        this.timers.add(timer);
      }
    }
    this.changed();
  }

  cancel(id: string): boolean {
    const notice = this.notices.find((n) => n.id === id && n.canceledAt === null);
    if (!notice) return false;
    notice.canceledAt = this.clock.now();
    this.changed();
    return true;
  }

  cancelAll(): number {
    let count = 0;
    for (const n of this.notices) if (n.canceledAt === null && this.cancel(n.id)) count++;
    return count;
  }

  /** Notices the metadata service shows now (appeared, not cancelled). */
  visible(now = this.clock.now()): SimNotice[] {
    return this.notices.filter((n) => n.canceledAt === null && n.appearsAt <= now);
  }

  changed(): void {
    this.emit('change');
  }

  /** The first fault that applies to this path, consuming one use. */
  takeFault(path: string): Fault | null {
    const fault = this.faults.find((f) => path.startsWith(f.path) && f.remaining !== 0);
    if (!fault) return null;
    if (fault.remaining > 0) fault.remaining--;
    this.faults = this.faults.filter((f) => f.remaining !== 0);
    return fault;
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.removeAllListeners();
  }
}
