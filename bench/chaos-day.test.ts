import { describe, expect, it } from 'vitest';
import { CHAOS_DAY, chaosDay } from './chaos-day.bench';

describe('chaos day (24 h, 60 instances, 5% lost, 10% duplicated, 20% reordered, 2% API errors)', () => {
  it('holds every invariant and batches Route 53 below one call per event', async () => {
    const { summary, naive } = await chaosDay(CHAOS_DAY);
    expect(summary.delivery.dropped).toBeGreaterThan(100);
    expect(summary.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(summary.convergenceSeconds).not.toBeNull();
    expect(summary.apiCalls['route53:ChangeResourceRecordSets']).toBeLessThan(naive.route53Changes);
  });
});
