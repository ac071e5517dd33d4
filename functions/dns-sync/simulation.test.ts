import type { Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../cli/simulate/rng';
import { type Invoke, World, wireFunction } from '../../cli/simulate/world';
import { ptrNameFor } from '../../shared/dns/names';
import type { RecordSet } from '../../shared/dns/port';
import { sqsRecord, stateChangeEvent, tagChangeEvent } from '../../shared/dns/testing/state-change-event';
import { ZoneSet, zonesSettingValue } from '../../shared/dns/zone-set';
import type { InstanceInfo } from '../../shared/ec2/port';

/**
 * Several zones in the simulator's world (issue 16): dns-sync and dns-reconcile wired from a
 * synthesized-like environment with ZONES (a split horizon of fleet.example.com, a second forward
 * zone corp.example.com, a reverse zone), driven by a seeded run of launches, renames across zones,
 * public IPs coming and going, stops, starts and terminations, delivered in shuffled, duplicated
 * batches with some events lost. After reconcile the DNS invariants hold per zone and per view.
 */
const ZONES = [
  { id: 'ZPUB', name: 'fleet.example.com', view: 'public' as const },
  { id: 'ZPRIV', name: 'fleet.example.com', view: 'private' as const },
  { id: 'ZCORP', name: 'corp.example.com' },
  { id: 'ZREV', name: '10.in-addr.arpa' },
];
const SET = ZoneSet.of(ZONES);
const NAME_TAG = 'fleetwarden:dns-name';
const ENV = {
  AUDIT_TABLE_NAME: 'sim-AuditTable',
  QUEUE_URL: 'sim-DnsSyncQueue',
  ZONES: zonesSettingValue(ZONES),
  OWNER_ID: 'fleetwarden-sim',
};
const FOREIGN: Record<string, RecordSet[]> = {
  ZPUB: [{ name: 'legacy.fleet.example.com.', type: 'A', ttl: 300, values: ['192.0.2.10'] }],
  ZPRIV: [{ name: 'legacy.fleet.example.com.', type: 'A', ttl: 300, values: ['10.9.9.9'] }],
  ZCORP: [{ name: 'mail.corp.example.com.', type: 'TXT', ttl: 300, values: ['"v=spf1 -all"'] }],
};

interface Truth extends InstanceInfo {
  n: number;
}

/** One seeded run: returns the world and the ground truth. */
async function run(seed: number) {
  const clock = { now: Date.parse('2026-11-24T08:00:00Z') };
  const rand = seededRandom(seed);
  const w = new World(clock, rand);
  for (const z of ZONES) w.route53.addZone(z.id, z.name, FOREIGN[z.id] ?? []);
  const sync = wireFunction(
    { logicalId: 'Dns', entry: 'functions/dns-sync/index.ts', env: ENV },
    w,
  ) as Invoke;
  const reconcile = wireFunction(
    { logicalId: 'DnsReconcile', entry: 'functions/dns-reconcile/index.ts', env: ENV },
    w,
  ) as Invoke;
  // one ChangeResourceRecordSets per zone per batch
  const perZone = new Map<string, number>();
  const written = new Set<string>();
  const change = w.route53.changeRecordSets.bind(w.route53);
  w.route53.changeRecordSets = async (zoneId, changes) => {
    perZone.set(zoneId, (perZone.get(zoneId) ?? 0) + 1);
    written.add(zoneId);
    return change(zoneId, changes);
  };
  const truth = new Map<string, Truth>();
  let pending: unknown[] = [];
  let names = 0;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const freshName = () => (rand() < 0.5 ? `web-${names++}` : `db-${names++}.corp.example.com`);
  const put = (t: Truth) => w.inventory.put({ ...t, tags: { ...t.tags } });
  const emit = (event: unknown) => {
    if (rand() < 0.1) return; // lost: reconcile repairs it
    pending.push(event);
    if (rand() < 0.2) pending.push(event); // at-least-once delivery
  };
  let batches = 0;
  let maxPerZone = 0;
  const deliver = async () => {
    clock.now += 5_000; // past DescribeInstances' lag
    const records = pending
      .map((e, i) => ({ e, k: rand(), i }))
      .sort((a, b) => a.k - b.k)
      .map(({ e, i }) => sqsRecord(e, `m-${batches}-${i}`, clock.now));
    pending = [];
    if (records.length === 0) return;
    perZone.clear();
    batches++;
    await sync({ Records: records } as SQSEvent, {} as Context);
    maxPerZone = Math.max(maxPerZone, ...perZone.values(), 0);
  };
  for (let step = 0; step < 60; step++) {
    clock.now += 1_000 + Math.floor(rand() * 20_000);
    const live = [...truth.values()].filter((t) => t.state !== 'terminated');
    const roll = rand();
    if (live.length < 3 || roll < 0.25) {
      const n = truth.size + 1;
      const t: Truth = {
        n,
        instanceId: `i-${n.toString(16).padStart(17, '0')}`,
        state: 'running',
        privateIp: `10.${n % 3}.${Math.floor(n / 250)}.${(n % 250) + 1}`,
        ...(rand() < 0.6 ? { publicIp: `203.0.113.${n}` } : {}),
        tags: { [NAME_TAG]: freshName() },
      };
      truth.set(t.instanceId, t);
      put(t);
      emit(stateChangeEvent(t.instanceId, 'running', clock.now));
    } else {
      const t = pick(live);
      if (t.state === 'running' && roll < 0.45) {
        t.tags[NAME_TAG] = freshName();
        put(t);
        emit(tagChangeEvent(t.instanceId, [NAME_TAG], t.tags, clock.now));
      } else if (t.state === 'running' && roll < 0.55) {
        // a public IP comes or goes (an Elastic IP associated or released), seen by reconcile
        if (t.publicIp) delete t.publicIp;
        else t.publicIp = `198.51.100.${t.n}`;
        put(t);
      } else if (t.state === 'running' && roll < 0.75) {
        t.state = 'stopped';
        put(t);
        emit(stateChangeEvent(t.instanceId, 'stopped', clock.now));
      } else if (t.state === 'stopped' && roll < 0.75) {
        t.state = 'running';
        put(t);
        emit(stateChangeEvent(t.instanceId, 'running', clock.now));
      } else {
        t.state = 'terminated';
        put(t);
        delete t.privateIp;
        delete t.publicIp;
        emit(stateChangeEvent(t.instanceId, 'terminated', clock.now));
      }
    }
    if (rand() < 0.3) await deliver();
  }
  await deliver();
  clock.now += 10 * 60_000; // past the settle window: observations win over lost events
  await reconcile(
    {
      version: '0',
      id: `sched-${seed}`,
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '123456789012',
      time: new Date(clock.now).toISOString(),
      region: 'eu-west-1',
      resources: [],
      detail: {},
    },
    {} as Context,
  );
  return { w, truth, batches, maxPerZone, written };
}

const a = (records: RecordSet[], type: string) =>
  records.filter((r) => r.type === type).map((r) => `${r.name} ${r.values.join(' ')}`);

/** Every zone's A/PTR records as the ground truth says they must be, foreign ones included. */
function expected(truth: Map<string, Truth>): Map<string, { A: string[]; PTR: string[] }> {
  const out = new Map(ZONES.map((z) => [z.id, { A: a(FOREIGN[z.id] ?? [], 'A'), PTR: [] as string[] }]));
  for (const t of truth.values()) {
    if (t.state !== 'running') continue;
    const r = SET.resolve(t.tags[NAME_TAG] ?? t.instanceId);
    if (!r.ok) continue;
    for (const z of r.zones) {
      const ip = z.view === 'public' ? t.publicIp : t.privateIp;
      if (ip) out.get(z.id)?.A.push(`${r.fqdn} ${ip}`);
    }
    if (t.privateIp) out.get('ZREV')?.PTR.push(`${ptrNameFor(t.privateIp)} ${r.fqdn}`);
  }
  for (const v of out.values()) {
    v.A.sort();
    v.PTR.sort();
  }
  return out;
}

describe('several zones in the simulated world: split horizon, two forward zones, a reverse zone', () => {
  it.each([1, 2, 3])(
    'seed %i: after reconcile every zone holds exactly the records the fleet says',
    async (seed) => {
      const { w, truth, batches, maxPerZone, written } = await run(seed);
      expect(batches).toBeGreaterThan(3);
      // the run wrote to both views, both forward zones and the reverse zone
      expect([...written].sort()).toEqual(['ZCORP', 'ZPRIV', 'ZPUB', 'ZREV']);
      for (const [zoneId, want] of expected(truth)) {
        const records = w.route53.records(zoneId);
        expect(a(records, 'A').sort(), `A records of ${zoneId}`).toEqual(want.A);
        expect(a(records, 'PTR').sort(), `PTR records of ${zoneId}`).toEqual(want.PTR);
      }
      // foreign records untouched
      expect(w.route53.records('ZCORP').filter((r) => r.name === 'mail.corp.example.com.')).toEqual(
        FOREIGN.ZCORP,
      );
      // Route 53 batching stays one request per zone per batch
      expect(maxPerZone).toBe(1);
    },
  );
});
