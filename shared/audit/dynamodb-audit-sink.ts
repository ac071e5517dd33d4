import {
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import '../core/zod-locale';
import * as z from 'zod/mini';
import { defaultDynamoDbClient } from '../aws/clients';
import { readEnv } from '../core/env';
import { coercedNumber } from '../core/zod-parts';
import { logger as defaultLogger } from '../observability/powertools';
import { parseAuditRecord, toAuditItem } from './audit-item';
import { AuditWriteError } from './errors';
import type { AuditSink } from './port';
import type { AuditRecord, AuditRecordInput } from './schema';
import { AUDIT_TABLE } from './table-design';

export const AuditSinkEnvSchema = z.object({
  /** Days an audit record is kept before DynamoDB TTL deletes it. */
  AUDIT_RETENTION_DAYS: z._default(coercedNumber().check(z.int(), z.minimum(1), z.maximum(3650)), 400),
});

export interface DynamoDbAuditSinkOptions {
  /** @default AUDIT_RETENTION_DAYS from the environment, else 400 */
  retentionDays?: number;
  /**
   * Where the structured copy of each record goes, with the write outcome; a record whose write
   * failed is logged (to `error`, else `info`) before the AuditWriteError is thrown, so it exists
   * somewhere. @default the Powertools logger
   */
  logger?: {
    info(message: string, extra: Record<string, unknown>): void;
    error?(message: string, extra: Record<string, unknown>): void;
  };
  /** How long after the record time correlation may first look in CloudTrail. @default 5 min */
  correlationDelayMs?: number;
}

/**
 * The audit sink used by the Lambda functions: validates the record, writes it as one DynamoDB
 * item keyed by recordId (layout in table-design.ts) and logs it as structured JSON.
 *
 * Idempotent on recordId: a redelivered event rewrites the same item; the write is conditional on
 * the stored record not being newer, and losing that condition (an older redelivery arriving late)
 * is a success, not an error. Every other failure, including a malformed record, is an
 * AuditWriteError carrying its cause, so the action it describes fails and is retried.
 */
export class DynamoDbAuditSink implements AuditSink {
  private readonly retentionDays: number;
  private readonly logger: NonNullable<DynamoDbAuditSinkOptions['logger']>;

  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = defaultDynamoDbClient(),
    private readonly options: DynamoDbAuditSinkOptions = {},
  ) {
    this.retentionDays = options.retentionDays ?? readEnv(AuditSinkEnvSchema).AUDIT_RETENTION_DAYS;
    this.logger = options.logger ?? defaultLogger;
  }

  async write(input: AuditRecordInput): Promise<AuditRecord> {
    const record = parseAuditRecord(input);
    let outcome = 'stored';
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toAuditItem(record, {
            retentionDays: this.retentionDays,
            ...(this.options.correlationDelayMs !== undefined
              ? { correlationDelayMs: this.options.correlationDelayMs }
              : {}),
          }),
          ConditionExpression: 'attribute_not_exists(#id) OR #time <= :time',
          ExpressionAttributeNames: { '#id': AUDIT_TABLE.partitionKey, '#time': AUDIT_TABLE.timeAttribute },
          ExpressionAttributeValues: { ':time': { S: record.time } },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) {
        // the log is the only copy left: write it before failing the action
        const log = this.logger.error?.bind(this.logger) ?? this.logger.info.bind(this.logger);
        log('audit record NOT stored', { auditRecord: record, write: 'failed', error: err });
        throw new AuditWriteError(
          `audit record ${record.recordId} could not be written to ${this.tableName}: ${(err as Error).name}`,
          { cause: err },
        );
      }
      // A newer version of this record is already stored: this write is a stale redelivery.
      outcome = 'newer version already stored';
    }
    this.logger.info('audit record', { auditRecord: record, write: outcome });
    return record;
  }
}
