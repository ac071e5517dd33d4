import { ThrottledError } from '../core/errors';
import type { CloudTrailLookup, LookupPage, LookupQuery } from './port';
import { type Clock, systemClock, TokenBucket } from './token-bucket';

/**
 * Keeps LookupEvents under its documented 2 requests/s per account per region with one token
 * bucket per region, and backs off (bounded) when CloudTrail throttles anyway (other callers share
 * the account's quota). After `maxThrottleRetries` the ThrottledError goes to the caller.
 */
export class RateLimitedLookup implements CloudTrailLookup {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly inner: CloudTrailLookup,
    private readonly opts: { clock?: Clock; ratePerSecond?: number; maxThrottleRetries?: number } = {},
  ) {}

  async lookupPage(query: LookupQuery): Promise<LookupPage> {
    const clock = this.opts.clock ?? systemClock;
    let bucket = this.buckets.get(query.region);
    if (!bucket) {
      const rate = this.opts.ratePerSecond ?? 2;
      // burst 1: never more than `rate` calls in any one-second window (CloudTrail counts that way)
      bucket = new TokenBucket(rate, 1, clock);
      this.buckets.set(query.region, bucket);
    }
    const maxRetries = this.opts.maxThrottleRetries ?? 2;
    for (let attempt = 0; ; attempt++) {
      await bucket.take();
      try {
        return await this.inner.lookupPage(query);
      } catch (err) {
        if (!(err instanceof ThrottledError) || attempt >= maxRetries) throw err;
        await clock.sleep((err.retryAfterMs ?? 1000) * 2 ** attempt);
      }
    }
  }
}
