/**
 * The audit table's layout, shared by DynamoDbAuditSink (writes), DynamoDbAuditStore (reads and
 * correlation updates) and the AuditTrail construct (table + indexes), so they cannot drift.
 *
 * One item per audit record, keyed by `recordId` (no sort key): writes are a single idempotent
 * PutItem. The full record is stored as JSON in `record` (schema-versioned, readable as a whole);
 * a few top-level copies exist only to feed the indexes:
 *
 * - `byInstance`   (sparse GSI): `subjectInstanceId` + `time`  -> timeline of an instance
 * - `byRunner`     (sparse GSI): `subjectRunnerName` + `time`  -> timeline of a runner
 * - `byRecordName` (sparse GSI): `subjectRecordName` + `time`  -> timeline of a DNS record name
 *                                (normalised: lower case, no trailing dot)
 * - `pendingCorrelation` (sparse GSI): `correlationPending` ("pending") + `correlateAfter` (ISO
 *   time: record time + CloudTrail delivery delay). Only pending records carry the attribute; the
 *   correlator REMOVEs it when a record is resolved or marked unresolved, so the index holds
 *   exactly the work left. An attempt that leaves a record pending pushes `correlateAfter` back
 *   to the correlation's `nextAttemptAt` (backoff), so stubborn records do not crowd out newer
 *   ones. One partition value is fine at fleet volumes (tens of records/minute).
 * - `expiresAt` (number, epoch seconds): DynamoDB TTL attribute = record time + retention.
 *
 * Subject GSIs project ALL attributes so the CLI reads a timeline with Query alone.
 */
export const AUDIT_TABLE = {
  partitionKey: 'recordId',
  recordAttribute: 'record',
  timeAttribute: 'time',
  ttlAttribute: 'expiresAt',
  indexes: {
    byInstance: { name: 'byInstance', partitionKey: 'subjectInstanceId', sortKey: 'time' },
    byRunner: { name: 'byRunner', partitionKey: 'subjectRunnerName', sortKey: 'time' },
    byRecordName: { name: 'byRecordName', partitionKey: 'subjectRecordName', sortKey: 'time' },
    pendingCorrelation: {
      name: 'pendingCorrelation',
      partitionKey: 'correlationPending',
      sortKey: 'correlateAfter',
    },
  },
  pendingValue: 'pending',
} as const;

export type SubjectIndexName = 'byInstance' | 'byRunner' | 'byRecordName';

/** DNS names compare case-insensitively and with or without the root dot. */
export function normaliseRecordName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** How long CloudTrail typically needs to deliver an event (AWS: ~5 min on average, not guaranteed). */
export const DEFAULT_CLOUDTRAIL_DELAY_MS = 5 * 60_000;
