import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log/create-logger.ts';

/** What every notice source is built from. */
export interface SourceOptions {
  /** Base URL of the metadata service, e.g. http://169.254.169.254, or a simulator's. */
  readonly baseUrl: string;
  readonly clock: Clock;
  readonly log: Logger;
  /** Pause between polls suggested to the caller's loop (ms). */
  readonly pollIntervalMs?: number;
  /** Timeout of one ordinary metadata request (ms). */
  readonly requestTimeoutMs?: number;
}
