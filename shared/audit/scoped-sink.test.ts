import { describe, expect, it } from 'vitest';
import { auditRecord } from './audit-store.contract';
import { InMemoryAuditSink } from './in-memory-audit-sink';
import { AuditRecordSchema } from './schema';
import { auditSinkInScope } from './scoped-sink';

describe('audit records carry the account and region they are about', () => {
  it('account and region are optional top-level fields: absent means the hub, as every record before', () => {
    const before = AuditRecordSchema.parse(auditRecord({ recordId: 'r-1' }));
    expect(before.account).toBeUndefined();
    const spoke = AuditRecordSchema.parse(
      auditRecord({ recordId: 'r-2', account: '222222222222', region: 'us-east-1' }),
    );
    expect({ account: spoke.account, region: spoke.region }).toEqual({
      account: '222222222222',
      region: 'us-east-1',
    });
  });

  it('refuses an account that is not a 12-digit id', () => {
    expect(
      AuditRecordSchema.safeParse(auditRecord({ recordId: 'r', account: 'x', region: 'us-east-1' })).success,
    ).toBe(false);
  });

  it("a spoke run's sink fills them on every record it writes; the hub's writes them unchanged", async () => {
    const inner = new InMemoryAuditSink();
    const spoke = auditSinkInScope(inner, { account: '222222222222', region: 'us-east-1' });
    await spoke.write(auditRecord({ recordId: 'r-spoke' }));
    expect(inner.records.get('r-spoke')).toMatchObject({ account: '222222222222', region: 'us-east-1' });
    expect(auditSinkInScope(inner, undefined)).toBe(inner);
  });
});
