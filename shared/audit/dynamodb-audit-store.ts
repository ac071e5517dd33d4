import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  type GetItemCommandOutput,
  QueryCommand,
  type QueryCommandInput,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { defaultDynamoDbClient } from '../aws/clients';
import { fromAuditItem, unreadableReason } from './audit-item';
import { AuditStoreError, InvalidAuditRecordError } from './errors';
import type { AuditRecord, Correlation } from './schema';
import {
  type AuditStore,
  indexesFor,
  type PendingPage,
  type SubjectQuery,
  type UnreadableRecord,
} from './store-port';
import { AUDIT_TABLE, normaliseRecordName, type SubjectIndexName } from './table-design';

/** Reads the audit table through its GSIs (layout in table-design.ts) and writes correlation results. */
export class DynamoDbAuditStore implements AuditStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = defaultDynamoDbClient(),
  ) {}

  async timeline(
    subject: SubjectQuery,
    opts: { since?: Date; onUnreadable?: (record: UnreadableRecord) => void } = {},
  ): Promise<AuditRecord[]> {
    const unreadable = new Set<string>();
    const byId = new Map<string, AuditRecord>();
    for (const indexName of indexesFor(subject)) {
      const index = AUDIT_TABLE.indexes[indexName];
      const value = keyValue(indexName, subject);
      const since = opts.since?.toISOString();
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const input: QueryCommandInput = {
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: since ? '#pk = :pk AND #sk >= :since' : '#pk = :pk',
          ExpressionAttributeNames: { '#pk': index.partitionKey, '#sk': index.sortKey },
          ExpressionAttributeValues: { ':pk': { S: value }, ...(since ? { ':since': { S: since } } : {}) },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        };
        if (!since) delete input.ExpressionAttributeNames?.['#sk'];
        const page = await this.query(input, `timeline of ${value}`);
        for (const item of page.Items ?? []) {
          let record: AuditRecord;
          try {
            record = fromAuditItem(item);
          } catch (err) {
            const recordId = item[AUDIT_TABLE.partitionKey]?.S ?? '<no id>';
            if (!opts.onUnreadable || !(err instanceof InvalidAuditRecordError)) throw err;
            if (!unreadable.has(recordId)) {
              unreadable.add(recordId);
              const time = item[AUDIT_TABLE.timeAttribute]?.S;
              opts.onUnreadable({
                recordId,
                ...(time ? { time } : {}),
                reason: unreadableReason(item, err),
                error: err,
              });
            }
            continue;
          }
          byId.set(record.recordId, record);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
    }
    return [...byId.values()].sort((a, b) => a.time.localeCompare(b.time));
  }

  /** GetItem on the table's key (the record id); strongly consistent, so a just-written outcome shows. */
  async record(recordId: string): Promise<AuditRecord | undefined> {
    let result: GetItemCommandOutput;
    try {
      result = await this.client.send(
        new GetItemCommand({
          TableName: this.tableName,
          Key: { [AUDIT_TABLE.partitionKey]: { S: recordId } },
          ConsistentRead: true,
        }),
      );
    } catch (err) {
      throw new AuditStoreError(
        `could not read audit record ${recordId} from ${this.tableName}: ${(err as Error).name}`,
        { cause: err },
      );
    }
    return result.Item ? fromAuditItem(result.Item) : undefined;
  }

  async pending(now: Date, page: { limit?: number; cursor?: string } = {}): Promise<PendingPage> {
    const index = AUDIT_TABLE.indexes.pendingCorrelation;
    const result = await this.query(
      {
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pending AND #after <= :now',
        ExpressionAttributeNames: { '#pk': index.partitionKey, '#after': index.sortKey },
        ExpressionAttributeValues: {
          ':pending': { S: AUDIT_TABLE.pendingValue },
          ':now': { S: now.toISOString() },
        },
        Limit: page.limit ?? 25,
        ...(page.cursor ? { ExclusiveStartKey: decodeCursor(page.cursor) } : {}),
      },
      'pending correlation list',
    );
    const records = (result.Items ?? []).map(fromAuditItem);
    return result.LastEvaluatedKey ? { records, cursor: encodeCursor(result.LastEvaluatedKey) } : { records };
  }

  async updateCorrelation(record: AuditRecord, correlation: Correlation): Promise<boolean> {
    const index = AUDIT_TABLE.indexes.pendingCorrelation;
    const updated: AuditRecord = { ...record, correlation };
    const stillPending = correlation.status === 'pending';
    // a pending record is pushed back in the pending index to its next attempt (backoff)
    const after = stillPending ? correlation.nextAttemptAt : undefined;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [AUDIT_TABLE.partitionKey]: { S: record.recordId } },
          UpdateExpression: !stillPending
            ? 'SET #rec = :rec REMOVE #pending, #after'
            : after
              ? 'SET #rec = :rec, #after = :after'
              : 'SET #rec = :rec',
          ConditionExpression: '#time = :time',
          ExpressionAttributeNames: {
            '#rec': AUDIT_TABLE.recordAttribute,
            '#time': AUDIT_TABLE.timeAttribute,
            ...(stillPending ? {} : { '#pending': index.partitionKey }),
            ...(!stillPending || after ? { '#after': index.sortKey } : {}),
          },
          ExpressionAttributeValues: {
            ':rec': { S: JSON.stringify(updated) },
            ':time': { S: record.time },
            ...(after ? { ':after': { S: after } } : {}),
          },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw new AuditStoreError(
        `correlation of audit record ${record.recordId} could not be stored: ${(err as Error).name}`,
        { cause: err },
      );
    }
  }

  private async query(input: QueryCommandInput, what: string) {
    try {
      return await this.client.send(new QueryCommand(input));
    } catch (err) {
      throw new AuditStoreError(`could not read the ${what} from ${this.tableName}: ${(err as Error).name}`, {
        cause: err,
      });
    }
  }
}

function keyValue(index: SubjectIndexName, subject: SubjectQuery): string {
  if (subject.kind === 'instance') return subject.instanceId;
  return index === 'byRecordName' ? normaliseRecordName(subject.name) : subject.name;
}

function encodeCursor(key: Record<string, AttributeValue>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

function decodeCursor(cursor: string): Record<string, AttributeValue> {
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (err) {
    throw new AuditStoreError(`invalid pending-page cursor ${JSON.stringify(cursor)}`, { cause: err });
  }
}
