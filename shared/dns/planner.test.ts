import { describe, expect, it } from 'vitest';
import { formatMarker, parseMarker } from './marker';
import {
  type DnsPlanConfig,
  type InstanceFact,
  latestPerInstance,
  planDns,
  planTombstoneExpiry,
} from './planner';
import type { RecordChange, RecordSet } from './port';
import { ZoneRecords } from './zone-records';

const config: DnsPlanConfig = { zoneName: 'example.com', ownerId: 'prod', ttl: 60, publishPublicIp: false };
const withPtr: DnsPlanConfig = { ...config, reverseZoneName: '10.in-addr.arpa' };
const I1 = 'i-0123456789abcdef0';
const I2 = 'i-0fedcba9876543210';
const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 10, 0, s)).toISOString();
const running = (over: Partial<InstanceFact> = {}): InstanceFact => ({
  instanceId: I1,
  state: 'running',
  time: at(0),
  source: 'event',
  name: 'web',
  privateIp: '10.0.0.5',
  ...over,
});
const flat = (units: { changes: RecordChange[] }[]) => units.flatMap((u) => u.changes);
const apply = (records: RecordSet[], zone: string, changes: RecordChange[]) => {
  const z = new ZoneRecords(zone, records);
  for (const c of changes) expect(z.apply(c)).toBeUndefined();
  return z.all();
};
const marker = (name: string, over: Record<string, unknown> = {}): RecordSet => ({
  name,
  type: 'TXT',
  ttl: 60,
  values: [
    formatMarker({
      owner: 'prod',
      instanceId: I1,
      type: 'A',
      value: '10.0.0.5',
      state: 'running',
      time: at(0),
      ...over,
    }),
  ],
});

