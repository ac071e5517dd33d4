import { describe, expect, it } from 'vitest';
import { auditRecord } from './audit-store.contract';
import { AuditWriteError, InvalidAuditRecordError } from './errors';
import type { AuditSink } from './port';
import type { AuditStore } from './store-port';

/** What every AuditSink promises (InMemoryAuditSink and DynamoDbAuditSink run the same suite). */
export function describeAuditSinkContract(
  name: string,
  make: () => { sink: AuditSink; store: AuditStore },
): void {
  describe(`AuditSink contract: ${name}`, () => {
    const subject = { kind: 'instance' as const, instanceId: 'i-0abc12345' };

    it('returns the validated record with defaults filled in', async () => {
      const { sink } = make();
      const { details: _d, githubCalls: _g, ...bare } = auditRecord({ recordId: 'a' });
      const written = await sink.write(bare);
      expect(written).toMatchObject({ recordId: 'a', details: {}, githubCalls: [] });
    });

    it('is idempotent on recordId: a redelivery rewrites, never duplicates', async () => {
      const { sink, store } = make();
      await sink.write(auditRecord({ recordId: 'a' }));
      await sink.write(auditRecord({ recordId: 'a' }));
      expect((await store.timeline(subject)).map((r) => r.recordId)).toEqual(['a']);
    });

    it('keeps the newer record when an older write of the same id arrives late', async () => {
      const { sink, store } = make();
      await sink.write(
        auditRecord({ recordId: 'a', time: '2026-11-24T10:05:00.000Z', reason: 'second attempt' }),
      );
      await sink.write(
        auditRecord({ recordId: 'a', time: '2026-11-24T10:00:00.000Z', reason: 'first attempt' }),
      );
      expect((await store.timeline(subject))[0]?.reason).toBe('second attempt');
    });

    it('refuses a malformed record with an InvalidAuditRecordError (an AuditWriteError) and stores nothing', async () => {
      const { sink, store } = make();
      const err = await sink
        .write({ ...auditRecord({ recordId: 'bad' }), decision: 'maybe' as never })
        .catch((e) => e);
      expect(err).toBeInstanceOf(InvalidAuditRecordError);
      expect(err).toBeInstanceOf(AuditWriteError);
      expect(await store.timeline(subject)).toEqual([]);
    });
  });
}
