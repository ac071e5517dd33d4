import { describe, expect, it } from 'vitest';
import { DNS_SYNC_BATCHING } from '../shared/dns/batching';
import { simulateBurst } from './dns-burst.bench';

describe('dns burst (1,000 instances running within 10 s, batching as deployed)', () => {
  for (const withPtr of [false, true]) {
    it(`needs at most 20 ChangeResourceRecordSets calls (${withPtr ? 'A + PTR' : 'A only'}) and writes every record`, async () => {
      const r = await simulateBurst({
        instances: 1000,
        spreadMs: 10_000,
        withPtr,
        batchSize: DNS_SYNC_BATCHING.batchSize,
        batchingWindowMs: DNS_SYNC_BATCHING.maxBatchingWindowSeconds * 1000,
      });
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
      batchSize: DNS_SYNC_BATCHING.batchSize,
      batchingWindowMs: DNS_SYNC_BATCHING.maxBatchingWindowSeconds * 1000,
    });
    expect(r.forwardARecords).toBe(1000);
    expect(r.failedMessages).toBe(0);
    expect(r.changeCalls).toBeLessThanOrEqual(25);
  });
});
