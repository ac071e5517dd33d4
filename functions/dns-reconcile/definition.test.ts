import { ParseError } from '@aws-lambda-powertools/parser';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { auditRecord } from '../../shared/audit/audit-store.contract';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryAuditStore } from '../../shared/audit/in-memory-audit-store';
import type { AuditStore } from '../../shared/audit/store-port';
import type { TrailEvent } from '../../shared/cloudtrail/event';
import { InMemoryCloudTrail } from '../../shared/cloudtrail/in-memory-cloudtrail';
import { MalformedEventError, ThrottledError } from '../../shared/core/errors';
import { InvalidChangeBatchError } from '../../shared/dns/errors';
import { InMemoryRoute53 } from '../../shared/dns/in-memory-route53';
import { formatMarker } from '../../shared/dns/marker';
import type { RecordSet, Route53Port } from '../../shared/dns/port';
import { zonesSettingValue } from '../../shared/dns/zone-set';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { dnsReconcile } from './definition';

type DnsReconcileDeps = { dryRun: boolean };

const NOW = Date.parse('2026-11-24T12:00:00Z');
const SYNC_ROLE = 'arn:aws:iam::123456789012:role/fleet-DnsSyncRole';
const RECONCILE_ROLE = 'arn:aws:iam::123456789012:role/fleet-DnsReconcileRole';
const id = (n: number) => `i-${String(n).padStart(17, '0')}`;
const TAG = 'fleetwarden:dns-name';
const scheduled = {
  version: '0',
  id: 'sched-0001',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-24T12:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/fleetwarden-dns-reconcile'],
  detail: {},
};
const mk = (name: string, n: number, over: Record<string, unknown> = {}): RecordSet => ({
  name: `_fleetwarden.${name}`,
  type: 'TXT',
  ttl: 60,
  values: [
    formatMarker({
      owner: 'prod',
      instanceId: id(n),
      type: 'A',
      value: `10.0.0.${n}`,
      state: 'running',
      time: '2026-11-24T08:00:00.000Z',
      ...over,
    }),
  ],
});
const a = (name: string, ip: string): RecordSet => ({ name, type: 'A', ttl: 60, values: [ip] });
const FLEET = { 'fleetwarden:fleet': 'runners' };
const FOREIGN = [
  a('legacy.example.com.', '192.0.2.50'),
  { name: 'old.example.com.', type: 'CNAME', ttl: 300, values: ['x.example.net.'] },
];

