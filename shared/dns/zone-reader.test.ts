import { describe, expect, it } from 'vitest';
import type { ApplyPolicy } from './apply';
import { InMemoryRoute53 } from './in-memory-route53';
import { markerNameFor } from './names';
import type { ListStart, RecordSet, Route53Port } from './port';
import { ROUTE53_ACCOUNT_RATE, Route53Pace, readNames, readZone } from './zone-reader';

const policy = (sleeps: number[] = []): ApplyPolicy => ({
  maxAttempts: 5,
  baseMs: 100,
  capMs: 2000,
  sleep: async (ms) => {
    sleeps.push(ms);
  },
  random: () => 0.5,
});
const a = (name: string, ip = '10.0.0.1'): RecordSet => ({ name, type: 'A', ttl: 60, values: [ip] });
const marker = (name: string): RecordSet => ({
  name: markerNameFor(name),
  type: 'TXT',
  ttl: 60,
  values: [
    '"heritage=fleetwarden,owner=o,instance=i-00000000000000001,type=A,value=10.0.0.1,state=running,t=2026-11-24T10:00:00.000Z"',
  ],
});
/** A zone of `size` record sets: `size / 2` hosts web-<k>, each an A record and its marker. */
function zoneOf(size: number): InMemoryRoute53 {
  const records = Array.from({ length: size / 2 }, (_, k) => [
    a(`web-${k}.example.com.`),
    marker(`web-${k}.example.com.`),
  ]).flat();
  return new InMemoryRoute53().addZone('Z1', 'example.com', records);
}
const touched = (names: string[]) => names.flatMap((n) => [n, markerNameFor(n)]);

describe('readNames: ListResourceRecordSets from StartRecordName, only where the batch touches', () => {
  it('returns the record sets at the touched names (and nothing half-read) in a few calls', async () => {
    const fake = zoneOf(10_000);
    const names = touched(['web-17.example.com.', 'web-4242.example.com.', 'nothere.example.com.']);
    const records = await readNames(fake, 'Z1', names, { policy: policy() });
    const at = (n: string) => records.filter((r) => r.name === n).map((r) => r.type);
    expect(at('web-17.example.com.')).toEqual(['A']);
    expect(at('_fleetwarden.web-17.example.com.')).toEqual(['TXT']);
    expect(at('web-4242.example.com.')).toEqual(['A']);
    expect(at('_fleetwarden.web-4242.example.com.')).toEqual(['TXT']);
    // every marker returned comes with the name it guards, read in full
    for (const r of records.filter((x) => x.name.startsWith('_fleetwarden.'))) {
      expect(records.some((x) => x.type === 'A' && `_fleetwarden.${x.name}` === r.name)).toBe(true);
    }
    expect(fake.listRequests).toBeLessThanOrEqual(3);
  });

  it('makes the same number of calls for a burst of new names in a 1k and a 100k zone', async () => {
    const calls = async (size: number) => {
      const fake = zoneOf(size);
      const fresh = Array.from({ length: 200 }, (_, n) => `web-${size / 2 + n}.example.com.`);
      await readNames(fake, 'Z1', touched(fresh), { policy: policy() });
      return fake.listRequests;
    };
    const small = await calls(1000);
    const large = await calls(100_000);
    expect(small).toBeLessThanOrEqual(3);
    expect(large).toBeLessThanOrEqual(2 * small);
  });

  it('resumes a throttled page from that page, not from the first', async () => {
    const fake = new InMemoryRoute53().addZone(
      'Z1',
      'example.com',
      Array.from({ length: 650 }, (_, i) => ({
        name: 'w.example.com.',
        type: 'A',
        ttl: 60,
        values: ['10.0.0.1'],
        setIdentifier: `s${String(i).padStart(3, '0')}`,
        weight: 1,
      })),
    );
    const starts: (ListStart | undefined)[] = [];
    let call = 0;
    const port: Route53Port = {
      listRecordSets: (z) => fake.listRecordSets(z),
      changeRecordSets: (z, c) => fake.changeRecordSets(z, c),
      listPage: (z, start, max) => {
        starts.push(start);
        if (++call === 3) fake.failNext('Throttling');
        return fake.listPage(z, start, max);
      },
    };
    const records = await readNames(port, 'Z1', touched(['w.example.com.']), { policy: policy() });
    expect(records.filter((r) => r.name === 'w.example.com.')).toHaveLength(650);
    expect(starts[3]).toEqual(starts[2]);
    expect(starts[2]).toMatchObject({ name: 'w.example.com.', type: 'A' });
    expect(starts.filter((s) => s === undefined || s.type === undefined)).toHaveLength(1);
  });

  it("paces its calls under the account's 5 requests/s shared by the concurrent callers", async () => {
    let now = 0;
    const sleeps: number[] = [];
    const pace = new Route53Pace(
      ROUTE53_ACCOUNT_RATE / 3,
      () => now,
      async (ms) => {
        sleeps.push(ms);
        now += ms;
      },
    );
    const fake = zoneOf(10_000);
    const names = touched(['web-1.example.com.', 'web-2000.example.com.', 'web-3999.example.com.']);
    await readNames(fake, 'Z1', names, { policy: policy(), pace });
    expect(fake.listRequests).toBe(3);
    expect(now).toBeGreaterThanOrEqual(2 * 600);
  });
});

describe('readZone: every page, paced, resumable', () => {
  it('reads a whole zone and resumes a throttled page from that page', async () => {
    const fake = zoneOf(1000);
    const starts: (ListStart | undefined)[] = [];
    let call = 0;
    const port: Route53Port = {
      listRecordSets: (z) => fake.listRecordSets(z),
      changeRecordSets: (z, c) => fake.changeRecordSets(z, c),
      listPage: (z, start, max) => {
        starts.push(start);
        if (++call === 3) fake.failNext('Throttling');
        return fake.listPage(z, start, max);
      },
    };
    const records = await readZone(port, 'Z1', { policy: policy() });
    expect(records).toHaveLength(1000);
    expect(starts).toHaveLength(5);
    expect(starts[3]).toEqual(starts[2]);
    expect(starts[2]).toBeDefined();
  });
});
