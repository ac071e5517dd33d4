import { AuditWriteError, InvalidAuditRecordError } from './errors';
import type { AuditSink } from './port';
import { type AuditRecord, type AuditRecordInput, AuditRecordSchema } from './schema';

/**
 * In-memory AuditSink for tests and the simulator. Validates like the real sink, is idempotent on
 * recordId (a redelivered event that rewrites the same record does not duplicate it; an older
 * write arriving after a newer one does not replace it, as in DynamoDbAuditSink), and can be
 * told to fail the next N writes to prove that callers treat a lost audit record as a failed action.
 */
export class InMemoryAuditSink implements AuditSink {
  private readonly byId = new Map<string, AuditRecord>();
  private failuresLeft = 0;
  /** recordIds by time, kept while no write adds a record or moves one in time */
  private order: string[] | undefined;

  /** The stored records by recordId (read-only: a change goes through `write` or `replace`). */
  get records(): ReadonlyMap<string, AuditRecord> {
    return this.byId;
  }

  /**
   * Replace a stored record in place, as the table's conditional update does (InMemoryAuditStore's
   * correlation update): its place in `all()` follows its time.
   */
  replace(record: AuditRecord): void {
    if (this.byId.get(record.recordId)?.time !== record.time) this.order = undefined;
    this.byId.set(record.recordId, record);
  }

  failNextWrites(count: number): void {
    this.failuresLeft = count;
  }

  async write(input: AuditRecordInput): Promise<AuditRecord> {
    const parsed = AuditRecordSchema.safeParse(input);
    if (!parsed.success) {
      throw new InvalidAuditRecordError(`audit record rejected: ${parsed.error.message}`, {
        cause: parsed.error,
      });
    }
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new AuditWriteError(`injected audit write failure for ${parsed.data.recordId}`);
    }
    const stored = this.byId.get(parsed.data.recordId);
    // like the table's conditional put: a late, older write of the same record is a no-op
    if (!stored || stored.time <= parsed.data.time) this.replace(parsed.data);
    return parsed.data;
  }

  /** Every record, oldest first (ties in the order written). */
  all(): AuditRecord[] {
    // the simulator reads every record on each invocation and each check: sorted once per change.
    // ISO-8601 times of one format sort as strings; a record replaced in place (a correlation
    // update, same time) keeps its place
    if (this.order === undefined) {
      this.order = [...this.byId.values()].sort(byTime).map((r) => r.recordId);
    }
    return this.order.map((id) => this.byId.get(id) as AuditRecord);
  }
}

/** Oldest first: ISO-8601 times of one format compare as strings (code units, as DynamoDB orders them). */
export function byTime(a: AuditRecord, b: AuditRecord): number {
  return a.time < b.time ? -1 : a.time > b.time ? 1 : 0;
}
