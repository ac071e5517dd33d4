import { byTime, InMemoryAuditSink } from './in-memory-audit-sink';
import type { AuditRecord, Correlation } from './schema';
import type { AuditStore, PendingPage, SubjectQuery } from './store-port';
import { DEFAULT_CLOUDTRAIL_DELAY_MS, normaliseRecordName } from './table-design';

/**
 * AuditStore over an InMemoryAuditSink's records, with the table's semantics: timelines by
 * instance id, runner name or (normalised) record name; pending = status "pending" and record
 * time + delay (or the correlation's nextAttemptAt, once set) <= now, earliest due first, paged by an opaque cursor; conditional correlation updates.
 */
export class InMemoryAuditStore implements AuditStore {
  constructor(
    readonly sink = new InMemoryAuditSink(),
    private readonly delayMs = DEFAULT_CLOUDTRAIL_DELAY_MS,
  ) {}

  async timeline(subject: SubjectQuery, opts: { since?: Date } = {}): Promise<AuditRecord[]> {
    const since = opts.since?.toISOString();
    // the subject's records, then in time order (the sort is stable: ties stay in write order)
    return [...this.sink.records.values()]
      .filter((r) => {
        if (since && r.time < since) return false;
        if (subject.kind === 'instance') return r.subject.instanceId === subject.instanceId;
        return (
          r.subject.runnerName === subject.name ||
          (r.subject.recordName !== undefined &&
            normaliseRecordName(r.subject.recordName) === normaliseRecordName(subject.name))
        );
      })
      .sort(byTime);
  }

  async record(recordId: string): Promise<AuditRecord | undefined> {
    return this.sink.records.get(recordId);
  }

  async pending(now: Date, page: { limit?: number; cursor?: string } = {}): Promise<PendingPage> {
    const limit = page.limit ?? 25;
    // the table's correlateAfter: record time + delay, pushed back to nextAttemptAt after an attempt
    const after = (r: AuditRecord) =>
      r.correlation.nextAttemptAt ?? new Date(Date.parse(r.time) + this.delayMs).toISOString();
    const key = (r: AuditRecord) => `${after(r)}|${r.recordId}`;
    const due = [...this.sink.records.values()]
      .filter((r) => r.correlation.status === 'pending' && Date.parse(after(r)) <= now.getTime())
      .filter((r) => page.cursor === undefined || key(r) > page.cursor)
      .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const records = due.slice(0, limit);
    const last = records.at(-1);
    return due.length > limit && last ? { records, cursor: key(last) } : { records };
  }

  async updateCorrelation(record: AuditRecord, correlation: Correlation): Promise<boolean> {
    const stored = this.sink.records.get(record.recordId);
    if (!stored || stored.time !== record.time) return false;
    this.sink.replace({ ...stored, correlation });
    return true;
  }
}
