/**
 * The error catalogue. Every error spotguard reports carries one of these stable codes;
 * docs/errors.md documents each (a unit test keeps the two in step).
 */
export const errorCatalogue = {
  E_CONFIG_INVALID: { retryable: false, summary: 'a flag or SPOTGUARD_* variable has a value that is not allowed' },
  E_METADATA_UNAVAILABLE: { retryable: true, summary: 'the instance metadata service could not be reached (timeout, reset, refused)' },
  E_METADATA_HTTP: { retryable: true, summary: 'the instance metadata service answered with an unexpected HTTP status' },
  E_METADATA_MALFORMED: { retryable: true, summary: 'the instance metadata service answered with a body that could not be parsed' },
  E_METADATA_THROTTLED: { retryable: true, summary: 'the instance metadata service asked us to slow down (HTTP 429)' },
  E_METADATA_TOKEN: { retryable: true, summary: 'an IMDSv2 session token could not be obtained or was rejected' },
  E_PROVIDER_UNKNOWN: { retryable: false, summary: 'the cloud provider could not be detected from the Node or by probing' },
  E_KUBE_API: { retryable: true, summary: 'a Kubernetes API request failed' },
  E_KUBE_CONFIG: { retryable: false, summary: 'no usable kubeconfig or in-cluster service account was found' },
  E_EVICTION_BLOCKED: { retryable: true, summary: 'an eviction was refused because a PodDisruptionBudget does not allow it (HTTP 429)' },
  E_SIMULATOR_REQUEST: { retryable: false, summary: 'a request to the simulator control API was not valid' },
  E_INTERNAL: { retryable: false, summary: 'a bug: an invariant of spotguard did not hold' },
} as const satisfies Record<string, { retryable: boolean; summary: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class SpotguardError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryable?: boolean } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'SpotguardError';
    this.code = code;
    this.retryable = options.retryable ?? errorCatalogue[code].retryable;
  }
}

export function isSpotguardError(err: unknown, code?: ErrorCode): err is SpotguardError {
  return err instanceof SpotguardError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a SpotguardError, keeping the original as the cause. */
export function toSpotguardError(err: unknown, fallback: ErrorCode, message?: string): SpotguardError {
  if (err instanceof SpotguardError) return err;
  const text = message ?? (err instanceof Error ? err.message : String(err));
  return new SpotguardError(fallback, text, { cause: err });
}
