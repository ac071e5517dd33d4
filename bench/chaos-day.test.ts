import { describe, expect, it } from 'vitest';
import { CHAOS_DAY, chaosDay } from './chaos-day.bench';

describe('chaos day (24 h, 60 instances, 5% lost, 10% duplicated, 20% reordered, 2% API errors)', () => {
  it('holds every invariant, counts every Route 53 call, and writes less than the naive design in the same run', async () => {
    const { summary, naive } = await chaosDay(CHAOS_DAY);
    expect(summary.delivery.dropped).toBeGreaterThan(100);
    expect(summary.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(summary.convergenceSeconds).not.toBeNull();
    // the naive per-event DNS handler really ran, on the same deliveries, against its own zone
    expect(naive.route53.calls).toBeGreaterThan(0);
    expect(naive.route53.listCalls).toBe(0);
    expect(naive.route53.applied + naive.route53.rejected).toBe(naive.route53.calls);
    expect(naive.route53.eventsHandled).toBeGreaterThanOrEqual(naive.route53.calls);
    // every Route 53 call of the fleet counted: its reads as well as its writes
    expect(summary.apiCalls['route53:ListResourceRecordSets']).toBeGreaterThan(0);
    // the fleet's writes stay below the naive design's; its total (reads included) does not yet:
    // dns-reconcile reads the zone on each of its runs (issue 15, open: the bench prints the gap)
    expect(summary.apiCalls['route53:ChangeResourceRecordSets']).toBeLessThan(naive.route53.calls);
    expect(naive.githubListPages).toBeGreaterThan(0);
    // every record CloudTrail can explain is explained: the fleet's calls and each trigger's cause
    expect(summary.counts.auditCorrelationResolved).toBeGreaterThan(0);
    expect([summary.counts.auditCorrelationPending, summary.counts.auditCorrelationUnresolved]).toEqual([
      0, 0,
    ]);
  });
});
