import type { AuditRecord, AuditRecordInput } from './schema';

/**
 * Where audit records go. Writing the record is part of the action: an implementation must throw
 * (an `AuditWriteError`) when the record could not be stored, and callers must let that error fail
 * the invocation so the event is retried. `write` must be idempotent on `recordId`, and a write
 * must not replace a stored record with a newer `time`: auditedAction writes a step's 'intended'
 * record and then its outcome under the same recordId, and the outcome must win.
 */
export interface AuditSink {
  write(record: AuditRecordInput): Promise<AuditRecord>;
}
