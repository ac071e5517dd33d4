import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { type ApplyPolicy, packRequests, sendWithBackoff, syncDns } from './apply';
import { DnsConflictError, InvalidChangeBatchError, Route53BusyError, Route53Error } from './errors';
import { InMemoryRoute53 } from './in-memory-route53';
import { formatMarker } from './marker';
import { type DnsPlanConfig, type InstanceFact, planDns } from './planner';
import type { RecordChange, RecordSet, Route53Port } from './port';
import { forwardNamesOf, reverseNamesOf } from './touched-names';
import { ZoneSet } from './zone-set';

const zones = ZoneSet.of([{ id: 'Z1', name: 'example.com' }]);
const config: DnsPlanConfig = { zones, ownerId: 'prod', ttl: 60 };
const sleeps: number[] = [];
const policy: ApplyPolicy = {
  maxAttempts: 5,
  baseMs: 100,
  capMs: 2000,
  sleep: async (ms) => {
    sleeps.push(ms);
  },
  random: () => 0.5,
};
const id = (n: number) => `i-${String(n).padStart(17, '0')}`;
const running = (n: number): InstanceFact => ({
  instanceId: id(n),
  state: 'running',
  time: '2026-11-24T10:00:00.000Z',
  source: 'event',
  name: `h${n}`,
  privateIp: `10.0.${Math.floor(n / 250)}.${n % 250}`,
});
const txtChange = (n: number, chars: number): RecordChange => ({
  action: 'CREATE',
  record: { name: `t${n}.example.com.`, type: 'TXT', ttl: 60, values: [`"${'x'.repeat(chars - 2)}"`] },
});

describe('packRequests', () => {
  it('keeps everything in one request when within the limits', () => {
    const units = [0, 1, 2].map((n) => ({
      instanceId: id(n),
      zoneId: 'Z1',
      changes: [txtChange(n, 100), txtChange(n + 10, 100)],
    }));
    expect(packRequests(units)).toHaveLength(1);
  });

  it('splits at 1,000 records and 32,000 characters without splitting a unit', () => {
    const byRecords = Array.from({ length: 600 }, (_, n) => ({
      instanceId: id(n),
      changes: [txtChange(2 * n, 10), txtChange(2 * n + 1, 10)],
    }));
    const r = packRequests(byRecords);
    expect(r.map((req) => req.flatMap((u) => u.changes).length)).toEqual([1000, 200]);
    const byChars = Array.from({ length: 40 }, (_, n) => ({
      instanceId: id(n),
      changes: [txtChange(n, 1000)],
    }));
    expect(packRequests(byChars).map((req) => req.length)).toEqual([32, 8]);
  });
});

describe('sendWithBackoff', () => {
  it('retries Throttling and PriorRequestNotComplete with jittered, growing, capped sleeps', async () => {
    sleeps.length = 0;
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    fake.failNext('Throttling', 2);
    fake.failNext('PriorRequestNotComplete', 1);
    const out = await sendWithBackoff(fake, 'Z1', [txtChange(1, 10)], policy);
    expect(out.attempts).toBe(4);
    expect(sleeps).toEqual([50, 100, 200]);
  });

  it("stops retrying when the next sleep would eat into the invocation's reserve (Lambda time left)", async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    fake.failNext('Throttling', 10);
    let clock = 0;
    const slept: number[] = [];
    const budgeted: ApplyPolicy = {
      ...policy,
      maxAttempts: 10,
      baseMs: 1000,
      capMs: 8000,
      random: () => 1,
      sleep: async (ms) => {
        slept.push(ms);
        clock += ms;
      },
      remainingMs: () => 20_000 - clock,
      reserveMs: 10_000,
    };
    const err = await sendWithBackoff(fake, 'Z1', [txtChange(1, 10)], budgeted).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as Error).message).toContain('time');
    // 1 s, 2 s, 4 s fit in the 10 s left above the reserve; 8 s more would not
    expect(slept).toEqual([1000, 2000, 4000]);
  });

  it('gives up with ThrottledError after the bounded attempts', async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    fake.failNext('Throttling', 10);
    const err = await sendWithBackoff(fake, 'Z1', [txtChange(1, 10)], policy).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as Error).message).toContain('5 attempts');
    expect((err as Error).cause).toBeDefined();
  });
});