describe('planDns', () => {
  it('creates the A record and its ownership marker for a running instance', () => {
    const plan = planDns({ config, forward: [], facts: [running()] });
    expect(flat(plan.forward)).toEqual([
      { action: 'CREATE', record: { name: 'web.example.com.', type: 'A', ttl: 60, values: ['10.0.0.5'] } },
      { action: 'CREATE', record: marker('_fleetwarden.web.example.com.') },
    ]);
    expect(plan.decisions).toEqual([
      expect.objectContaining({
        instanceId: I1,
        action: 'dns.upsert',
        decision: 'acted',
        recordName: 'web.example.com.',
      }),
    ]);
  });

  it('is idempotent: the same event against the result plans nothing', () => {
    const first = planDns({ config, forward: [], facts: [running()] });
    const zone = apply([], 'example.com', flat(first.forward));
    const again = planDns({ config, forward: zone, facts: [running()] });
    expect(flat(again.forward)).toEqual([]);
    expect(again.decisions[0]).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('already'),
    });
  });

  it('falls back to the instance id when the tag is absent', () => {
    const plan = planDns({ config, forward: [], facts: [running({ name: undefined })] });
    expect(flat(plan.forward)[0]?.record.name).toBe(`${I1}.example.com.`);
  });

  it('publishes the public IP when configured and present', () => {
    const plan = planDns({
      config: { ...config, publishPublicIp: true },
      forward: [],
      facts: [running({ publicIp: '203.0.113.7' })],
    });
    expect(flat(plan.forward)[0]?.record.values).toEqual(['203.0.113.7']);
  });

  it('with publishPublicIp, refuses an instance without a public IP (never falls back to the private IP)', () => {
    const pub = { ...config, publishPublicIp: true };
    const plan = planDns({ config: pub, forward: [], facts: [running()] });
    expect(flat(plan.forward)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({
      decision: 'refused',
      reason: expect.stringContaining('no public IP'),
      details: { refusal: 'no-public-ip' },
    });
    // a record we published for a public IP the instance no longer has is removed, not left dangling
    const zone = apply(
      [],
      'example.com',
      flat(planDns({ config: pub, forward: [], facts: [running({ publicIp: '203.0.113.7' })] }).forward),
    );
    const lost = planDns({ config: pub, forward: zone, facts: [running({ time: at(60) })] });
    expect(apply(zone, 'example.com', flat(lost.forward)).filter((r) => r.type === 'A')).toEqual([]);
    expect(lost.decisions[0]).toMatchObject({ decision: 'refused', details: { refusal: 'no-public-ip' } });
  });

  it('deletes on terminate through the marker even when no IP is known, keeping a tombstone', () => {
    const zone = apply([], 'example.com', flat(planDns({ config, forward: [], facts: [running()] }).forward));
    const plan = planDns({
      config,
      forward: zone,
      facts: [{ instanceId: I1, state: 'terminated', time: at(30), source: 'event' }],
    });
    const after = apply(zone, 'example.com', flat(plan.forward));
    expect(after.filter((r) => r.type === 'A')).toEqual([]);
    const tomb = parseMarker(after.find((r) => r.type === 'TXT')?.values[0] ?? '');
    expect(tomb).toMatchObject({ instanceId: I1, state: 'terminated', time: at(30), value: undefined });
    expect(plan.decisions[0]).toMatchObject({ action: 'dns.delete', decision: 'acted' });
  });

  it('does not resurrect a record for a late running event older than the tombstone', () => {
    const tombstoned = [
      marker('_fleetwarden.web.example.com.', { state: 'terminated', value: undefined, time: at(30) }),
    ];
    const plan = planDns({ config, forward: tombstoned, facts: [running({ time: at(10) })] });
    expect(flat(plan.forward)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('stale'),
    });
  });

  it('a tag change never recreates a record the instance no longer has (stopped, DescribeInstances lagging)', () => {
    const stopped = [
      marker('_fleetwarden.web.example.com.', { state: 'stopped', value: undefined, time: at(30) }),
    ];
    const tagChange = running({ time: at(40), name: 'web2', renameOnly: true });
    const plan = planDns({ config, forward: stopped, facts: [tagChange] });
    expect(flat(plan.forward)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('no live record'),
    });
    // with a live record, the same tag change renames it
    const live = apply([], 'example.com', flat(planDns({ config, forward: [], facts: [running()] }).forward));
    const renamed = planDns({ config, forward: live, facts: [tagChange] });
    expect(renamed.decisions[0]).toMatchObject({ decision: 'acted', recordName: 'web2.example.com.' });
  });

  it('orders same-second events by lifecycle: terminated beats running', () => {
    const tombstoned = [
      marker('_fleetwarden.web.example.com.', { state: 'terminated', value: undefined, time: at(0) }),
    ];
    const plan = planDns({ config, forward: tombstoned, facts: [running({ time: at(0) })] });
    expect(flat(plan.forward)).toEqual([]);
  });

  it('writes a tombstone when terminate arrives before any record existed', () => {
    const plan = planDns({
      config,
      forward: [],
      facts: [{ instanceId: I1, state: 'terminated', time: at(30), source: 'event', name: 'web' }],
    });
    const after = apply([], 'example.com', flat(plan.forward));
    expect(after.map((r) => r.name)).toEqual([`_fleetwarden.${I1}.example.com.`]);
    const late = planDns({ config, forward: after, facts: [running({ time: at(5) })] });
    expect(flat(late.forward)).toEqual([]);
  });

  it.each([
    ['*.example.com', 'wildcard'],
    ['web.other.org', 'outside-zone'],
    ['bad_label', 'malformed'],
  ])('refuses tag %j (%s) and writes nothing', (name, reason) => {
    const plan = planDns({ config, forward: [], facts: [running({ name })] });
    expect(flat(plan.forward)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({ decision: 'refused', details: { refusal: reason } });
  });

  it('never touches a record without our marker', () => {
    const foreign: RecordSet = { name: 'web.example.com.', type: 'A', ttl: 300, values: ['192.0.2.1'] };
    const plan = planDns({ config, forward: [foreign], facts: [running()] });
    expect(flat(plan.forward)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({
      decision: 'refused',
      reason: expect.stringContaining('not owned'),
    });
  });

  it('refuses a name whose marker belongs to another owner or is not a marker', () => {
    for (const values of [
      [
        formatMarker({
          owner: 'staging',
          instanceId: I1,
          type: 'A',
          value: '1.2.3.4',
          state: 'running',
          time: at(0),
        }),
      ],
      ['"hello"'],
    ]) {
      const txt: RecordSet = { name: '_fleetwarden.web.example.com.', type: 'TXT', ttl: 60, values };
      const plan = planDns({ config, forward: [txt], facts: [running()] });
      expect(flat(plan.forward)).toEqual([]);
      expect(plan.decisions[0]?.decision).toBe('refused');
    }
  });

  it('refuses a CNAME at the name', () => {
    const cname: RecordSet = {
      name: 'web.example.com.',
      type: 'CNAME',
      ttl: 300,
      values: ['elsewhere.example.net.'],
    };
    const plan = planDns({ config, forward: [cname], facts: [running()] });
    expect(plan.decisions[0]?.decision).toBe('refused');
  });

  it('refuses a CNAME next to our own marker (e.g. after our tombstone) per instance, not the whole plan', () => {
    const tomb = marker('_fleetwarden.web.example.com.', {
      state: 'terminated',
      value: undefined,
      time: at(0),
    });
    const cname: RecordSet = {
      name: 'web.example.com.',
      type: 'CNAME',
      ttl: 300,
      values: ['elsewhere.example.net.'],
    };
    const plan = planDns({
      config,
      forward: [tomb, cname],
      facts: [running({ time: at(40) }), running({ instanceId: I2, name: 'api', privateIp: '10.0.0.6' })],
    });
    expect(plan.decisions.map((d) => d.decision)).toEqual(['refused', 'acted']);
    expect(flat(plan.forward).every((c) => c.record.name.includes('api.example.com.'))).toBe(true);
  });

  it('turns any change Route 53 would reject into a refusal of that instance only (CNAME at our marker name)', () => {
    const cname: RecordSet = {
      name: '_fleetwarden.web.example.com.',
      type: 'CNAME',
      ttl: 300,
      values: ['elsewhere.example.net.'],
    };
    const plan = planDns({
      config,
      forward: [cname],
      facts: [running(), running({ instanceId: I2, name: 'api', privateIp: '10.0.0.6' })],
    });
    expect(plan.decisions[0]).toMatchObject({ decision: 'refused', details: { refusal: 'conflict' } });
    expect(plan.decisions[0]?.reason).toContain('CNAME');
    expect(plan.decisions[1]?.decision).toBe('acted');
    const after = apply([cname], 'example.com', flat(plan.forward));
    expect(after.filter((r) => r.name.includes('web'))).toEqual([cname]);
  });

  it('refuses a second instance claiming a name a running instance holds, in the same plan', () => {
    const plan = planDns({
      config,
      forward: [],
      facts: [running(), running({ instanceId: I2, privateIp: '10.0.0.6' })],
    });
    expect(plan.decisions.map((d) => d.decision)).toEqual(['acted', 'refused']);
    expect(plan.decisions[1]?.reason).toContain(I1);
  });

  it.each([
    ['stopped', 'stopped'],
    ['stopping', 'stopping'],
    ['terminated (tombstone not expired yet)', 'terminated'],
  ])('a name stays with its %s holder: another instance tagged with it is refused', (_what, state) => {
    const held = marker('_fleetwarden.web.example.com.', { instanceId: I2, state, value: undefined });
    const plan = planDns({ config, forward: [held], facts: [running({ time: at(40) })] });
    expect(flat(plan.forward)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({
      decision: 'refused',
      recordName: 'web.example.com.',
      reason: expect.stringContaining(`held by ${I2}`),
    });
    // the holder itself takes its name back when it runs again
    const back = planDns({
      config,
      forward: [held],
      facts: [running({ instanceId: I2, privateIp: '10.0.0.6', time: at(50) })],
    });
    expect(back.decisions[0]).toMatchObject({ decision: 'acted' });
  });

  it("a terminated holder's name is free once its tombstone has expired", () => {
    const tomb = marker('_fleetwarden.web.example.com.', {
      instanceId: I2,
      state: 'terminated',
      value: undefined,
    });
    const expiry = planTombstoneExpiry({
      config,
      forward: [tomb],
      now: new Date(Date.parse(at(0)) + 3 * 3_600_000),
      tombstoneMs: 2 * 3_600_000,
    });
    const after = apply([tomb], 'example.com', flat(expiry.forward));
    const plan = planDns({ config, forward: after, facts: [running({ time: at(40) })] });
    expect(apply(after, 'example.com', flat(plan.forward)).find((r) => r.type === 'A')?.values).toEqual([
      '10.0.0.5',
    ]);
  });

  it('publishes nothing for a running instance that did not opt in, and leaves no tombstone when it leaves', () => {
    const plan = planDns({ config, forward: [], facts: [running({ optedIn: false, name: undefined })] });
    expect(flat(plan.forward)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('not opted in'),
    });
    const gone = planDns({
      config,
      forward: [],
      facts: [{ instanceId: I1, state: 'terminated', time: at(9), source: 'event', optedIn: false }],
    });
    expect(flat(gone.forward)).toEqual([]);
  });

  it('still removes the record of an instance that no longer opts in when it leaves', () => {
    const zone = [
      { name: 'web.example.com.', type: 'A', ttl: 60, values: ['10.0.0.5'] },
      marker('_fleetwarden.web.example.com.'),
    ];
    const gone = planDns({
      config,
      forward: zone,
      facts: [{ instanceId: I1, state: 'stopped', time: at(9), source: 'event', optedIn: false }],
    });
    expect(apply(zone, 'example.com', flat(gone.forward)).filter((r) => r.type === 'A')).toEqual([]);
  });

  it('refuses (and never touches) a foreign record created at a name after our tombstone', () => {
    const tomb = marker('_fleetwarden.web.example.com.', {
      state: 'terminated',
      value: undefined,
      time: at(0),
    });
    const foreign: RecordSet = { name: 'web.example.com.', type: 'A', ttl: 300, values: ['192.0.2.9'] };
    const run = planDns({ config, forward: [tomb, foreign], facts: [running({ time: at(40) })] });
    expect(flat(run.forward)).toEqual([]);
    expect(run.decisions[0]).toMatchObject({ decision: 'refused', details: { refusal: 'not-owned' } });
    // the instance the tombstone names terminates (again): the foreign record stays, and as it was
    // never ours under this tombstone there is nothing to refuse each time
    const gone = planDns({
      config,
      forward: [tomb, foreign],
      facts: [{ instanceId: I1, state: 'terminated', time: at(50), source: 'event' }],
    });
    expect(flat(gone.forward).filter((c) => c.record.type === 'A')).toEqual([]);
    expect(gone.decisions[0]?.decision).not.toBe('refused');
  });

  it('a record whose value a human changed is no longer ours: not overwritten, not deleted', () => {
    const ours = marker('_fleetwarden.web.example.com.');
    const edited: RecordSet = { name: 'web.example.com.', type: 'A', ttl: 60, values: ['192.0.2.9'] };
    const run = planDns({ config, forward: [ours, edited], facts: [running({ time: at(40) })] });
    expect(flat(run.forward)).toEqual([]);
    expect(run.decisions[0]).toMatchObject({ decision: 'refused', details: { refusal: 'not-owned' } });
    const gone = planDns({
      config,
      forward: [ours, edited],
      facts: [{ instanceId: I1, state: 'terminated', time: at(50), source: 'event' }],
    });
    const changes = flat(gone.forward);
    expect(changes.filter((c) => c.record.type === 'A')).toEqual([]);
    expect(gone.decisions[0]).toMatchObject({ decision: 'refused', details: { notOwned: [edited] } });
    // a rename leaves the edited record where it is too
    const renamed = planDns({
      config,
      forward: [ours, edited],
      facts: [running({ name: 'api', time: at(60) })],
    });
    expect(flat(renamed.forward).filter((c) => c.record.name === 'web.example.com.')).toEqual([]);
  });

  it('never deletes a PTR whose target a human changed', () => {
    const ptrMk: RecordSet = {
      name: '_fleetwarden.5.0.0.10.in-addr.arpa.',
      type: 'TXT',
      ttl: 60,
      values: [
        formatMarker({
          owner: 'prod',
          instanceId: I1,
          type: 'PTR',
          value: 'web.example.com.',
          state: 'running',
          time: at(0),
        }),
      ],
    };
    const edited: RecordSet = {
      name: '5.0.0.10.in-addr.arpa.',
      type: 'PTR',
      ttl: 60,
      values: ['mail.example.com.'],
    };
    const gone = planDns({
      config: withPtr,
      forward: [],
      reverse: [ptrMk, edited],
      facts: [{ instanceId: I1, state: 'terminated', time: at(50), source: 'event' }],
    });
    expect(flat(gone.reverse).filter((c) => c.record.type === 'PTR')).toEqual([]);
    const run = planDns({
      config: withPtr,
      forward: [],
      reverse: [ptrMk, edited],
      facts: [running({ time: at(60) })],
    });
    expect(flat(run.reverse).filter((c) => c.record.type === 'PTR')).toEqual([]);
  });

  it('moves the record when the name tag changes (tags arriving after launch)', () => {
    const zone = apply(
      [],
      'example.com',
      flat(planDns({ config, forward: [], facts: [running({ name: undefined })] }).forward),
    );
    const plan = planDns({
      config,
      forward: zone,
      facts: [running({ time: at(60), source: 'observation' })],
    });
    const after = apply(zone, 'example.com', flat(plan.forward));
    // in Route 53's listing order: a name, then its subdomains (the marker)
    expect(after.map((r) => `${r.type} ${r.name}`)).toEqual([
      'A web.example.com.',
      'TXT _fleetwarden.web.example.com.',
    ]);
  });

  it('replaces a changed IP with DELETE of the exact old values then CREATE', () => {
    const zone = apply([], 'example.com', flat(planDns({ config, forward: [], facts: [running()] }).forward));
    const plan = planDns({
      config,
      forward: zone,
      facts: [running({ privateIp: '10.0.0.9', time: at(90) })],
    });
    const changes = flat(plan.forward);
    expect(changes[0]).toEqual({
      action: 'DELETE',
      record: { name: 'web.example.com.', type: 'A', ttl: 60, values: ['10.0.0.5'] },
    });
    expect(changes.some((c) => c.action === 'UPSERT')).toBe(false);
    expect(apply(zone, 'example.com', changes).find((r) => r.type === 'A')?.values).toEqual(['10.0.0.9']);
  });

  it('an observation does not rewrite an unchanged marker just to move its time', () => {
    const zone = apply([], 'example.com', flat(planDns({ config, forward: [], facts: [running()] }).forward));
    const plan = planDns({
      config,
      forward: zone,
      facts: [running({ time: at(500), source: 'observation' })],
    });
    expect(flat(plan.forward)).toEqual([]);
  });

  it('writes and removes a PTR with its own marker in the reverse zone', () => {
    const plan = planDns({ config: withPtr, forward: [], reverse: [], facts: [running()] });
    const rev = apply([], '10.in-addr.arpa', flat(plan.reverse));
    expect(rev.find((r) => r.type === 'PTR')).toEqual({
      name: '5.0.0.10.in-addr.arpa.',
      type: 'PTR',
      ttl: 60,
      values: ['web.example.com.'],
    });
    const fwd = apply([], 'example.com', flat(plan.forward));
    const gone = planDns({
      config: withPtr,
      forward: fwd,
      reverse: rev,
      facts: [{ instanceId: I1, state: 'stopped', time: at(20), source: 'event' }],
    });
    expect(apply(rev, '10.in-addr.arpa', flat(gone.reverse))).toEqual([]);
  });
});

