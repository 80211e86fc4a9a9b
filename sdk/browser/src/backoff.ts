// Reconnect delays: exponential with full jitter, so a restarted server is not hit by every
// client at the same instant.

/** Delay settings in milliseconds. */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 5000 };

/** The delay before attempt `attempt` (0 = the first retry): a random point in the upper
 *  half of `min(max, initial * 2^attempt)`, so delays grow but never collapse to zero. */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
