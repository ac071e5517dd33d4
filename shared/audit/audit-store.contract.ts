import { describe, expect, it } from 'vitest';
import type { AuditSink } from './port';
import type { AuditRecordInput } from './schema';
import type { AuditStore } from './store-port';

export interface AuditStoreSubject {
  sink: AuditSink;
  store: AuditStore;
}

const at = (minute: number) => new Date(Date.UTC(2026, 10, 24, 10, minute)).toISOString();

export function auditRecord(overrides: Partial<AuditRecordInput> & { recordId: string }): AuditRecordInput {
  return {
    schemaVersion: 1,
    time: at(0),
    function: 'dns-sync',
    trigger: { source: 'aws.ec2', id: `evt-${overrides.recordId}` },
    subject: { instanceId: 'i-0abc12345' },
    action: 'dns.delete',
    decision: 'acted',
    reason: 'instance terminated',
    mode: 'live',
    calls: [
      { service: 'EC2', operation: 'DescribeInstances', time: at(0), requestId: 'r', outcome: 'success' },
    ],
    correlation: { status: 'pending', attempts: 0, calls: [] },
    ...overrides,
  };
}

/** The same behaviour from the DynamoDB table (scripted SDK mock) and the in-memory store. */
export function describeAuditStoreContract(name: string, makeSubject: () => AuditStoreSubject): void {
  describe(`AuditStore contract: ${name}`, () => {
    it('returns a subject timeline oldest first, across instance, runner and record-name subjects', async () => {
      const { sink, store } = makeSubject();
      await sink.write(auditRecord({ recordId: 'b', time: at(2) }));
      await sink.write(auditRecord({ recordId: 'a', time: at(1) }));
      await sink.write(auditRecord({ recordId: 'c', time: at(3), subject: { instanceId: 'i-0fff00000' } }));
      await sink.write(
        auditRecord({
          recordId: 'd',
          time: at(4),
          subject: { runnerName: 'gh-runner-7', instanceId: 'i-0abc12345' },
        }),
      );
      await sink.write(
        auditRecord({ recordId: 'e', time: at(5), subject: { recordName: 'Web-1.Example.com.' } }),
      );

      const byInstance = await store.timeline({ kind: 'instance', instanceId: 'i-0abc12345' });
      expect(byInstance.map((r) => r.recordId)).toEqual(['a', 'b', 'd']);
      const byRunner = await store.timeline({ kind: 'runner-or-record', name: 'gh-runner-7' });
      expect(byRunner.map((r) => r.recordId)).toEqual(['d']);
      const byName = await store.timeline({ kind: 'runner-or-record', name: 'web-1.example.com' });
      expect(byName.map((r) => r.recordId)).toEqual(['e']);
      const since = await store.timeline(
        { kind: 'instance', instanceId: 'i-0abc12345' },
        { since: new Date(at(2)) },
      );
      expect(since.map((r) => r.recordId)).toEqual(['b', 'd']);
      expect(await store.timeline({ kind: 'runner-or-record', name: 'nobody' })).toEqual([]);
    });

    it('reads one record by its id, and nothing for an unknown id', async () => {
      const { sink, store } = makeSubject();
      await sink.write(auditRecord({ recordId: 'dns-sync:abc', time: at(1), reason: 'first' }));
      await sink.write(auditRecord({ recordId: 'dns-sync:abc', time: at(2), reason: 'outcome' }));
      await sink.write(auditRecord({ recordId: 'other', time: at(3) }));
      const found = await store.record('dns-sync:abc');
      expect(found?.recordId).toBe('dns-sync:abc');
      expect(found?.reason).toBe('outcome');
      expect(await store.record('nobody')).toBeUndefined();
    });

    it('lists only pending records old enough for CloudTrail, paging each exactly once', async () => {
      const { sink, store } = makeSubject();
      for (let i = 0; i < 7; i++) await sink.write(auditRecord({ recordId: `p${i}`, time: at(i) }));
      await sink.write(
        auditRecord({
          recordId: 'done',
          time: at(0),
          calls: [],
          correlation: { status: 'not-applicable', attempts: 0, calls: [] },
        }),
      );
      // 5-minute delivery delay: at 10:10 only records up to 10:05 are due
      const now = new Date(at(10));
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.pending(now, { limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.records.map((r) => r.recordId));
        cursor = page.cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']);
    });

    it('stores a correlation and drops resolved records from the pending list', async () => {
      const { sink, store } = makeSubject();
      const written = await sink.write(auditRecord({ recordId: 'x', time: at(0) }));
      const ok = await store.updateCorrelation(written, {
        status: 'resolved',
        attempts: 1,
        calls: [{ requestId: 'r', eventId: 'ev-1', eventName: 'DescribeInstances' }],
        resolvedAt: at(9),
      });
      expect(ok).toBe(true);
      expect((await store.pending(new Date(at(30)))).records).toEqual([]);
      const [stored] = await store.timeline({ kind: 'instance', instanceId: 'i-0abc12345' });
      expect(stored?.correlation).toMatchObject({ status: 'resolved', calls: [{ eventId: 'ev-1' }] });
    });

    it('keeps a still-pending record listed after an attempt', async () => {
      const { sink, store } = makeSubject();
      const written = await sink.write(auditRecord({ recordId: 'y', time: at(0) }));
      await store.updateCorrelation(written, { status: 'pending', attempts: 1, calls: [] });
      const page = await store.pending(new Date(at(30)));
      expect(page.records.map((r) => [r.recordId, r.correlation.attempts])).toEqual([['y', 1]]);
    });

    it('does not list a still-pending record before its nextAttemptAt, and lists it after records due earlier', async () => {
      const { sink, store } = makeSubject();
      const old = await sink.write(auditRecord({ recordId: 'old', time: at(0) }));
      await sink.write(auditRecord({ recordId: 'new', time: at(10) }));
      await store.updateCorrelation(old, {
        status: 'pending',
        attempts: 3,
        calls: [],
        lastAttemptAt: at(20),
        nextAttemptAt: at(40),
      });
      expect((await store.pending(new Date(at(30)))).records.map((r) => r.recordId)).toEqual(['new']);
      expect((await store.pending(new Date(at(45)))).records.map((r) => r.recordId)).toEqual(['new', 'old']);
    });

    it('does not clobber a record rewritten since it was read', async () => {
      const { sink, store } = makeSubject();
      const old = await sink.write(auditRecord({ recordId: 'z', time: at(0) }));
      await sink.write(auditRecord({ recordId: 'z', time: at(1), reason: 'redelivered' }));
      expect(await store.updateCorrelation(old, { status: 'unresolved', attempts: 9, calls: [] })).toBe(
        false,
      );
      const [stored] = await store.timeline({ kind: 'instance', instanceId: 'i-0abc12345' });
      expect(stored).toMatchObject({ reason: 'redelivered', correlation: { status: 'pending' } });
    });
  });
}
