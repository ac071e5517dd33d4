import { describe, expect, it } from 'vitest';
import type { TrailEvent } from '../cloudtrail/event';
import { foreignZoneChanges, trailWindow } from './reconcile-trail';

const SYNC = 'arn:aws:iam::123456789012:role/fleet-DnsSyncRole';
const REC = 'arn:aws:iam::123456789012:role/fleet-DnsReconcileRole';
const writers = [SYNC, REC];

function change(id: string, over: Partial<TrailEvent> = {}): TrailEvent {
  return {
    eventId: id,
    eventName: 'ChangeResourceRecordSets',
    eventSource: 'route53.amazonaws.com',
    eventTime: '2026-11-24T12:20:00.000Z',
    actor: 'arn:aws:sts::123456789012:assumed-role/fleet-DnsSyncRole/dns-sync',
    sessionIssuer: SYNC,
    requestParameters: { hostedZoneId: 'ZFWD' },
    resources: [],
    ...over,
  };
}
const look = (events: TrailEvent[], complete = true) => ({ events, complete, skipped: [] as string[] });

describe('trailWindow: which CloudTrail events a run looks at (stateless)', () => {
  it('ends at the scheduled time and starts one period plus the delivery allowance before it', () => {
    const w = trailWindow(new Date('2026-11-24T12:30:00Z'), 900_000, 900_000);
    expect(w.start.toISOString()).toBe('2026-11-24T12:00:00.000Z');
    expect(w.end.toISOString()).toBe('2026-11-24T12:30:00.000Z');
  });

  it('every change is inside the window of some run once delivered within the allowance', () => {
    const period = 900_000;
    const allowance = 600_000;
    for (const changeAt of [0, 1, 450_000, 899_999]) {
      for (const delay of [0, 300_000, allowance]) {
        const seenBy = [1, 2, 3].some((k) => {
          const w = trailWindow(new Date(k * period), period, allowance);
          const t = changeAt;
          return t + delay <= k * period && t >= w.start.getTime() && t <= w.end.getTime();
        });
        expect(seenBy, `change at ${changeAt} delivered after ${delay}`).toBe(true);
      }
    }
  });
});

describe('foreignZoneChanges: a change to one of our zones by anyone but the fleet DNS writers reads the zone', () => {
  it('only the fleet writers changed the zone: no read, and the ids checked are named', () => {
    const v = foreignZoneChanges(
      look([change('e1'), change('e2', { sessionIssuer: REC })]),
      ['ZFWD'],
      writers,
    );
    expect(v).toMatchObject({ read: false, fleetEventIds: ['e1', 'e2'], foreignEventIds: [] });
  });

  it('a change by another role reads, naming the event id and who made it', () => {
    const v = foreignZoneChanges(
      look([
        change('e1'),
        change('e2', {
          sessionIssuer: 'arn:aws:iam::123456789012:role/Admin',
          actor: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
        }),
      ]),
      ['ZFWD'],
      writers,
    );
    expect(v.read).toBe(true);
    expect(v.foreignEventIds).toEqual(['e2']);
    expect(v.reason).toContain('e2');
    expect(v.reason).toContain('assumed-role/Admin/alice');
  });

  it('an IAM user or root (no session issuer) is foreign even if its name looks like a writer role', () => {
    const v = foreignZoneChanges(
      look([
        change('e3', { sessionIssuer: undefined, actor: 'arn:aws:iam::123456789012:user/fleet-DnsSyncRole' }),
      ]),
      ['ZFWD'],
      writers,
    );
    expect(v).toMatchObject({ read: true, foreignEventIds: ['e3'] });
  });

  it('changes to zones that are not ours do not read; the zone id may carry the /hostedzone/ prefix', () => {
    const other = change('e4', { sessionIssuer: undefined, requestParameters: { hostedZoneId: 'ZOTHER' } });
    expect(foreignZoneChanges(look([other]), ['ZFWD'], writers)).toMatchObject({ read: false });
    const prefixed = change('e5', {
      sessionIssuer: undefined,
      requestParameters: { hostedZoneId: '/hostedzone/ZFWD' },
    });
    expect(foreignZoneChanges(look([prefixed]), ['/hostedzone/ZFWD'], writers)).toMatchObject({
      read: true,
      foreignEventIds: ['e5'],
    });
  });

  it('a change event without a zone id (unreadable request parameters) reads: we cannot say it is not ours', () => {
    const v = foreignZoneChanges(
      look([change('e6', { requestParameters: undefined, sessionIssuer: undefined })]),
      ['ZFWD'],
      writers,
    );
    expect(v).toMatchObject({ read: true });
    expect(v.reason).toContain('e6');
  });

  it('an incomplete lookup (more pages than allowed) or skipped unreadable events read', () => {
    expect(foreignZoneChanges(look([change('e1')], false), ['ZFWD'], writers)).toMatchObject({ read: true });
    const skipped = { events: [change('e1')], complete: true, skipped: ['bad-1'] };
    const v = foreignZoneChanges(skipped, ['ZFWD'], writers);
    expect(v.read).toBe(true);
    expect(v.reason).toContain('bad-1');
  });
});
