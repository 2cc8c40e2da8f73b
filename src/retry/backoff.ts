/**
 * How a retrying loop spaces its attempts: exponential from `baseMs`, doubling per attempt, capped
 * at `maxMs`, with jitter so that many instances failing together (a fleet reconnecting to a
 * restarted broker, platforms retrying one webhook receiver) do not retry in step.
 *
 * - `full`: anywhere in [0, nominal]. Spreads load best; for loops that only wait for a service
 *   to come back (storage writes, broker reconnects).
 * - `equal`: in [nominal / 2, nominal]. Never retries sooner than half the nominal delay; for
 *   loops whose other side should get a real pause (webhook receivers, field devices).
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  jitter: 'full' | 'equal';
}

/**
 * Delay before retry number `attempt` (1 = after the first failure). A server's `Retry-After`
 * (ms), when given, is a floor: it is waited at least, up to `maxMs`.
 */
export function retryDelayMs(attempt: number, policy: BackoffPolicy, retryAfterMs?: number | null, random: () => number = Math.random): number {
  // The exponent is bounded so that a long outage's attempt count cannot overflow to Infinity.
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 40));
  const jittered = policy.jitter === 'full' ? random() * nominal : nominal / 2 + random() * (nominal / 2);
  return Math.round(Math.min(policy.maxMs, Math.max(jittered, retryAfterMs ?? 0)));
}

/**
 * The attempt count of a reconnect loop: `next()` after each failure gives the delay before the
 * next try, `reset()` after a success starts again from the base delay.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    return retryDelayMs(++this.attempt, this.policy, undefined, this.random);
  }

  reset(): void {
    this.attempt = 0;
  }
}
