import { describe, expect, it } from 'vitest';
import type { InstanceInfo } from '../ec2/port';
import { driftBound, zoneReadDue } from './reconcile-due';

const MIN = 60_000;
const HOUR = 60 * MIN;
// 12:30: not the first run of its hour (12:15 was)
const AT = Date.parse('2026-11-24T12:30:00Z');
const base = { periodMs: 15 * MIN, fullReadEveryMs: HOUR, lookbackMs: 35 * MIN, maxChecked: 50 };
const inst = (over: Partial<InstanceInfo>): InstanceInfo => ({
  instanceId: 'i-00000000000000001',
  state: 'running',
  privateIp: '10.0.0.1',
  tags: {},
  launchTime: new Date(AT - 5 * HOUR).toISOString(),
  ...over,
});

describe('zoneReadDue: reconcile reads the zone only when something may have drifted', () => {
  it('skips the read when no instance of the fleet launched or changed state within the look-back', () => {
    const fleet = [
      inst({}),
      inst({ instanceId: 'i-2', state: 'stopped', stateChangedAt: new Date(AT - 2 * HOUR).toISOString() }),
      inst({ instanceId: 'i-3', state: 'terminated', stateChangedAt: new Date(AT - 50 * MIN).toISOString() }),
    ];
    const due = zoneReadDue({ ...base, scheduledAt: new Date(AT), fleet });
    expect(due).toMatchObject({
      read: false,
      reason: expect.stringContaining('next full read at 2026-11-24T13:00:00.000Z'),
    });
  });

  it('reads on the first run of each full-read period, whatever the fleet did', () => {
    const due = zoneReadDue({
      ...base,
      scheduledAt: new Date(Date.parse('2026-11-24T13:05:00Z')),
      fleet: [],
    });
    expect(due).toMatchObject({ read: true, reason: expect.stringContaining('full read') });
    // exactly one run of each period reads for that reason (runs every 15 min from 12:20 to 14:05)
    const runs = Array.from(
      { length: 8 },
      (_, k) => new Date(Date.parse('2026-11-24T12:20:00Z') + k * 15 * MIN),
    );
    const full = runs.filter((t) => zoneReadDue({ ...base, scheduledAt: t, fleet: [] }).read);
    expect(full.map((t) => t.toISOString())).toEqual([
      '2026-11-24T13:05:00.000Z',
      '2026-11-24T14:05:00.000Z',
    ]);
  });

  it('an instance launched (or started again) within the look-back is checked against the audit trail: its running event may be lost', () => {
    const fleet = [inst({}), inst({ instanceId: 'i-9', launchTime: new Date(AT - 30 * MIN).toISOString() })];
    const due = zoneReadDue({ ...base, scheduledAt: new Date(AT), fleet });
    expect(due).toMatchObject({
      read: 'unless-handled',
      since: '2026-11-24T11:55:00.000Z',
      nextFullRead: '2026-11-24T13:00:00.000Z',
    });
    expect(due.read === 'unless-handled' && due.changes.map((c) => [c.info.instanceId, c.what])).toEqual([
      ['i-9', 'launched'],
    ]);
  });

  it('an instance stopped or terminated within the look-back is checked: its leaving event may be lost', () => {
    for (const state of ['stopping', 'stopped', 'shutting-down', 'terminated'] as const) {
      const fleet = [inst({ state, stateChangedAt: new Date(AT - 10 * MIN).toISOString() })];
      const due = zoneReadDue({ ...base, scheduledAt: new Date(AT), fleet });
      expect(due.read === 'unless-handled' && due.changes[0]?.what).toBe(`became ${state}`);
    }
  });

  it('checks the most recent change first (the likeliest not to be recorded yet)', () => {
    const fleet = [5, 25, 15].map((m, k) =>
      inst({ instanceId: `i-${k}`, launchTime: new Date(AT - m * MIN).toISOString() }),
    );
    const due = zoneReadDue({ ...base, scheduledAt: new Date(AT), fleet });
    expect(due.read === 'unless-handled' && due.changes.map((c) => c.info.instanceId)).toEqual([
      'i-0',
      'i-2',
      'i-1',
    ]);
  });

  it('more changed instances than the cap: reads the zone (one query each would cost more than it saves)', () => {
    const fleet = Array.from({ length: 4 }, (_, k) =>
      inst({ instanceId: `i-${k}`, launchTime: new Date(AT - 10 * MIN).toISOString() }),
    );
    const due = zoneReadDue({ ...base, maxChecked: 3, scheduledAt: new Date(AT), fleet });
    expect(due).toMatchObject({
      read: true,
      reason: expect.stringMatching(/^4 instances of the fleet changed .*more than 3 to check/),
    });
    // a cap of 0: every change reads the zone (the rule before evidence)
    const none = zoneReadDue({ ...base, maxChecked: 0, scheduledAt: new Date(AT), fleet: fleet.slice(0, 1) });
    expect(none).toMatchObject({ read: true });
  });

  it('reads when the time of a change is unknown (never taken for "long ago")', () => {
    const noLaunch = inst({});
    delete noLaunch.launchTime;
    expect(zoneReadDue({ ...base, scheduledAt: new Date(AT), fleet: [noLaunch] }).read).toBe(true);
    const leftUnknown = inst({ state: 'stopped' });
    expect(zoneReadDue({ ...base, scheduledAt: new Date(AT), fleet: [leftUnknown] }).read).toBe(true);
  });

  it('reads every run when the full-read period is not longer than the schedule', () => {
    const every = { ...base, fullReadEveryMs: 10 * MIN };
    expect(zoneReadDue({ ...every, scheduledAt: new Date(AT), fleet: [] }).read).toBe(true);
  });

  it('states the bound: drift made outside the fleet is repaired within one period plus one run', () => {
    expect(driftBound(base)).toBe(HOUR + 15 * MIN);
    expect(driftBound({ ...base, fullReadEveryMs: 10 * MIN })).toBe(15 * MIN);
  });
});
