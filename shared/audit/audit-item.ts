import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { InvalidAuditRecordError } from './errors';
import { AUDIT_SCHEMA_VERSION, type AuditRecord, type AuditRecordInput, AuditRecordSchema } from './schema';
import { AUDIT_TABLE, DEFAULT_CLOUDTRAIL_DELAY_MS, normaliseRecordName } from './table-design';

/** Validate an audit record, throwing InvalidAuditRecordError (an AuditWriteError) with the zod cause. */
export function parseAuditRecord(input: AuditRecordInput | unknown): AuditRecord {
  const parsed = AuditRecordSchema.safeParse(input);
  if (!parsed.success) {
    const id = (input as { recordId?: unknown } | undefined)?.recordId;
    throw new InvalidAuditRecordError(`audit record ${String(id)} rejected: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** The DynamoDB item for a record (see table-design.ts for the layout). */
export function toAuditItem(
  record: AuditRecord,
  opts: { retentionDays: number; correlationDelayMs?: number },
): Record<string, AttributeValue> {
  const t = Date.parse(record.time);
  const idx = AUDIT_TABLE.indexes;
  const item: Record<string, AttributeValue> = {
    [AUDIT_TABLE.partitionKey]: { S: record.recordId },
    [AUDIT_TABLE.timeAttribute]: { S: record.time },
    [AUDIT_TABLE.recordAttribute]: { S: JSON.stringify(record) },
    [AUDIT_TABLE.ttlAttribute]: { N: String(Math.floor(t / 1000) + opts.retentionDays * 86_400) },
    function: { S: record.function },
    action: { S: record.action },
    decision: { S: record.decision },
  };
  if (record.subject.instanceId) item[idx.byInstance.partitionKey] = { S: record.subject.instanceId };
  if (record.subject.runnerName) item[idx.byRunner.partitionKey] = { S: record.subject.runnerName };
  if (record.subject.recordName)
    item[idx.byRecordName.partitionKey] = { S: normaliseRecordName(record.subject.recordName) };
  if (record.correlation.status === 'pending') {
    item[idx.pendingCorrelation.partitionKey] = { S: AUDIT_TABLE.pendingValue };
    item[idx.pendingCorrelation.sortKey] = {
      S: new Date(t + (opts.correlationDelayMs ?? DEFAULT_CLOUDTRAIL_DELAY_MS)).toISOString(),
    };
  }
  return item;
}

/** The record stored in an item; refuses items whose record does not parse (unknown schema version). */
export function fromAuditItem(item: Record<string, AttributeValue>): AuditRecord {
  const json = item[AUDIT_TABLE.recordAttribute]?.S;
  if (json === undefined) {
    throw new InvalidAuditRecordError(
      `audit item ${item[AUDIT_TABLE.partitionKey]?.S ?? '<no id>'} has no ${AUDIT_TABLE.recordAttribute}`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (err) {
    throw new InvalidAuditRecordError(`audit item ${item[AUDIT_TABLE.partitionKey]?.S} is not JSON`, {
      cause: err,
    });
  }
  return parseAuditRecord(value);
}

/** One line saying why a stored record does not parse (a newer schema version, or the first issue). */
export function unreadableReason(item: Record<string, AttributeValue>, err: unknown): string {
  let value: unknown;
  try {
    value = JSON.parse(item[AUDIT_TABLE.recordAttribute]?.S ?? '');
  } catch {
    return 'record is not JSON';
  }
  return whyUnreadable(value, err);
}

/** Why a record (as JSON) was refused by the schema: a schema version this reader does not know, or the first issue. */
export function whyUnreadable(value: unknown, err: unknown): string {
  const version = (value as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== AUDIT_SCHEMA_VERSION)
    return `schema version ${JSON.stringify(version)}; this reader knows version ${AUDIT_SCHEMA_VERSION}`;
  const issue = (err as { cause?: { issues?: { path: PropertyKey[]; message: string }[] } }).cause
    ?.issues?.[0];
  return issue ? `${issue.path.join('.') || 'record'}: ${issue.message}` : String((err as Error).message);
}
