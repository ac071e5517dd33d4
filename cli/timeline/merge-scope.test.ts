import { describe, expect, it } from 'vitest';
import { auditRecord } from '../../shared/audit/audit-store.contract';
import { AuditRecordSchema } from '../../shared/audit/schema';
import { buildSubjectTimeline } from './html/model';
import { mergeTimeline } from './merge';

const record = (extra: Record<string, unknown> = {}) =>
  AuditRecordSchema.parse(auditRecord({ recordId: 'r-1', ...extra }));

describe('timeline: where a decision acted (hub and spokes)', () => {
  it("shows a spoke record's account and region on its line", () => {
    const [line] = mergeTimeline([record({ account: '222222222222', region: 'us-east-1' })], []);
    expect(line?.summary).toMatch(/^dns-sync in 222222222222\/us-east-1 dns\.delete acted/);
  });

  it('a record without them (the hub, every record before spokes) reads as before', () => {
    const [line] = mergeTimeline([record()], []);
    expect(line?.summary).toMatch(/^dns-sync dns\.delete acted/);
  });

  it('the HTML timeline names them too', () => {
    const t = buildSubjectTimeline('i-0abc12345', {
      records: [record({ account: '222222222222', region: 'us-east-1' })],
      events: [],
    } as never);
    expect(JSON.stringify(t)).toContain('222222222222/us-east-1');
  });
});
