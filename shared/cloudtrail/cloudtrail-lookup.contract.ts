import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import type { TrailEvent } from './event';
import { type CloudTrailLookup, lookupAll } from './port';
import { FakeClock } from './testing/fake-clock';

export interface LookupSubject {
  lookup: CloudTrailLookup;
  deliver(event: TrailEvent, delayMs?: number): void;
}

const T0 = Date.parse('2026-11-24T10:00:00Z');
const event = (i: number, over: Partial<TrailEvent> = {}): TrailEvent => ({
  eventId: `ev-${String(i).padStart(3, '0')}`,
  eventName: 'DescribeInstances',
  eventSource: 'ec2.amazonaws.com',
  eventTime: new Date(T0 + i * 1000).toISOString(),
  requestId: `req-${i}`,
  actor: 'arn:aws:sts::123456789012:assumed-role/R/fleetwarden-dns-sync',
  region: 'eu-west-1',
  readOnly: true,
  resources: [],
  ...over,
});
const window = { start: new Date(T0 - 3_600_000), end: new Date(T0 + 3_600_000) };

/** CloudTrail lookup behaviour, identical for the in-memory fake and LookupEventsAdapter. */
export function describeCloudTrailLookupContract(
  name: string,
  make: (clock: FakeClock) => LookupSubject,
): void {
  describe(`CloudTrailLookup contract: ${name}`, () => {
    it('returns matching events newest first, 50 per page, following NextToken', async () => {
      const clock = new FakeClock(T0 + 3_600_000);
      const s = make(clock);
      for (let i = 0; i < 120; i++) s.deliver(event(i));
      s.deliver(event(500, { eventName: 'TerminateInstances' }));
      const first = await s.lookup.lookupPage({
        region: 'eu-west-1',
        attribute: { key: 'EventName', value: 'DescribeInstances' },
        ...window,
      });
      expect(first.events).toHaveLength(50);
      expect(first.events[0]?.eventId).toBe('ev-119');
      expect(first.nextToken).toBeDefined();
      clock.advance(1000);
      const all = await lookupAll(
        {
          lookupPage: async (q) => {
            clock.advance(1000);
            return s.lookup.lookupPage(q);
          },
        },
        { region: 'eu-west-1', attribute: { key: 'EventName', value: 'DescribeInstances' }, ...window },
      );
      expect(all.complete).toBe(true);
      expect(all.events).toHaveLength(120);
      expect(new Set(all.events.map((e) => e.eventId)).size).toBe(120);
    });

    it('finds events by resource name with the request id and actor', async () => {
      const clock = new FakeClock(T0 + 3_600_000);
      const s = make(clock);
      s.deliver(
        event(1, {
          eventName: 'TerminateInstances',
          readOnly: false,
          actor: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
          resources: [{ type: 'AWS::EC2::Instance', name: 'i-0abc12345' }],
        }),
      );
      s.deliver(event(2));
      const page = await s.lookup.lookupPage({
        region: 'eu-west-1',
        attribute: { key: 'ResourceName', value: 'i-0abc12345' },
        ...window,
      });
      expect(page.events).toEqual([
        expect.objectContaining({
          eventId: 'ev-001',
          eventName: 'TerminateInstances',
          requestId: 'req-1',
          actor: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
        }),
      ]);
    });

    it('does not show an event before CloudTrail has delivered it', async () => {
      const clock = new FakeClock(T0 + 60_000);
      const s = make(clock);
      s.deliver(event(0), 5 * 60_000);
      const q = { region: 'eu-west-1', attribute: { key: 'EventId' as const, value: 'ev-000' }, ...window };
      expect((await s.lookup.lookupPage(q)).events).toEqual([]);
      clock.advance(5 * 60_000);
      expect((await s.lookup.lookupPage(q)).events.map((e) => e.eventId)).toEqual(['ev-000']);
    });

    it('throttles a third call within the same second in a region', async () => {
      const clock = new FakeClock(T0 + 3_600_000);
      const s = make(clock);
      const q = { region: 'eu-west-1', attribute: { key: 'EventName' as const, value: 'X' }, ...window };
      await s.lookup.lookupPage(q);
      await s.lookup.lookupPage(q);
      await expect(s.lookup.lookupPage(q)).rejects.toBeInstanceOf(ThrottledError);
      clock.advance(1000);
      await expect(s.lookup.lookupPage(q)).resolves.toMatchObject({ events: [] });
    });
  });
}