describe('syncDns', () => {
  it('applies a burst in one request per zone', async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    const facts = Array.from({ length: 200 }, (_, n) => running(n));
    const result = await syncDns({
      port: fake,
      zones,
      policy,
      plan: (records) => planDns({ config, records, facts }),
    });
    expect(fake.changeRequests).toHaveLength(1);
    expect(result.requests).toHaveLength(1);
    expect(result.decisions.filter((d) => d.decision === 'acted')).toHaveLength(200);
  });

  it('treats "not found" on DELETE as done: re-reads, re-plans, audits why', async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    const now = '2026-11-24T10:00:00.000Z';
    const mk = formatMarker({
      owner: 'prod',
      instanceId: id(1),
      type: 'A',
      value: '10.0.0.1',
      state: 'running',
      time: now,
    });
    const a: RecordSet = { name: 'h1.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1'] };
    fake.seed('Z1', [a, { name: '_fleetwarden.h1.example.com.', type: 'TXT', ttl: 60, values: [mk] }]);
    // someone else removes the A record between our read and our write
    const racing: Route53Port = {
      listRecordSets: (z) => fake.listRecordSets(z),
      listPage: (z, start, max) => fake.listPage(z, start, max),
      changeRecordSets: async (z, c) => {
        if (fake.changeRequests.length === 0) fake.remove('Z1', 'h1.example.com.', 'A');
        return fake.changeRecordSets(z, c);
      },
    };
    const terminated: InstanceFact = {
      instanceId: id(1),
      state: 'terminated',
      time: '2026-11-24T10:05:00.000Z',
      source: 'event',
    };
    const result = await syncDns({
      port: racing,
      zones,
      policy,
      plan: (records) => planDns({ config, records, facts: [terminated] }),
    });
    expect(fake.records('Z1').filter((r) => r.type === 'A')).toEqual([]);
    expect(result.replans).toBe(1);
    expect(result.decisions[0]).toMatchObject({
      decision: 'acted',
      details: { replannedAfter: [expect.objectContaining({ kind: 'not-found' })] },
    });
  });

  it('re-reads on "values do not match" and leaves the value a human wrote (never deletes it)', async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    const mk = formatMarker({
      owner: 'prod',
      instanceId: id(1),
      type: 'A',
      value: '10.0.0.1',
      state: 'running',
      time: '2026-11-24T10:00:00.000Z',
    });
    const ours: RecordSet = { name: 'h1.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1'] };
    const human: RecordSet = { name: 'h1.example.com.', type: 'A', ttl: 60, values: ['192.0.2.7'] };
    fake.seed('Z1', [ours, { name: '_fleetwarden.h1.example.com.', type: 'TXT', ttl: 60, values: [mk] }]);
    const racing: Route53Port = {
      listRecordSets: (z) => fake.listRecordSets(z),
      listPage: (z, start, max) => fake.listPage(z, start, max),
      changeRecordSets: async (z, c) => {
        // a human repoints the name between our read and our DELETE
        if (fake.changeRequests.length === 0) fake.seed('Z1', [human]);
        return fake.changeRecordSets(z, c);
      },
    };
    const terminated: InstanceFact = {
      instanceId: id(1),
      state: 'terminated',
      time: '2026-11-24T10:05:00.000Z',
      source: 'event',
    };
    const result = await syncDns({
      port: racing,
      zones,
      policy,
      plan: (records) => planDns({ config, records, facts: [terminated] }),
    });
    expect(fake.changeRequests[0]?.outcome).toBe('rejected');
    expect(fake.records('Z1').filter((r) => r.type === 'A')).toEqual([human]);
    expect(result.replans).toBe(1);
    expect(result.decisions[0]).toMatchObject({
      decision: 'refused',
      details: { replannedAfter: [expect.objectContaining({ kind: 'values-mismatch' })] },
    });
  });

  it('re-reads on "already exists" and never forces a foreign write', async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    const racing: Route53Port = {
      listRecordSets: (z) => fake.listRecordSets(z),
      listPage: (z, start, max) => fake.listPage(z, start, max),
      changeRecordSets: async (z, c) => {
        // a human creates the same name just before our write
        if (fake.changeRequests.length === 0)
          fake.seed('Z1', [{ name: 'h1.example.com.', type: 'A', ttl: 300, values: ['192.0.2.1'] }]);
        return fake.changeRecordSets(z, c);
      },
    };
    const result = await syncDns({
      port: racing,
      zones,
      policy,
      plan: (records) => planDns({ config, records, facts: [running(1)] }),
    });
    expect(fake.records('Z1')).toEqual([
      { name: 'h1.example.com.', type: 'A', ttl: 300, values: ['192.0.2.1'] },
    ]);
    expect(result.decisions[0]?.decision).toBe('refused');
  });

  it('isolates a change Route 53 rejects for another reason: only that instance fails, the rest is written', async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    const rejecting: Route53Port = {
      listRecordSets: (z) => fake.listRecordSets(z),
      listPage: (z, start, max) => fake.listPage(z, start, max),
      changeRecordSets: async (z, c) => {
        // something Route 53 refuses that neither the planner nor the fake foresaw
        if (c.some((x) => x.record.name === 'h37.example.com.'))
          throw new InvalidChangeBatchError(["Invalid Resource Record: 'FATAL problem: something new'"]);
        return fake.changeRecordSets(z, c);
      },
    };
    const facts = Array.from({ length: 200 }, (_, n) => running(n));
    const result = await syncDns({
      port: rejecting,
      zones,
      policy,
      plan: (records) => planDns({ config, records, facts }),
    });
    expect(result.failures.map((f) => f.instanceId)).toEqual([id(37)]);
    expect(result.failures[0]?.error).toBeInstanceOf(InvalidChangeBatchError);
    expect(fake.records('Z1').filter((r) => r.type === 'A')).toHaveLength(199);
    expect(result.decisions.filter((d) => d.decision === 'acted')).toHaveLength(199);
    expect(result.decisions.some((d) => d.instanceId === id(37))).toBe(false);
    // bisection: about 2 log2(200) requests, not one per instance
    expect(fake.changeRequests.length).toBeLessThanOrEqual(16);
  });

  it('isolateFailures: a request that fails (AccessDenied) fails only its instances, unbisected; else it throws', async () => {
    const two = ZoneSet.of([
      { id: 'Z1', name: 'a.example.com' },
      { id: 'Z2', name: 'b.example.com' },
    ]);
    const cfg: DnsPlanConfig = { zones: two, ownerId: 'prod', ttl: 60 };
    const facts = [1, 2, 3].map((n) => ({ ...running(n), name: `h${n}.${n === 1 ? 'a' : 'b'}.example.com` }));
    const sync = (isolateFailures: boolean) => {
      const fake = new InMemoryRoute53().addZone('Z1', 'a.example.com').addZone('Z2', 'b.example.com');
      let z2Calls = 0;
      const port: Route53Port = {
        listRecordSets: (z) => fake.listRecordSets(z),
        listPage: (z, start, max) => fake.listPage(z, start, max),
        changeRecordSets: async (z, c) => {
          if (z !== 'Z2') return fake.changeRecordSets(z, c);
          z2Calls++;
          throw new Route53Error('ChangeResourceRecordSets Z2 failed: AccessDenied: not authorized');
        },
      };
      const run = syncDns({
        port,
        zones: two,
        policy,
        isolateFailures,
        plan: (records) => planDns({ config: cfg, records, facts }),
      });
      return { run, fake, z2Calls: () => z2Calls };
    };
    const isolated = sync(true);
    const result = await isolated.run;
    expect(result.failures.map((f) => [f.instanceId, f.zoneId])).toEqual([
      [id(2), 'Z2'],
      [id(3), 'Z2'],
    ]);
    expect(result.failures[0]?.error).toBeInstanceOf(Route53Error);
    expect(isolated.z2Calls()).toBe(1);
    expect(result.decisions.map((d) => [d.instanceId, d.decision])).toEqual([[id(1), 'acted']]);
    expect(isolated.fake.records('Z1').filter((r) => r.type === 'A')).toHaveLength(1);
    await expect(sync(false).run).rejects.toBeInstanceOf(Route53Error);
  });

  it("isolateFailures: once throttled (Route 53's rate is per account), the other zones' requests are failed unsent", async () => {
    const three = ZoneSet.of(['a', 'b', 'c'].map((z, k) => ({ id: `Z${k + 1}`, name: `${z}.example.com` })));
    const cfg: DnsPlanConfig = { zones: three, ownerId: 'prod', ttl: 60 };
    const facts = [1, 2, 3].map((n) => ({ ...running(n), name: `h${n}.${'abc'[n - 1]}.example.com` }));
    const fake = new InMemoryRoute53()
      .addZone('Z1', 'a.example.com')
      .addZone('Z2', 'b.example.com')
      .addZone('Z3', 'c.example.com');
    const busy = (code: 'Throttling' | 'PriorRequestNotComplete') => {
      const sent: string[] = [];
      const port: Route53Port = {
        listRecordSets: (z) => fake.listRecordSets(z),
        listPage: (z, start, max) => fake.listPage(z, start, max),
        changeRecordSets: async (z) => {
          sent.push(z);
          throw new Route53BusyError(code, `ChangeResourceRecordSets: ${code}`);
        },
      };
      const run = syncDns({
        port,
        zones: three,
        policy,
        isolateFailures: true,
        plan: (records) => planDns({ config: cfg, records, facts }),
      });
      return { run, sent };
    };
    // PriorRequestNotComplete is one zone's: every zone's request still goes out
    const zoneBusy = busy('PriorRequestNotComplete');
    expect((await zoneBusy.run).failures).toHaveLength(3);
    expect(new Set(zoneBusy.sent)).toEqual(new Set(['Z1', 'Z2', 'Z3']));
    const throttled = busy('Throttling');
    const result = await throttled.run;
    // the first zone's request spends the attempts; the others are never sent
    expect(throttled.sent).toEqual(Array(policy.maxAttempts).fill('Z1'));
    expect(result.failures.map((f) => [f.instanceId, f.zoneId])).toEqual([
      [id(1), 'Z1'],
      [id(2), 'Z2'],
      [id(3), 'Z3'],
    ]);
    for (const f of result.failures) expect(f.error).toBeInstanceOf(ThrottledError);
    expect(result.requests).toEqual([]);
  });

  it("isolateFailures: Throttling in one zone account fails unsent only that account's zones", async () => {
    // Z1 and Z3 live in a network account (its own Route 53 rate), Z2 in the fleet's own account
    const mixed = ZoneSet.of([
      { id: 'Z1', name: 'a.example.com', account: '333333333333' },
      { id: 'Z2', name: 'b.example.com' },
      { id: 'Z3', name: 'c.example.com', account: '333333333333' },
    ]);
    const cfg: DnsPlanConfig = { zones: mixed, ownerId: 'prod', ttl: 60 };
    const facts = [1, 2, 3].map((n) => ({ ...running(n), name: `h${n}.${'abc'[n - 1]}.example.com` }));
    const fake = new InMemoryRoute53()
      .addZone('Z1', 'a.example.com')
      .addZone('Z2', 'b.example.com')
      .addZone('Z3', 'c.example.com');
    const sent: string[] = [];
    const port: Route53Port = {
      listRecordSets: (z) => fake.listRecordSets(z),
      listPage: (z, start, max) => fake.listPage(z, start, max),
      changeRecordSets: async (z, changes) => {
        sent.push(z);
        if (z === 'Z1') throw new Route53BusyError('Throttling', 'ChangeResourceRecordSets: Rate exceeded');
        return fake.changeRecordSets(z, changes);
      },
    };
    const result = await syncDns({
      port,
      zones: mixed,
      policy,
      isolateFailures: true,
      plan: (records) => planDns({ config: cfg, records, facts }),
    });
    expect(result.failures.map((f) => [f.instanceId, f.zoneId])).toEqual([
      [id(1), 'Z1'],
      [id(3), 'Z3'],
    ]);
    // Z2 (another account) is still sent; Z3 (the throttled account's) is not
    expect(sent).toEqual([...Array(policy.maxAttempts).fill('Z1'), 'Z2']);
    expect(result.requests.map((r) => [r.zoneId, r.instanceIds])).toEqual([['Z2', [id(2)]]]);
  });

  it('stops with DnsConflictError when the zone never settles', async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    let n = 0;
    const hostile: Route53Port = {
      listRecordSets: (z) => fake.listRecordSets(z),
      listPage: (z, start, max) => fake.listPage(z, start, max),
      changeRecordSets: async () => {
        fake.seed('Z1', [
          { name: `_fleetwarden.h1.example.com.`, type: 'TXT', ttl: 60, values: [`"noise ${n++}"`] },
        ]);
        fake.remove('Z1', '_fleetwarden.h1.example.com.', 'TXT');
        fake.seed('Z1', [{ name: 'h1.example.com.', type: 'A', ttl: 60, values: [`10.9.9.${n}`] }]);
        fake.remove('Z1', 'h1.example.com.', 'A');
        throw new (await import('./errors')).InvalidChangeBatchError([
          "Tried to delete resource record set [name='h1.example.com.', type='A'] but the values provided do not match the current values",
        ]);
      },
    };
    const err = await syncDns({
      port: hostile,
      zones,
      policy,
      plan: (records) => planDns({ config, records, facts: [running(1)] }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsConflictError);
  });

  it('in dry-run mode reads and plans but writes nothing', async () => {
    const fake = new InMemoryRoute53().addZone('Z1', 'example.com');
    const result = await syncDns({
      port: fake,
      zones,
      policy,
      dryRun: true,
      plan: (records) => planDns({ config, records, facts: [running(1)] }),
    });
    expect(fake.changeRequests).toEqual([]);
    expect(result.planned.forward).toHaveLength(1);
  });
});

