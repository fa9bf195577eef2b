export interface BackoffPolicy {
  /** Delay before the first retry, in ms. Default 2000. */
  baseMs: number;
  /** Upper bound for any delay, in ms. Default 10 minutes. */
  capMs: number;
  /** Growth per failed attempt. Default 2. */
  factor: number;
  /** Fraction of the delay that is randomized (0 = none, 1 = "full jitter"). Default 0.5. */
  jitter: number;
}

export const defaultBackoff: BackoffPolicy = { baseMs: 2000, capMs: 10 * 60_000, factor: 2, jitter: 0.5 };

/**
 * Delay before retry number `attempt` (1 = first retry): exponential growth, capped, with the
 * jittered part drawn from `random` so many failing jobs do not retry in lockstep.
 */
export function backoffDelay(
  attempt: number,
  policy: BackoffPolicy = defaultBackoff,
  random = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt));
  const exp = Math.min(policy.capMs, policy.baseMs * policy.factor ** (n - 1));
  const fixed = exp * (1 - policy.jitter);
  return Math.round(fixed + exp * policy.jitter * random());
}
