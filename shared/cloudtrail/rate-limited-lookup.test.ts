import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { InMemoryCloudTrail } from './in-memory-cloudtrail';
import { RateLimitedLookup } from './rate-limited-lookup';
import { FakeClock } from './testing/fake-clock';
import { TokenBucket } from './token-bucket';

const q = (region: string) => ({
  region,
  attribute: { key: 'EventName' as const, value: 'X' },
  start: new Date(0),
  end: new Date(1),
});

describe('TokenBucket', () => {
  it('allows the burst at once, then one token per 1/rate seconds', async () => {
    const clock = new FakeClock(0);
    const bucket = new TokenBucket(2, 2, clock);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      await bucket.take();
      times.push(clock.now());
    }
    expect(times).toEqual([0, 0, 500, 1000, 1500, 2000]);
  });

  it('refuses a nonsensical rate with the values in the message', () => {
    expect(() => new TokenBucket(0, 2)).toThrow('rate=0 burst=2');
  });
});

describe('RateLimitedLookup', () => {
  it('never trips the 2 req/s CloudTrail throttle, per region', async () => {
    const clock = new FakeClock(Date.parse('2026-11-24T10:00:00Z'));
    const trail = new InMemoryCloudTrail(clock);
    const lookup = new RateLimitedLookup(trail, { clock, maxThrottleRetries: 0 });
    const start = clock.now();
    for (let i = 0; i < 10; i++) await lookup.lookupPage(q('eu-west-1'));
    // one every 500 ms: never 3 within any second
    expect(clock.now() - start).toBe(4500);
    // another region has its own bucket
    const before = clock.now();
    await lookup.lookupPage(q('us-east-1'));
    await lookup.lookupPage(q('us-east-1'));
    expect(clock.now()).toBe(before + 500);
    expect(trail.lookups).toBe(12);
  });

  it('backs off and retries when throttled by other callers, then gives up with ThrottledError', async () => {
    const clock = new FakeClock(0);
    let calls = 0;
    const flaky = {
      lookupPage: async () => {
        calls++;
        if (calls <= 2) throw new ThrottledError('Rate exceeded', 1000);
        return { events: [] };
      },
    };
    await expect(new RateLimitedLookup(flaky, { clock }).lookupPage(q('eu-west-1'))).resolves.toEqual({
      events: [],
    });
    expect(clock.sleeps.filter((ms) => ms >= 1000)).toEqual([1000, 2000]);
    const always = {
      lookupPage: async () => {
        throw new ThrottledError('Rate exceeded', 1000);
      },
    };
    await expect(
      new RateLimitedLookup(always, { clock, maxThrottleRetries: 1 }).lookupPage(q('eu-west-1')),
    ).rejects.toBeInstanceOf(ThrottledError);
  });
});