describe('planTombstoneExpiry', () => {
  const tomb = marker('_fleetwarden.web.example.com.', {
    state: 'terminated',
    value: undefined,
    time: at(0),
  });
  it('deletes our tombstones older than the retention, and nothing else', () => {
    const live = marker('_fleetwarden.api.example.com.', { instanceId: I2 });
    const foreignTomb = marker('_fleetwarden.old.example.com.', {
      owner: 'staging',
      state: 'terminated',
      value: undefined,
    });
    const plan = planTombstoneExpiry({
      config,
      forward: [tomb, live, foreignTomb],
      now: new Date(Date.parse(at(0)) + 3 * 3_600_000),
      tombstoneMs: 2 * 3_600_000,
    });
    expect(flat(plan.forward)).toEqual([{ action: 'DELETE', record: tomb }]);
    expect(plan.decisions[0]).toMatchObject({ action: 'dns.expire-tombstone', decision: 'acted' });
  });

  it('expires an old tombstone next to a foreign record (it guards nothing), leaving the record', () => {
    const foreign: RecordSet = { name: 'web.example.com.', type: 'A', ttl: 300, values: ['192.0.2.9'] };
    const plan = planTombstoneExpiry({
      config,
      forward: [tomb, foreign],
      now: new Date(Date.parse(at(0)) + 3 * 3_600_000),
      tombstoneMs: 2 * 3_600_000,
    });
    expect(flat(plan.forward)).toEqual([{ action: 'DELETE', record: tomb }]);
  });

  it("never expires a stopped holder's tombstone (the name stays with it until it terminates)", () => {
    const stopped = marker('_fleetwarden.web.example.com.', {
      state: 'stopped',
      value: undefined,
      time: at(0),
    });
    const plan = planTombstoneExpiry({
      config,
      forward: [stopped],
      now: new Date(Date.parse(at(0)) + 30 * 24 * 3_600_000),
      tombstoneMs: 2 * 3_600_000,
    });
    expect(flat(plan.forward)).toEqual([]);
  });

  it('keeps a tombstone younger than the retention', () => {
    const plan = planTombstoneExpiry({
      config,
      forward: [tomb],
      now: new Date(Date.parse(at(0)) + 60_000),
      tombstoneMs: 3_600_000,
    });
    expect(flat(plan.forward)).toEqual([]);
  });
});

describe('observations (reconcile)', () => {
  it('leave no tombstone for a stopped instance that never had a record', () => {
    const plan = planDns({
      config,
      forward: [],
      facts: [{ instanceId: I1, state: 'stopped', time: at(0), source: 'observation', name: 'web' }],
    });
    expect(flat(plan.forward)).toEqual([]);
  });
});

describe('latestPerInstance', () => {
  it('a tag change that follows the running event in the same batch publishes (it is not rename-only then)', () => {
    const tag = running({ time: at(5), name: 'web2', renameOnly: true });
    expect(latestPerInstance([running(), tag])).toEqual([{ ...tag, renameOnly: false }]);
    // ... but not after a stop in the same batch: then it stays rename-only (and is skipped)
    const stopped: InstanceFact = { instanceId: I1, state: 'stopped', time: at(3), source: 'event' };
    expect(latestPerInstance([running(), stopped, tag])).toEqual([tag]);
    // and a plan of running + tag change in one batch writes the record under the tagged name
    const plan = planDns({ config, forward: [], facts: latestPerInstance([running(), tag]) });
    expect(plan.decisions[0]).toMatchObject({ decision: 'acted', recordName: 'web2.example.com.' });
  });
});
