import { describe, expect, it } from 'vitest';
import { parseMarker } from './marker';
import {
  type ChangeUnit,
  type DnsPlanConfig,
  type InstanceFact,
  planDns,
  planTombstoneExpiry,
} from './planner';
import type { RecordSet } from './port';
import { ZoneRecords } from './zone-records';
import { ZoneSet } from './zone-set';

const zones = ZoneSet.of([
  { id: 'ZPUB', name: 'example.com', view: 'public' },
  { id: 'ZPRIV', name: 'example.com', view: 'private' },
  { id: 'ZCORP', name: 'corp.example.com' },
  { id: 'ZREV', name: '10.in-addr.arpa' },
  { id: 'ZREV1', name: '1.10.in-addr.arpa' },
]);
const config: DnsPlanConfig = { zones, ownerId: 'prod', ttl: 60 };
const I1 = 'i-0123456789abcdef0';
const T0 = '2026-11-24T10:00:00.000Z';
const T1 = '2026-11-24T11:00:00.000Z';
const running = (over: Partial<InstanceFact> = {}): InstanceFact => ({
  instanceId: I1,
  state: 'running',
  time: T0,
  source: 'event',
  name: 'web',
  privateIp: '10.1.2.3',
  publicIp: '203.0.113.7',
  optedIn: true,
  ...over,
});

/** The zones after the plan's units are applied, as zone id -> record sets. */
function applied(before: ReadonlyMap<string, RecordSet[]>, units: readonly ChangeUnit[]) {
  const out = new Map<string, RecordSet[]>();
  for (const z of zones.zones) {
    const records = new ZoneRecords(z.name, before.get(z.id) ?? []);
    for (const u of units.filter((x) => x.zoneId === z.id)) for (const c of u.changes) records.apply(c);
    out.set(z.id, records.all());
  }
  return out;
}
const empty = () => new Map(zones.zones.map((z) => [z.id, [] as RecordSet[]]));
const values = (records: RecordSet[] | undefined, type: string) =>
  (records ?? []).filter((r) => r.type === type).map((r) => `${r.name} ${r.values.join(' ')}`);
const all = (p: { forward: ChangeUnit[]; reverse: ChangeUnit[] }) => [...p.forward, ...p.reverse];

describe('planDns over several zones', () => {
  it('split horizon: the public view holds the public IP, the private view the private IP; one PTR', () => {
    const plan = planDns({ config, records: empty(), facts: [running()] });
    const after = applied(empty(), all(plan));
    expect(values(after.get('ZPUB'), 'A')).toEqual(['web.example.com. 203.0.113.7']);
    expect(values(after.get('ZPRIV'), 'A')).toEqual(['web.example.com. 10.1.2.3']);
    expect(values(after.get('ZCORP'), 'A')).toEqual([]);
    // the longest-suffix reverse zone only
    expect(values(after.get('ZREV1'), 'PTR')).toEqual(['3.2.1.10.in-addr.arpa. web.example.com.']);
    expect(values(after.get('ZREV'), 'PTR')).toEqual([]);
    // one unit per zone: batching stays one request per zone
    expect(plan.forward.map((u) => u.zoneId).sort()).toEqual(['ZPRIV', 'ZPUB']);
    expect(plan.decisions).toMatchObject([{ decision: 'acted', recordName: 'web.example.com.' }]);
  });

  it('split horizon without a public IP: no record in the public view, the private one is published', () => {
    const plan = planDns({ config, records: empty(), facts: [running({ publicIp: undefined })] });
    const after = applied(empty(), all(plan));
    expect(after.get('ZPUB')).toEqual([]);
    expect(values(after.get('ZPRIV'), 'A')).toEqual(['web.example.com. 10.1.2.3']);
    expect(plan.decisions[0]).toMatchObject({
      decision: 'acted',
      details: { noRecord: [{ zoneId: 'ZPUB', view: 'public', why: 'no public IP' }] },
    });
  });

  it('a public IP lost later removes the public view record only', () => {
    const before = applied(empty(), all(planDns({ config, records: empty(), facts: [running()] })));
    const plan = planDns({
      config,
      records: before,
      facts: [running({ publicIp: undefined, time: T1, source: 'observation' })],
    });
    const after = applied(before, all(plan));
    expect(after.get('ZPUB')).toEqual([]);
    expect(values(after.get('ZPRIV'), 'A')).toEqual(['web.example.com. 10.1.2.3']);
  });

  it('a name goes to its longest-suffix zone, and a rename moves it out of the other zones', () => {
    const before = applied(empty(), all(planDns({ config, records: empty(), facts: [running()] })));
    const plan = planDns({
      config,
      records: before,
      facts: [running({ name: 'db.corp.example.com', time: T1, renameOnly: true })],
    });
    const after = applied(before, all(plan));
    expect(values(after.get('ZCORP'), 'A')).toEqual(['db.corp.example.com. 10.1.2.3']);
    expect(values(after.get('ZPUB'), 'A')).toEqual([]);
    expect(values(after.get('ZPRIV'), 'A')).toEqual([]);
    expect(values(after.get('ZREV1'), 'PTR')).toEqual(['3.2.1.10.in-addr.arpa. db.corp.example.com.']);
  });

  it('refuses a name under no zone, saying which zones there are', () => {
    const plan = planDns({ config, records: empty(), facts: [running({ name: 'web.example.org' })] });
    expect(all(plan)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({
      decision: 'refused',
      details: { refusal: 'outside-zone' },
      reason: expect.stringContaining('not inside any configured zone (example.com., corp.example.com.)'),
    });
  });

  it('a leaving instance loses its records in every zone, tombstones in both views, and they expire', () => {
    const before = applied(empty(), all(planDns({ config, records: empty(), facts: [running()] })));
    const gone = running({ state: 'terminated', time: T1, privateIp: undefined, publicIp: undefined });
    const after = applied(before, all(planDns({ config, records: before, facts: [gone] })));
    for (const id of ['ZPUB', 'ZPRIV']) {
      expect(values(after.get(id), 'A')).toEqual([]);
      const tomb = after.get(id)?.find((r) => r.type === 'TXT');
      expect(parseMarker(tomb?.values[0] ?? '')).toMatchObject({ state: 'terminated', value: undefined });
    }
    expect(after.get('ZREV1')).toEqual([]);
    const sweep = planTombstoneExpiry({
      config,
      records: after,
      now: new Date('2026-11-26T00:00:00.000Z'),
      tombstoneMs: 3_600_000,
    });
    expect(sweep.forward.map((u) => u.zoneId).sort()).toEqual(['ZPRIV', 'ZPUB']);
  });

  it('a name held by another instance in one view refuses the instance (no half-published horizon)', () => {
    const other = applied(
      empty(),
      all(planDns({ config, records: empty(), facts: [running({ instanceId: 'i-0fedcba9876543210' })] })),
    );
    other.set('ZPRIV', []);
    const plan = planDns({ config, records: other, facts: [running()] });
    expect(all(plan)).toEqual([]);
    expect(plan.decisions[0]).toMatchObject({ decision: 'refused', details: { refusal: 'not-owned' } });
  });
});