describe('syncDns over several zones', () => {
  const split = ZoneSet.of([
    { id: 'ZPUB', name: 'example.com', view: 'public' },
    { id: 'ZPRIV', name: 'example.com', view: 'private' },
    { id: 'ZCORP', name: 'corp.example.com' },
    { id: 'ZREV', name: '10.in-addr.arpa' },
  ]);
  const splitConfig: DnsPlanConfig = { zones: split, ownerId: 'prod', ttl: 60 };
  const fake = () =>
    new InMemoryRoute53()
      .addZone('ZPUB', 'example.com')
      .addZone('ZPRIV', 'example.com')
      .addZone('ZCORP', 'corp.example.com')
      .addZone('ZREV', '10.in-addr.arpa');

  it('writes one request per zone per batch, reading only the touched names of each zone', async () => {
    const r53 = fake();
    const facts = [1, 2, 3].map((n) => ({
      ...running(n),
      name: n === 3 ? 'db.corp.example.com' : `h${n}`,
      publicIp: `203.0.113.${n}`,
    }));
    const result = await syncDns({
      port: r53,
      zones: split,
      policy,
      plan: (records) => planDns({ config: splitConfig, records, facts }),
      names: {
        forward: (reverse) => forwardNamesOf(facts, splitConfig, reverse),
        reverse: (forward) => reverseNamesOf(facts, splitConfig, forward),
      },
    });
    expect(result.requests.map((q) => q.zoneId).sort()).toEqual(['ZCORP', 'ZPRIV', 'ZPUB', 'ZREV']);
    const a = async (zoneId: string) =>
      (await r53.listRecordSets(zoneId)).filter((x) => x.type === 'A').map((x) => `${x.name} ${x.values[0]}`);
    expect(await a('ZPUB')).toEqual(['h1.example.com. 203.0.113.1', 'h2.example.com. 203.0.113.2']);
    expect(await a('ZPRIV')).toEqual(['h1.example.com. 10.0.0.1', 'h2.example.com. 10.0.0.2']);
    expect(await a('ZCORP')).toEqual(['db.corp.example.com. 10.0.0.3']);
    expect((await r53.listRecordSets('ZREV')).filter((x) => x.type === 'PTR')).toHaveLength(3);
  });
});
