import { describe, expect, it } from 'vitest';
import { InMemoryCloudTrail } from '../cloudtrail/in-memory-cloudtrail';
import { RateLimitedLookup } from '../cloudtrail/rate-limited-lookup';
import { FakeClock } from '../cloudtrail/testing/fake-clock';
import { ThrottledError } from '../core/errors';
import { auditRecord } from './audit-store.contract';
import { runCorrelation } from './correlation-run';
import { InMemoryAuditStore } from './in-memory-audit-store';

const T = Date.parse('2026-11-24T10:00:00Z');
const iso = (ms: number) => new Date(T + ms).toISOString();

async function seed(
  store: InMemoryAuditStore,
  trail: InMemoryCloudTrail,
  n: number,
  delivered: (i: number) => boolean,
) {
  for (let i = 0; i < n; i++) {
    await store.sink.write(
      auditRecord({
        recordId: `r${i}`,
        time: iso(i * 1000),
        trigger: { source: 'fleetwarden.schedule', id: `run-${i}` },
        calls: [
          {
            service: 'EC2',
            operation: 'DescribeInstances',
            time: iso(i * 1000),
            requestId: `req-${i}`,
            outcome: 'success',
          },
        ],
      }),
    );
    if (delivered(i))
      trail.deliver({
        eventId: `ct-${i}`,
        eventName: 'DescribeInstances',
        eventSource: 'ec2.amazonaws.com',
        eventTime: iso(i * 1000),
        requestId: `req-${i}`,
        actor: 'arn:aws:sts::123456789012:assumed-role/R/fleetwarden-runner-sweep',
        resources: [],
        readOnly: true,
      });
  }
}

describe('runCorrelation', () => {
  it('resolves what CloudTrail has, leaves the rest pending, within 2 req/s', async () => {
    const clock = new FakeClock(T + 10 * 60_000);
    const store = new InMemoryAuditStore();
    const trail = new InMemoryCloudTrail(clock);
    await seed(store, trail, 30, (i) => i % 3 !== 0);
    const start = clock.now();
    const result = await runCorrelation({
      store,
      lookup: new RateLimitedLookup(trail, { clock, maxThrottleRetries: 0 }),
      options: { homeRegion: 'eu-west-1' },
      now: () => clock.date(),
      pageSize: 7,
    });
    expect(result).toEqual({
      examined: 30,
      resolved: 20,
      unresolved: 0,
      stillPending: 10,
      conflicts: 0,
      throttled: false,
      outOfTime: false,
    });
    // 30 lookups at 2/s never tripped the fake's throttle (it would have thrown)
    expect(trail.lookups).toBe(30);
    expect(clock.now() - start).toBe(29 * 500);
    const statuses = store.sink.all().map((r) => r.correlation.status);
    expect(statuses.filter((s) => s === 'pending')).toHaveLength(10);
  });

  it('marks records unresolved past the deadline and never drops them', async () => {
    const clock = new FakeClock(T + 7 * 3_600_000);
    const store = new InMemoryAuditStore();
    const trail = new InMemoryCloudTrail(clock);
    await seed(store, trail, 4, (i) => i < 2);
    const result = await runCorrelation({
      store,
      lookup: new RateLimitedLookup(trail, { clock }),
      options: { homeRegion: 'eu-west-1' },
      now: () => clock.date(),
    });
    expect(result).toMatchObject({ resolved: 2, unresolved: 2 });
    expect(store.sink.all().map((r) => [r.recordId, r.correlation.status])).toEqual([
      ['r0', 'resolved'],
      ['r1', 'resolved'],
      ['r2', 'unresolved'],
      ['r3', 'unresolved'],
    ]);
  });

  it('stops on persistent throttling and leaves every unprocessed record pending', async () => {
    const clock = new FakeClock(T + 10 * 60_000);
    const store = new InMemoryAuditStore();
    await seed(store, new InMemoryCloudTrail(clock), 3, () => false);
    const result = await runCorrelation({
      store,
      lookup: {
        lookupPage: async () => {
          throw new ThrottledError('Rate exceeded', 1000);
        },
      },
      options: { homeRegion: 'eu-west-1' },
      now: () => clock.date(),
    });
    expect(result).toMatchObject({ examined: 1, throttled: true });
    expect(
      store.sink.all().every((r) => r.correlation.status === 'pending' && r.correlation.attempts === 0),
    ).toBe(true);
  });

  it('stops when the time budget is spent', async () => {
    const clock = new FakeClock(T + 10 * 60_000);
    const store = new InMemoryAuditStore();
    const trail = new InMemoryCloudTrail(clock);
    await seed(store, trail, 5, () => true);
    const budgetEnd = clock.now() + 1200;
    const result = await runCorrelation({
      store,
      lookup: new RateLimitedLookup(trail, { clock }),
      options: { homeRegion: 'eu-west-1' },
      now: () => clock.date(),
      stopAt: () => clock.now() >= budgetEnd,
    });
    expect(result).toMatchObject({ examined: 4, resolved: 4, outOfTime: true });
  });
});