function setup(over: Partial<DnsReconcileDeps> = {}, wrap?: (fake: InMemoryRoute53) => Route53Port) {
  const route53 = new InMemoryRoute53().addZone('ZFWD', 'example.com');
  let now = NOW - 3_600_000;
  const inventory = new InMemoryInstanceInventory({ now: () => now });
  inventory.put({ instanceId: id(1), state: 'running', privateIp: '10.0.0.1', tags: { [TAG]: 'web' } }); // record missing
  inventory.put({ instanceId: id(2), state: 'terminated', privateIp: '10.0.0.2', tags: { [TAG]: 'api' } }); // stale record
  inventory.put({ instanceId: id(4), state: 'running', privateIp: '10.0.0.4', tags: { [TAG]: 'db' } }); // in sync
  inventory.put({ instanceId: id(5), state: 'running', privateIp: '10.0.0.5', tags: { [TAG]: 'fresh' } });
  now = NOW;
  route53.seed('ZFWD', [
    ...FOREIGN,
    a('api.example.com.', '10.0.0.2'),
    mk('api.example.com.', 2),
    a('gone.example.com.', '10.0.0.3'), // instance 3 unknown to EC2 any more
    mk('gone.example.com.', 3),
    a('db.example.com.', '10.0.0.4'),
    mk('db.example.com.', 4),
    // instance 5 was stopped by an event 1 minute ago; DescribeInstances still lags at running
    mk('fresh.example.com.', 5, {
      state: 'stopped',
      value: undefined,
      time: new Date(NOW - 60_000).toISOString(),
    }),
    mk(`${id(6)}.example.com.`, 6, {
      state: 'terminated',
      value: undefined,
      time: new Date(NOW - 30 * 3_600_000).toISOString(),
    }),
    mk(`${id(7)}.example.com.`, 7, {
      state: 'terminated',
      value: undefined,
      time: new Date(NOW - 3_600_000).toISOString(),
    }),
  ]);
  const audit = new InMemoryAuditSink();
  const handler = dnsReconcile.create(
    {
      route53: wrap ? wrap(route53) : route53,
      inventory,
      audit,
      auditStore: new InMemoryAuditStore(audit),
      pacing: { maxAttempts: 2, baseMs: 1, capMs: 1, sleep: async () => undefined, random: () => 0 },
      cloudTrail: new InMemoryCloudTrail({ now: () => NOW, sleep: async () => undefined }),
    },
    {
      auditTable: 't',
      hostedZoneId: 'ZFWD',
      zoneName: 'example.com',
      zones: undefined,
      dnsRoleName: undefined,
      reverseZoneId: undefined,
      reverseZoneName: undefined,
      ownerId: 'prod',
      ttl: 60,
      publishPublicIp: false,
      nameTag: TAG,
      fleetTagKey: 'fleetwarden:fleet',
      fleetTagValue: 'runners',
      autoScalingGroupNames: ['ci-asg'],
      dryRun: over.dryRun ?? false,
      tombstoneHours: 24,
      settle: 300,
      schedule: 900,
      fullReadEvery: 3600,
      evidenceMax: 50,
      trailDelay: 900,
      writerRoles: [SYNC_ROLE, RECONCILE_ROLE],
    },
    { now: () => new Date(NOW), gate: REPORT_ONLY_GATE },
  );
  return { handler, route53, audit, inventory };
}

const aRecords = (r: InMemoryRoute53) =>
  r
    .records('ZFWD')
    .filter((x) => x.type === 'A')
    .map((x) => `${x.name} ${x.values.join(',')}`);

