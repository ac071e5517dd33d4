import { describe, expect, it } from 'vitest';
import { auditRecordId } from './record-id';

describe('auditRecordId', () => {
  const base = { function: 'dns-sync', triggerId: 'evt-1', action: 'dns.upsert', subject: 'i-0abc12345' };

  it('is stable for the same decision', () => {
    expect(auditRecordId(base)).toBe(auditRecordId({ ...base }));
    expect(auditRecordId(base)).toMatch(/^dns-sync:[0-9a-f]{32}$/);
  });

  it('differs when any part differs', () => {
    const ids = new Set([
      auditRecordId(base),
      auditRecordId({ ...base, function: 'dns-reconcile' }),
      auditRecordId({ ...base, triggerId: 'evt-2' }),
      auditRecordId({ ...base, action: 'dns.delete' }),
      auditRecordId({ ...base, subject: 'i-0abc12346' }),
    ]);
    expect(ids.size).toBe(5);
  });
});
