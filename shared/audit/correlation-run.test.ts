import { describe, expect, it } from 'vitest';
import { ensureIntent, noteAwsCall } from '../aws/call-recorder';
import { CloudTrailLookupError } from '../cloudtrail/errors';
import { InMemoryCloudTrail } from '../cloudtrail/in-memory-cloudtrail';
import type { LookupQuery } from '../cloudtrail/port';
import { RateLimitedLookup } from '../cloudtrail/rate-limited-lookup';
import { FakeClock } from '../cloudtrail/testing/fake-clock';
import { ThrottledError } from '../core/errors';
import { auditRecord } from './audit-store.contract';
import { auditedAction } from './audited-action';
import { runCorrelation } from './correlation-run';
import { AuditWriteError } from './errors';
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
      failed: 0,
      failures: [],
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

  it('isolates a record whose lookup is rejected: the others are processed, it stays pending with the error and a backoff, and the run reports it', async () => {
    const clock = new FakeClock(T + 10 * 60_000);
    const store = new InMemoryAuditStore();
    const trail = new InMemoryCloudTrail(clock);
    await seed(store, trail, 3, () => true);
    const rejected = new CloudTrailLookupError('InvalidTimeRangeException: start time is after end time');
    const logged: string[] = [];
    const result = await runCorrelation({
      store,
      lookup: {
        lookupPage: async (q: LookupQuery) => {
          clock.advance(1000);
          // r0 (the oldest, first in the list every run) is the poisoned one
          if (q.start.getTime() === T - 120_000) throw rejected;
          return trail.lookupPage(q);
        },
      },
      options: { homeRegion: 'eu-west-1' },
      now: () => clock.date(),
      onRecordError: (recordId, err) => logged.push(`${recordId}: ${(err as Error).name}`),
    });
    expect(result).toMatchObject({ examined: 3, resolved: 2, failed: 1 });
    expect(result.failures).toEqual([{ recordId: 'r0', error: expect.stringContaining('InvalidTimeRange') }]);
    expect(logged).toEqual(['r0: CloudTrailLookupError']);
    const r0 = store.sink.records.get('r0');
    expect(r0?.correlation).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastError: expect.stringContaining('InvalidTimeRange'),
    });
    expect(Date.parse(r0?.correlation.nextAttemptAt ?? '')).toBeGreaterThan(clock.now());
    // the next run (5 min later) does not spend its budget on r0 again yet
    clock.advance(5 * 60_000 - 10_000);
    expect((await store.pending(clock.date())).records.map((r) => r.recordId)).toEqual([]);
  });

  it('marks a record whose lookup keeps failing unresolved once past its deadline, naming the error', async () => {
    const clock = new FakeClock(T + 7 * 3_600_000);
    const store = new InMemoryAuditStore();
    await seed(store, new InMemoryCloudTrail(clock), 2, () => false);
    const result = await runCorrelation({
      store,
      lookup: {
        lookupPage: async () => {
          throw new CloudTrailLookupError('AccessDeniedException');
        },
      },
      options: { homeRegion: 'eu-west-1' },
      now: () => clock.date(),
    });
    expect(result).toMatchObject({ examined: 2, unresolved: 2, failed: 2 });
    expect(store.sink.all().map((r) => [r.correlation.status, r.correlation.unresolvedReason])).toEqual([
      ['unresolved', expect.stringContaining('AccessDeniedException')],
      ['unresolved', expect.stringContaining('AccessDeniedException')],
    ]);
  });
});

describe('runCorrelation and intent records (intent before act)', () => {
  const ctx = {
    function: 'runner-sweep',
    trigger: { source: 'fleetwarden.schedule', id: 'run-7' },
    mode: 'live' as const,
    now: () => new Date(T),
  };
  const what = { action: 'instance.terminate', subject: { instanceId: 'i-0abc12345' } };
  const terminateStep = async () => {
    await ensureIntent('EC2.TerminateInstances');
    noteAwsCall({
      service: 'EC2',
      operation: 'TerminateInstances',
      time: iso(0),
      requestId: 'req-term',
      outcome: 'success',
    });
    return { decision: 'acted' as const, reason: 'orphaned', result: undefined };
  };

  it('never queues an intent-only record (the outcome was lost), and correlates the calls once the outcome is written', async () => {
    const clock = new FakeClock(T + 10 * 60_000);
    const store = new InMemoryAuditStore();
    const trail = new InMemoryCloudTrail(clock);
    trail.deliver({
      eventId: 'ct-term',
      eventName: 'TerminateInstances',
      eventSource: 'ec2.amazonaws.com',
      eventTime: iso(0),
      requestId: 'req-term',
      actor: 'arn:aws:sts::123456789012:assumed-role/R/fleetwarden-runner-sweep',
      resources: [{ name: 'i-0abc12345' }],
    });
    const run = () =>
      runCorrelation({
        store,
        lookup: new RateLimitedLookup(trail, { clock, maxThrottleRetries: 0 }),
        options: { homeRegion: 'eu-west-1' },
        now: () => clock.date(),
      });
    // the intent is stored, the outcome write is lost (a crash between the two looks the same)
    const losesOutcome = {
      writes: 0,
      write: async (r: Parameters<typeof store.sink.write>[0]) => {
        if (++losesOutcome.writes === 2) throw new Error('table down');
        return store.sink.write(r);
      },
    };
    await expect(auditedAction(losesOutcome, ctx, what, terminateStep)).rejects.toBeInstanceOf(
      AuditWriteError,
    );
    expect(store.sink.all()).toEqual([
      expect.objectContaining({
        decision: 'intended',
        correlation: expect.objectContaining({ status: 'not-applicable' }),
      }),
    ]);
    expect((await run()).examined).toBe(0);
    expect(trail.lookups).toBe(0);

    // the retry of the same attempt writes the outcome over the intent: now it is queued and resolves
    await auditedAction(store.sink, ctx, what, terminateStep);
    const result = await run();
    expect(result).toMatchObject({ examined: 1, resolved: 1, failed: 0 });
    expect(store.sink.all()).toEqual([
      expect.objectContaining({
        decision: 'acted',
        correlation: expect.objectContaining({
          status: 'resolved',
          calls: [expect.objectContaining({ requestId: 'req-term', eventId: 'ct-term' })],
        }),
      }),
    ]);
  });

  it('takes an intent-only record that was queued anyway out of the queue without a lookup', async () => {
    const clock = new FakeClock(T + 10 * 60_000);
    const store = new InMemoryAuditStore();
    const trail = new InMemoryCloudTrail(clock);
    // written by an older writer: the schema's default correlation is "pending"
    await store.sink.write(
      auditRecord({
        recordId: 'r-intent',
        decision: 'intended',
        reason: 'about to call EC2.TerminateInstances',
      }),
    );
    const run = () =>
      runCorrelation({
        store,
        lookup: new RateLimitedLookup(trail, { clock, maxThrottleRetries: 0 }),
        options: { homeRegion: 'eu-west-1' },
        now: () => clock.date(),
      });
    expect(await run()).toMatchObject({
      examined: 1,
      resolved: 0,
      unresolved: 0,
      stillPending: 0,
      failed: 0,
    });
    expect(trail.lookups).toBe(0);
    expect(store.sink.all()[0]?.correlation.status).toBe('not-applicable');
    expect((await run()).examined).toBe(0);
  });
});