describe('dns-reconcile handler', () => {
  it('refuses an event that is not a scheduled EventBridge event (Powertools parse, zod/mini envelope), changing nothing', async () => {
    const s = setup();
    const before = aRecords(s.route53);
    const err = await s.handler({ ...scheduled, time: 'yesterday' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedEventError);
    expect((err as Error).message).toBe(
      'dns-reconcile expects a scheduled EventBridge event: Failed to parse schema',
    );
    expect((err as Error).cause).toBeInstanceOf(ParseError);
    expect(((err as Error).cause as Error).cause).toEqual([
      expect.objectContaining({ path: ['time'], message: 'Invalid ISO datetime' }),
    ]);
    expect(aRecords(s.route53)).toEqual(before);
    expect(s.audit.records.size).toBe(0);
  });

  it('creates missing records, removes stale ones, expires old tombstones, respects recent events and foreign records', async () => {
    const s = setup();
    const summary = await s.handler(scheduled);
    expect(aRecords(s.route53)).toEqual([
      'db.example.com. 10.0.0.4',
      'legacy.example.com. 192.0.2.50',
      'web.example.com. 10.0.0.1',
    ]);
    const names = s.route53.records('ZFWD').map((r) => `${r.type} ${r.name}`);
    expect(names).toContain('CNAME old.example.com.');
    expect(names).not.toContain(`TXT _fleetwarden.${id(6)}.example.com.`); // 30 h old tombstone expired
    expect(names).toContain(`TXT _fleetwarden.${id(7)}.example.com.`); // 1 h old tombstone kept
    expect(names).toContain('TXT _fleetwarden.fresh.example.com.'); // the recent stop event wins over lagging EC2
    expect(s.route53.changeRequests).toHaveLength(1);
    expect(summary).toMatchObject({ acted: 4, dryRun: false });
    const acted = s.audit.all().filter((r) => r.decision === 'acted' && r.action !== 'dns.reconcile');
    expect(acted.map((r) => `${r.action} ${r.subject.instanceId}`).sort()).toEqual(
      [
        `dns.delete ${id(2)}`,
        `dns.delete ${id(3)}`,
        `dns.expire-tombstone ${id(6)}`,
        `dns.upsert ${id(1)}`,
      ].sort(),
    );
    expect(acted[0]?.trigger).toMatchObject({ source: 'fleetwarden.schedule', id: 'sched-0001' });
  });

  it('creates the missing record of an UNTAGGED fleet instance whose running event was lost (named by its id)', async () => {
    const { handler, route53, inventory } = setup();
    inventory.put({ instanceId: id(9), state: 'running', privateIp: '10.0.0.9', tags: FLEET });
    // a stopped untagged instance with no record stays without one
    inventory.put({ instanceId: id(10), state: 'stopped', tags: FLEET });
    await handler(scheduled);
    const names = route53.records('ZFWD').map((r) => `${r.type} ${r.name}`);
    expect(names).toContain(`A ${id(9)}.example.com.`);
    expect(names.some((n) => n.includes(id(10)))).toBe(false);
  });

  it('never publishes instances that did not opt in, however many run in the region', async () => {
    const { handler, route53, inventory, audit } = setup();
    for (let n = 20; n < 40; n++) {
      inventory.put({
        instanceId: id(n),
        state: 'running',
        privateIp: `10.0.1.${n}`,
        tags: n % 2 ? { Name: `someone-${n}` } : { 'aws:autoscaling:groupName': 'not-ours' },
      });
    }
    inventory.put({
      instanceId: id(40),
      state: 'running',
      privateIp: '10.0.1.40',
      tags: { 'aws:autoscaling:groupName': 'ci-asg' },
    });
    await handler(scheduled);
    const published = route53
      .records('ZFWD')
      .filter((r) => r.type === 'A')
      .map((r) => r.name);
    expect(published.filter((n) => n.startsWith('i-'))).toEqual([`${id(40)}.example.com.`]);
    expect(
      audit
        .all()
        .filter(
          (r) =>
            r.subject.instanceId &&
            Number(r.subject.instanceId.slice(2)) >= 20 &&
            Number(r.subject.instanceId.slice(2)) < 40,
        ),
    ).toEqual([]);
  });

  it("refuses (and audits) a second claimant of a stopped holder's name, every run, until the holder terminates", async () => {
    const { handler, route53, inventory, audit } = setup();
    // instance 5's name "fresh" is held by its stopped tombstone; instance 11 now carries the same name
    inventory.setState(id(5), 'stopped');
    inventory.put({ instanceId: id(11), state: 'running', privateIp: '10.0.0.11', tags: { [TAG]: 'fresh' } });
    await handler(scheduled);
    expect(aRecords(route53).some((r) => r.startsWith('fresh.'))).toBe(false);
    expect(audit.all().find((r) => r.subject.instanceId === id(11))).toMatchObject({
      action: 'dns.upsert',
      decision: 'refused',
      reason: expect.stringContaining(`held by ${id(5)}`),
    });
  });

  it("the same scheduled event delivered twice (two request ids) keeps both runs' records", async () => {
    const s = setup();
    await s.handler(scheduled, { awsRequestId: 'req-1' } as Context);
    const first = s.audit.all().filter((r) => r.decision === 'acted');
    expect(first.length).toBeGreaterThan(0);
    await s.handler(scheduled, { awsRequestId: 'req-2' } as Context);
    const all = s.audit.all();
    // the duplicate found nothing to do; run 1's records of the changes it made are still there
    for (const r of first)
      expect(all.find((x) => x.recordId === r.recordId)).toMatchObject({ decision: 'acted' });
    expect(all.filter((r) => r.action === 'dns.reconcile').map((r) => r.decision)).toEqual([
      'acted',
      'skipped',
    ]);
  });

  it('is idempotent: a second run changes nothing', async () => {
    const s = setup();
    await s.handler(scheduled);
    const before = s.route53.changeRequests.length;
    const second = await s.handler({ ...scheduled, id: 'sched-0002' });
    expect(s.route53.changeRequests.length).toBe(before);
    expect(second.acted).toBe(0);
  });

  it('in dry-run mode audits what it would do and writes nothing', async () => {
    const s = setup({ dryRun: true });
    const summary = await s.handler(scheduled);
    expect(s.route53.changeRequests).toEqual([]);
    expect(summary).toMatchObject({ acted: 0, wouldAct: 4, dryRun: true });
    const reported = s.audit.all().filter((r) => r.decision === 'reported' && r.action !== 'dns.reconcile');
    expect(reported).toHaveLength(4);
    expect(reported.every((r) => r.mode === 'dry-run' && r.reason.startsWith('dry run: would'))).toBe(true);
  });

  it("repairs everything else when Route 53 rejects one instance's change, audits that one as failed, then fails the run", async () => {
    const s = setup({}, (fake) => ({
      listRecordSets: (z) => fake.listRecordSets(z),
      listPage: (z, start, max) => fake.listPage(z, start, max),
      changeRecordSets: async (z, c) => {
        if (c.some((x) => x.record.name === 'web.example.com.'))
          throw new InvalidChangeBatchError(["Invalid Resource Record: 'FATAL problem: something new'"]);
        return fake.changeRecordSets(z, c);
      },
    }));
    await expect(s.handler(scheduled)).rejects.toMatchObject({ name: 'DnsRepairFailedError' });
    // the stale records of instances 2 and 3 are gone even so
    expect(aRecords(s.route53)).toEqual(['db.example.com. 10.0.0.4', 'legacy.example.com. 192.0.2.50']);
    expect(s.audit.all().find((r) => r.subject.instanceId === id(1))).toMatchObject({
      action: 'dns.upsert',
      decision: 'failed',
      reason: expect.stringContaining('InvalidChangeBatch'),
    });
  });

  it('fails the run (so the schedule retries and alarms) when Route 53 stays throttled', async () => {
    const s = setup();
    s.route53.failNext('Throttling', 5);
    await expect(s.handler(scheduled)).rejects.toMatchObject({ name: 'ThrottledError' });
    expect(s.audit.all().find((r) => r.action === 'dns.reconcile')?.decision).toBe('failed');
  });
});

/**
 * A quiet fleet in sync with its zone: two named web hosts launched hours ago, their records and
 * markers in place. Reconcile runs every 15 min, reads the whole zone on the first run of each hour.
 */
function quietFleet(
  settings: Record<string, unknown> = {},
  storeOf = (a: InMemoryAuditSink): AuditStore => new InMemoryAuditStore(a),
) {
  const route53 = new InMemoryRoute53().addZone('ZFWD', 'example.com');
  let now = Date.parse('2026-11-24T07:00:00Z');
  const inventory = new InMemoryInstanceInventory({ now: () => now });
  const launchTime = '2026-11-24T07:00:00.000Z';
  inventory.put({
    instanceId: id(1),
    state: 'running',
    privateIp: '10.0.0.1',
    tags: { [TAG]: 'web' },
    launchTime,
  });
  inventory.put({
    instanceId: id(4),
    state: 'running',
    privateIp: '10.0.0.4',
    tags: { [TAG]: 'db' },
    launchTime,
  });
  route53.seed('ZFWD', [
    ...FOREIGN,
    a('web.example.com.', '10.0.0.1'),
    mk('web.example.com.', 1),
    a('db.example.com.', '10.0.0.4'),
    mk('db.example.com.', 4),
  ]);
  const audit = new InMemoryAuditSink();
  const trail = new InMemoryCloudTrail({ now: () => now, sleep: async () => undefined });
  const cloudTrail = {
    lookups: 0,
    fail: undefined as Error | undefined,
    lookupPage: trail.lookupPage.bind(trail),
  };
  const handler = dnsReconcile.create(
    {
      route53,
      inventory,
      audit,
      auditStore: storeOf(audit),
      pacing: { maxAttempts: 2, baseMs: 1, capMs: 1, sleep: async () => undefined, random: () => 0 },
      cloudTrail: {
        lookupPage: async (q) => {
          cloudTrail.lookups++;
          if (cloudTrail.fail) throw cloudTrail.fail;
          return trail.lookupPage(q);
        },
      },
    },
    {
      auditTable: 't',
      hostedZoneId: 'ZFWD',
      zoneName: 'example.com',
      zones: undefined,
      dnsRoleName: undefined,
      reverseZoneId: undefined,
      reverseZoneName: undefined,
      ownerId: 'prod',
      ttl: 60,
      publishPublicIp: false,
      nameTag: TAG,
      fleetTagKey: 'fleetwarden:fleet',
      fleetTagValue: 'runners',
      autoScalingGroupNames: ['ci-asg'],
      dryRun: false,
      tombstoneHours: 24,
      settle: 300,
      schedule: 900,
      fullReadEvery: 3600,
      evidenceMax: 50,
      trailDelay: 900,
      writerRoles: [SYNC_ROLE, RECONCILE_ROLE],
      ...settings,
    },
    { now: () => new Date(now), gate: REPORT_ONLY_GATE },
  );
  /** The scheduled run at `at` (the schedule event carries that time). */
  const runAt = (at: string) => {
    now = Date.parse(at);
    return handler({ ...scheduled, id: `sched-${at}`, time: at });
  };
  const calls = () => route53.listRequests + route53.changeRequests.length;
  return {
    runAt,
    route53,
    inventory,
    audit,
    calls,
    trail,
    cloudTrail,
    setNow: (at: string) => (now = Date.parse(at)),
  };
}

/** dns-sync's record of instance `n`'s event at `eventAt` (written 5 s later). */
function syncRecord(n: number, eventAt: string, over: Record<string, unknown> = {}) {
  return auditRecord({
    recordId: `dns-sync-${n}-${eventAt}`,
    time: new Date(Date.parse(eventAt) + 5000).toISOString(),
    function: 'dns-sync',
    trigger: { source: 'aws.ec2', id: `evt-${n}`, time: eventAt },
    subject: { instanceId: id(n), recordName: 'new.example.com' },
    action: 'dns.upsert',
    decision: 'acted',
    reason: 'A new.example.com. -> 10.0.0.8',
    details: { ip: '10.0.0.8', state: 'running' },
    ...over,
  });
}

/** quietFleet plus instance 8, launched at 12:20 (its record published by dns-sync or not). */
async function withLaunch(
  settings: Record<string, unknown> = {},
  storeOf?: (a: InMemoryAuditSink) => AuditStore,
) {
  const s = quietFleet(settings, storeOf);
  s.setNow('2026-11-24T12:22:00Z');
  s.inventory.put({
    instanceId: id(8),
    state: 'running',
    privateIp: '10.0.0.8',
    tags: { [TAG]: 'new' },
    launchTime: '2026-11-24T12:20:00.000Z',
  });
  return s;
}
const runRecord = (s: { audit: InMemoryAuditSink }) =>
  s.audit
    .all()
    .filter((r) => r.action === 'dns.reconcile')
    .at(-1);

describe('dns-reconcile reads the zone only when something may have drifted (issue 15)', () => {
  it('a quiet run makes no Route 53 call and audits why, naming the next full read', async () => {
    const s = quietFleet();
    const summary = await s.runAt('2026-11-24T12:30:00Z');
    expect(s.calls()).toBe(0);
    expect(summary).toMatchObject({ acted: 0, requests: 0, zoneRead: false });
    expect(s.audit.all().find((r) => r.action === 'dns.reconcile')).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('next full read at 2026-11-24T13:00:00.000Z'),
    });
  });

  it('a quiet run of a fleet with several zones (ZONES) names the first forward zone in its record', async () => {
    const zones = zonesSettingValue([
      { id: 'ZFWD', name: 'example.com', view: 'private' },
      { id: 'ZPUB', name: 'example.com', view: 'public' },
    ]);
    const s = quietFleet({ hostedZoneId: undefined, zoneName: undefined, zones });
    s.route53.addZone('ZPUB', 'example.com');
    await s.runAt('2026-11-24T12:30:00Z');
    expect(s.audit.all().find((r) => r.action === 'dns.reconcile')).toMatchObject({
      decision: 'skipped',
      subject: { recordName: 'example.com' },
    });
  });

  it('the first run of each hour reads the whole zone (one page here) even when the fleet is quiet', async () => {
    const s = quietFleet();
    const runs = ['12:00', '12:15', '12:30', '12:45', '13:00', '13:15'];
    const reads: number[] = [];
    for (const t of runs) {
      const before = s.route53.listRequests;
      await s.runAt(`2026-11-24T${t}:00Z`);
      reads.push(s.route53.listRequests - before);
    }
    expect(reads).toEqual([1, 0, 0, 0, 1, 0]);
  });

  it('a record deleted by hand is restored within one full-read period plus one run (5 runs)', async () => {
    const s = quietFleet();
    await s.runAt('2026-11-24T12:00:00Z');
    s.route53.remove('ZFWD', 'web.example.com.', 'A');
    const runs = ['12:15', '12:30', '12:45', '13:00'];
    let restoredAfter = 0;
    for (const [k, t] of runs.entries()) {
      await s.runAt(`2026-11-24T${t}:00Z`);
      if (aRecords(s.route53).includes('web.example.com. 10.0.0.1')) {
        restoredAfter = k + 1;
        break;
      }
    }
    expect(restoredAfter).toBeGreaterThan(0);
    expect(restoredAfter).toBeLessThanOrEqual(5);
  });

  it('a stale record of ours (its instance gone for good, the event lost) is removed by the next full read', async () => {
    const s = quietFleet();
    s.route53.seed('ZFWD', [a('gone.example.com.', '10.0.0.3'), mk('gone.example.com.', 3)]);
    await s.runAt('2026-11-24T12:30:00Z');
    expect(aRecords(s.route53)).toContain('gone.example.com. 10.0.0.3');
    await s.runAt('2026-11-24T12:45:00Z');
    await s.runAt('2026-11-24T13:00:00Z');
    expect(aRecords(s.route53)).not.toContain('gone.example.com. 10.0.0.3');
  });

  it('an instance launched since the last runs whose running event was lost gets its record on the next run', async () => {
    const s = await withLaunch();
    const summary = await s.runAt('2026-11-24T12:30:00Z');
    expect(summary).toMatchObject({ zoneRead: true });
    expect(aRecords(s.route53)).toContain('new.example.com. 10.0.0.8');
  });

  it('an instance terminated since the last runs whose event was lost loses its record on the next run', async () => {
    const s = quietFleet();
    s.setNow('2026-11-24T12:21:00Z');
    s.inventory.setState(id(4), 'terminated');
    await s.runAt('2026-11-24T12:30:00Z');
    expect(aRecords(s.route53)).not.toContain('db.example.com. 10.0.0.4');
  });

  it('a launch dns-sync recorded as handled (same name and IP, after the launch) needs no read: the run record names the proof', async () => {
    const s = await withLaunch();
    await s.audit.write(syncRecord(8, '2026-11-24T12:21:00Z'));
    const summary = await s.runAt('2026-11-24T12:30:00Z');
    expect(s.calls()).toBe(0);
    expect(summary).toMatchObject({ zoneRead: false });
    const run = runRecord(s);
    expect(run).toMatchObject({
      decision: 'skipped',
      reason: expect.stringContaining('recorded as handled by dns-sync'),
    });
    expect(run?.details.evidence).toEqual([
      {
        instanceId: id(8),
        state: 'running',
        changedAt: '2026-11-24T12:20:00.000Z',
        recordId: 'dns-sync-8-2026-11-24T12:21:00Z',
      },
    ]);
  });

  it('a launch whose dns-sync record failed reads the zone and publishes the record; the run record says why', async () => {
    const s = await withLaunch();
    await s.audit.write(
      syncRecord(8, '2026-11-24T12:21:00Z', { decision: 'failed', reason: 'Throttling', details: {} }),
    );
    const summary = await s.runAt('2026-11-24T12:30:00Z');
    expect(summary).toMatchObject({ zoneRead: true, why: expect.stringContaining('is failed: Throttling') });
    expect(aRecords(s.route53)).toContain('new.example.com. 10.0.0.8');
    const run = runRecord(s);
    expect(run?.details).toMatchObject({
      readBecause: expect.stringContaining(`${id(8)} launched at 2026-11-24T12:20:00.000Z`),
      evidence: [{ instanceId: id(8), recordIds: ['dns-sync-8-2026-11-24T12:21:00Z'] }],
    });
  });

  it('a dns-sync record that names another IP than the instance has now is not proof: read', async () => {
    const s = await withLaunch();
    await s.audit.write(
      syncRecord(8, '2026-11-24T12:21:00Z', { details: { ip: '10.0.0.99', state: 'running' } }),
    );
    expect(await s.runAt('2026-11-24T12:30:00Z')).toMatchObject({ zoneRead: true });
  });

  it('an audit query that fails reads the zone (the safe direction) and names the error', async () => {
    const broken = (a: InMemoryAuditSink): AuditStore => {
      const store = new InMemoryAuditStore(a);
      store.timeline = async () => {
        throw new Error('ProvisionedThroughputExceededException: slow down');
      };
      return store;
    };
    const s = await withLaunch({}, broken);
    const summary = await s.runAt('2026-11-24T12:30:00Z');
    expect(summary).toMatchObject({
      zoneRead: true,
      why: expect.stringContaining('ProvisionedThroughputExceededException'),
    });
    expect(aRecords(s.route53)).toContain('new.example.com. 10.0.0.8');
  });

  it('a termination dns-sync recorded as handled needs no read', async () => {
    const s = quietFleet();
    s.setNow('2026-11-24T12:21:00Z');
    s.inventory.setState(id(4), 'terminated');
    await s.audit.write(
      syncRecord(4, '2026-11-24T12:21:00Z', {
        subject: { instanceId: id(4), recordName: 'db.example.com' },
        action: 'dns.delete',
        reason: 'terminated: removed A db.example.com.; tombstone kept',
        details: { removed: [], state: 'terminated' },
      }),
    );
    expect(await s.runAt('2026-11-24T12:30:00Z')).toMatchObject({ zoneRead: false });
    expect(s.calls()).toBe(0);
  });

  it('more changed instances than EVIDENCE_MAX_INSTANCES: reads the zone without querying the audit trail', async () => {
    let queries = 0;
    const counting = (a: InMemoryAuditSink): AuditStore => {
      const store = new InMemoryAuditStore(a);
      const timeline = store.timeline.bind(store);
      store.timeline = (...args) => {
        queries++;
        return timeline(...args);
      };
      return store;
    };
    const s = await withLaunch({ evidenceMax: 0 }, counting);
    await s.audit.write(syncRecord(8, '2026-11-24T12:21:00Z'));
    expect(await s.runAt('2026-11-24T12:30:00Z')).toMatchObject({
      zoneRead: true,
      why: expect.stringContaining('more than 0 to check'),
    });
    expect(queries).toBe(0);
  });

  it('lists the fleet once per run (the read decision and the plan share one DescribeInstances listing)', async () => {
    const s = quietFleet();
    const before = s.inventory.calls;
    await s.runAt('2026-11-24T12:00:00Z');
    expect(s.inventory.calls - before).toBe(1);
  });
});

