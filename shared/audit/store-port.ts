import type { AuditRecord, Correlation } from './schema';
import type { SubjectIndexName } from './table-design';

/** Which subject a timeline is about. `classifySubject` turns a CLI argument into these. */
export type SubjectQuery =
  | { kind: 'instance'; instanceId: string }
  | { kind: 'runner-or-record'; name: string };

/** A stored audit record that did not parse: its id (and time, when the item has it) and why. */
export interface UnreadableRecord {
  recordId: string;
  time?: string;
  /** One line: why it does not parse (e.g. "schema version 2; this reader knows version 1"). */
  reason: string;
  error: Error;
}

export interface PendingPage {
  records: AuditRecord[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  cursor?: string;
}

/**
 * Reading audit records back, and recording correlation results. The write side is AuditSink.
 * Implementations: DynamoDbAuditStore (the table) and InMemoryAuditStore (over InMemoryAuditSink).
 */
export interface AuditStore {
  /**
   * Records about the subject, oldest first, with time >= since when given. A stored record this
   * reader cannot parse (e.g. a newer schema version) goes to `onUnreadable` when given (so one
   * record cannot hide the rest), else the read fails with InvalidAuditRecordError.
   */
  timeline(
    subject: SubjectQuery,
    opts?: { since?: Date; onUnreadable?: (record: UnreadableRecord) => void },
  ): Promise<AuditRecord[]>;
  /** One record by its id (`fleetwarden mcp` explain), or undefined when the table has none. */
  record(recordId: string): Promise<AuditRecord | undefined>;
  /** Pending records whose CloudTrail events may have arrived (record time + delay <= now), oldest first. */
  pending(now: Date, page?: { limit?: number; cursor?: string }): Promise<PendingPage>;
  /**
   * Store a correlation result on the record, unless the record was rewritten since it was read
   * (its time differs): then nothing is written and false is returned (it will come round again).
   * A status other than "pending" takes the record out of the pending list.
   */
  updateCorrelation(record: AuditRecord, correlation: Correlation): Promise<boolean>;
}

const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/** An instance id is unambiguous; anything else may be a runner name or a DNS record name. */
export function classifySubject(arg: string): SubjectQuery {
  const trimmed = arg.trim();
  if (INSTANCE_ID.test(trimmed)) return { kind: 'instance', instanceId: trimmed };
  return { kind: 'runner-or-record', name: trimmed };
}

export function indexesFor(subject: SubjectQuery): SubjectIndexName[] {
  return subject.kind === 'instance' ? ['byInstance'] : ['byRunner', 'byRecordName'];
}
