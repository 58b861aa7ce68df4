import type { InstanceIdentity, Notice, Provider } from '../../core/domain/notice.ts';

export interface PollOptions {
  /**
   * For sources that watch with hanging GETs (GCP): false reads the current values and returns at
   * once instead of waiting for a change. Probing uses false; the agent's loop uses true.
   */
  readonly wait?: boolean;
}

/**
 * One cloud's metadata service. `poll` does one poll and returns every notice in force right now
 * (a notice missing from a later poll has been cancelled or completed). Loop, timing and retry live
 * in the caller. Failures are thrown as SpotguardError with an E_METADATA_* code.
 */
export interface NoticeSource {
  readonly provider: Provider;
  /** Suggested pause between polls (ms); 0 for sources whose poll itself waits for a change. */
  readonly pollIntervalMs: number;
  poll(signal: AbortSignal, options?: PollOptions): Promise<Notice[]>;
  identity(signal: AbortSignal): Promise<InstanceIdentity>;
  /** Release connections. */
  close(): Promise<void>;
}