/** A ChangeResourceRecordSets to zone ZFWD as CloudTrail logs it (us-east-1), by `issuer` (undefined: an IAM user). */
function zoneChange(eventId: string, at: string, issuer: string | undefined, zone = 'ZFWD'): TrailEvent {
  const role = issuer?.split('/').at(-1) ?? 'alice';
  return {
    eventId,
    eventName: 'ChangeResourceRecordSets',
    eventSource: 'route53.amazonaws.com',
    eventTime: new Date(at).toISOString(),
    actor: issuer
      ? `arn:aws:sts::123456789012:assumed-role/${role}/session`
      : 'arn:aws:iam::123456789012:user/alice',
    region: 'us-east-1',
    resources: [],
    ...(issuer ? { sessionIssuer: issuer } : {}),
    requestParameters: { hostedZoneId: zone },
  };
}

describe('dns-reconcile reads the zone when CloudTrail shows it changed outside the fleet (issue 15)', () => {
  const daily = { fullReadEvery: 86400 };
  const ADMIN = 'arn:aws:iam::123456789012:role/Admin';

  it('a quiet run looks CloudTrail up once (EventName, us-east-1, one period plus the allowance) and reads nothing', async () => {
    const s = quietFleet(daily);
    const seen: unknown[] = [];
    const look = s.trail.lookupPage.bind(s.trail);
    s.trail.lookupPage = async (q) => {
      seen.push(q);
      return look(q);
    };
    await s.runAt('2026-11-24T12:30:00Z');
    expect(s.calls()).toBe(0);
    expect(s.cloudTrail.lookups).toBe(1);
    expect(seen[0]).toMatchObject({
      region: 'us-east-1',
      attribute: { key: 'EventName', value: 'ChangeResourceRecordSets' },
      start: new Date('2026-11-24T12:00:00Z'),
      end: new Date('2026-11-24T12:30:00Z'),
    });
  });

  it('a record deleted by hand is restored by the first run after CloudTrail delivers the change; the run record names the event', async () => {
    const s = quietFleet(daily);
    await s.runAt('2026-11-24T12:15:00Z');
    s.route53.remove('ZFWD', 'web.example.com.', 'A');
    s.trail.deliver(zoneChange('evt-hand', '2026-11-24T12:26:00Z', ADMIN), {
      region: 'us-east-1',
      delayMs: 5 * 60_000,
    });
    await s.runAt('2026-11-24T12:30:00Z'); // not delivered yet (12:31)
    expect(aRecords(s.route53)).not.toContain('web.example.com. 10.0.0.1');
    const summary = await s.runAt('2026-11-24T12:45:00Z');
    expect(summary).toMatchObject({ zoneRead: true, why: expect.stringContaining('evt-hand') });
    expect(aRecords(s.route53)).toContain('web.example.com. 10.0.0.1');
    expect(runRecord(s)?.details).toMatchObject({ trail: { foreignEventIds: ['evt-hand'] } });
  });

  it("changes by the fleet's own DNS writers need no read; the run record lists their event ids", async () => {
    const s = quietFleet(daily);
    s.trail.deliver(zoneChange('evt-sync', '2026-11-24T12:20:00Z', SYNC_ROLE), {
      region: 'us-east-1',
      delayMs: 0,
    });
    s.trail.deliver(zoneChange('evt-other-zone', '2026-11-24T12:21:00Z', ADMIN, 'ZELSE'), {
      region: 'us-east-1',
      delayMs: 0,
    });
    expect(await s.runAt('2026-11-24T12:30:00Z')).toMatchObject({ zoneRead: false });
    expect(s.calls()).toBe(0);
    expect(runRecord(s)).toMatchObject({
      decision: 'skipped',
      details: { trail: { fleetEventIds: ['evt-sync'] } },
    });
  });

  it('a failed (throttled) lookup reads the zone, the safe direction, and says why', async () => {
    const s = quietFleet(daily);
    s.cloudTrail.fail = new ThrottledError(
      'CloudTrail LookupEvents throttled in us-east-1: Rate exceeded',
      1000,
    );
    expect(await s.runAt('2026-11-24T12:30:00Z')).toMatchObject({
      zoneRead: true,
      why: expect.stringContaining('Rate exceeded'),
    });
  });

  it('the backstop full read runs once a day (FULL_READ_SECONDS 86400) whatever CloudTrail says', async () => {
    const s = quietFleet(daily);
    const reads: number[] = [];
    for (const t of [
      '2026-11-24T23:45:00Z',
      '2026-11-25T00:00:00Z',
      '2026-11-25T00:15:00Z',
      '2026-11-25T01:00:00Z',
    ]) {
      const before = s.route53.listRequests;
      await s.runAt(t);
      reads.push(s.route53.listRequests - before);
    }
    expect(reads).toEqual([0, 1, 0, 0]);
  });

  it('a run that reads anyway (the full-read slot) does not look CloudTrail up', async () => {
    const s = quietFleet(daily);
    await s.runAt('2026-11-25T00:00:00Z');
    expect(s.cloudTrail.lookups).toBe(0);
  });
});
