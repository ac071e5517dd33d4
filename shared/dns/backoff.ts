import { ThrottledError } from '../core/errors';
import type { Pacing } from '../core/pacing';
import { Route53BusyError } from './errors';

/** Route 53 retry policy: the pacing port plus the invocation's time budget. */
export interface ApplyPolicy extends Pacing {
  /**
   * Time left in the invocation (Lambda's `context.getRemainingTimeInMillis`). With it, a retry whose
   * sleep would leave less than `reserveMs` is not made: ThrottledError now, so the handler can still
   * audit and report the failure before the timeout kills it. Absent: only `maxAttempts` bounds retries.
   */
  remainingMs?: (() => number) | undefined;
  /** Time kept for auditing and answering after Route 53 work. @default 10_000 */
  reserveMs?: number | undefined;
}

/** `policy` with its retries bounded by the Lambda invocation's time left (when there is a context). */
export function budgeted(
  policy: ApplyPolicy,
  context: { getRemainingTimeInMillis(): number } | undefined,
): ApplyPolicy {
  return context ? { ...policy, remainingMs: () => context.getRemainingTimeInMillis() } : policy;
}

/**
 * `call`, retried on Throttling / PriorRequestNotComplete with full-jitter backoff within the
 * policy's attempts and the invocation's time left; any other error is rethrown at once.
 */
export async function withBackoff<T>(
  what: string,
  policy: ApplyPolicy,
  call: () => Promise<T>,
): Promise<{ value: T; attempts: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return { value: await call(), attempts: attempt + 1 };
    } catch (err) {
      if (!(err instanceof Route53BusyError)) throw err;
      if (attempt + 1 >= policy.maxAttempts) {
        throw new ThrottledError(
          `${what}: Route 53 still busy (${err.code}) after ${policy.maxAttempts} attempts`,
          policy.capMs,
          {
            cause: err,
          },
        );
      }
      // full jitter: uniform in [0, min(cap, base * 2^attempt))
      const ms = Math.round(policy.random() * Math.min(policy.capMs, policy.baseMs * 2 ** attempt));
      const left = policy.remainingMs?.();
      const reserve = policy.reserveMs ?? 10_000;
      if (left !== undefined && left - ms < reserve) {
        throw new ThrottledError(
          `${what}: Route 53 still busy (${err.code}) after ${attempt + 1} attempt(s); no time left for another (${left} ms left, ${reserve} ms reserved)`,
          ms,
          { cause: err },
        );
      }
      await policy.sleep(ms);
    }
  }
}
