import { describe, expect, it } from 'vitest';
import { DEPLOYED, NAIVE, simulateBurst } from './dns-burst.bench';

describe('dns burst (1,000 instances running within 10 s, batching as deployed)', () => {
  for (const withPtr of [false, true]) {
    it(`needs at most 20 ChangeResourceRecordSets calls (${withPtr ? 'A + PTR' : 'A only'}) and writes every record`, async () => {
      const r = await simulateBurst({ instances: 1000, spreadMs: 10_000, withPtr, ...DEPLOYED });
      expect(r.forwardARecords).toBe(1000);
      expect(r.failedMessages).toBe(0);
      expect(r.changeCalls).toBeLessThanOrEqual(20);
    });
  }
});

describe('dns burst with 100-character names (A + PTR): value characters, not records, decide the splits', () => {
  it('writes every record without a failed message in at most 25 ChangeResourceRecordSets calls', async () => {
    const r = await simulateBurst({
      instances: 1000,
      spreadMs: 10_000,
      withPtr: true,
      nameLength: 100,
      ...DEPLOYED,
    });
    expect(r.forwardARecords).toBe(1000);
    expect(r.failedMessages).toBe(0);
    expect(r.changeCalls).toBeLessThanOrEqual(25);
  });
});

describe('Route 53 cost follows the change, not the zone (every List and Change call counted)', () => {
  it('a 1,000-instance burst into a 100k-record zone makes >= 50x fewer Route 53 calls than the naive design, run for real', async () => {
    const common = { instances: 1000, spreadMs: 10_000, withPtr: false, zoneSize: 100_000 };
    const batched = await simulateBurst({ ...common, ...DEPLOYED });
    const naive = await simulateBurst({ ...common, ...NAIVE });
    expect(batched.route53Calls).toBe(batched.listCalls + batched.changeCalls);
    expect(naive.changeCalls).toBe(1000);
    expect(batched.failedMessages + naive.failedMessages).toBe(0);
    expect(batched.forwardARecords).toBe(51_000);
    expect(batched.route53Calls * 50).toBeLessThanOrEqual(naive.route53Calls);
  });

  it('calls per dns-sync batch at 100k records are at most 2x the calls at 1k records', async () => {
    const perBatch = async (zoneSize: number) =>
      (await simulateBurst({ instances: 1000, spreadMs: 10_000, withPtr: true, zoneSize, ...DEPLOYED }))
        .maxCallsPerInvocation;
    const small = await perBatch(1000);
    const large = await perBatch(100_000);
    expect(large).toBeLessThanOrEqual(2 * small);
  });
});
