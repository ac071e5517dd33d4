import { ConditionalCheckFailedException, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { DynamoDbAuditSink } from './dynamodb-audit-sink';
import { AuditWriteError, InvalidAuditRecordError } from './errors';
import type { AuditRecordInput } from './schema';
import { scriptAuditTable } from './testing/fake-audit-table';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });

const record: AuditRecordInput = {
  schemaVersion: 1,
  recordId: 'dns-sync:0123456789abcdef0123456789abcdef',
  time: '2026-11-24T10:00:00.000Z',
  function: 'dns-sync',
  trigger: { source: 'aws.ec2', id: 'evt-1', detailType: 'EC2 Instance State-change Notification' },
  subject: { instanceId: 'i-0abc12345', recordName: 'Web-1.Fleet.Example.com.' },
  action: 'dns.delete',
  decision: 'acted',
  reason: 'instance terminated',
  mode: 'live',
  calls: [
    {
      service: 'Route53',
      operation: 'ChangeResourceRecordSets',
      time: '2026-11-24T10:00:00.100Z',
      requestId: 'req-1',
      outcome: 'success',
    },
  ],
  correlation: { status: 'pending', attempts: 0, calls: [] },
};

function sink(opts: { retentionDays?: number } = {}) {
  const logger = { info: vi.fn(), error: vi.fn() };
  return { logger, sink: new DynamoDbAuditSink('audit-table', client, { logger, ...opts }) };
}

beforeEach(() => {
  ddb.reset();
});

describe('DynamoDbAuditSink', () => {
  it('puts one item keyed by recordId with index attributes, TTL and the record JSON', async () => {
    ddb.on(PutItemCommand).resolves({ $metadata: { requestId: 'ddb-1' } });
    const { sink: s, logger } = sink();
    const written = await s.write(record);

    const input = ddb.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(input?.TableName).toBe('audit-table');
    const item = input?.Item ?? {};
    expect(item.recordId).toEqual({ S: record.recordId });
    expect(item.time).toEqual({ S: '2026-11-24T10:00:00.000Z' });
    expect(item.subjectInstanceId).toEqual({ S: 'i-0abc12345' });
    expect(item.subjectRecordName).toEqual({ S: 'web-1.fleet.example.com' });
    expect(item.subjectRunnerName).toBeUndefined();
    expect(item.correlationPending).toEqual({ S: 'pending' });
    expect(item.correlateAfter).toEqual({ S: '2026-11-24T10:05:00.000Z' });
    // 400 days after the record time, in epoch seconds
    expect(item.expiresAt).toEqual({
      N: String(Date.parse('2026-11-24T10:00:00.000Z') / 1000 + 400 * 86400),
    });
    expect(JSON.parse(item.record?.S ?? '{}')).toEqual(written);
    // an older redelivery never overwrites a newer record
    expect(input?.ConditionExpression).toBe('attribute_not_exists(#id) OR #time <= :time');
    expect(logger.info).toHaveBeenCalledWith('audit record', { auditRecord: written, write: 'stored' });
  });

  it('omits the pending index attributes when nothing needs correlating', async () => {
    ddb.on(PutItemCommand).resolves({});
    const { sink: s } = sink();
    await s.write({
      ...record,
      calls: [],
      correlation: { status: 'not-applicable', attempts: 0, calls: [] },
    });
    const item = ddb.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {};
    expect(item.correlationPending).toBeUndefined();
    expect(item.correlateAfter).toBeUndefined();
  });

  it('reads the retention from AUDIT_RETENTION_DAYS unless given', async () => {
    ddb.on(PutItemCommand).resolves({});
    vi.stubEnv('AUDIT_RETENTION_DAYS', '30');
    try {
      await new DynamoDbAuditSink('t', client, { logger: { info: vi.fn() } }).write(record);
    } finally {
      vi.unstubAllEnvs();
    }
    const item = ddb.commandCalls(PutItemCommand)[0]?.args[0].input.Item ?? {};
    expect(item.expiresAt).toEqual({ N: String(Date.parse(record.time) / 1000 + 30 * 86400) });
  });

  it('refuses a bad retention with the value in the message', () => {
    vi.stubEnv('AUDIT_RETENTION_DAYS', 'forever');
    try {
      expect(() => new DynamoDbAuditSink('t', client)).toThrow(/AUDIT_RETENTION_DAYS="forever"/);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('treats a newer stored record as success (idempotent redelivery)', async () => {
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    const { sink: s } = sink();
    await expect(s.write(record)).resolves.toMatchObject({ recordId: record.recordId });
  });

  it('writes the same record twice as the identical item under the same key: one item, no duplicate', async () => {
    const items = scriptAuditTable(ddb);
    const { sink: s } = sink({ retentionDays: 400 });
    await s.write(record);
    await s.write(record);
    const puts = ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input);
    expect(puts).toHaveLength(2);
    expect(puts[1]).toEqual(puts[0]);
    expect([...items.keys()]).toEqual([record.recordId]);
    // a different record id is a different item
    await s.write({ ...record, recordId: 'dns-sync:ffffffffffffffffffffffffffffffff' });
    expect(items.size).toBe(2);
    expect(JSON.parse(items.get(record.recordId)?.record?.S ?? '{}')).toMatchObject({
      reason: record.reason,
    });
  });

  it('logs the record with the write outcome before throwing when the write fails (the record is never lost)', async () => {
    const sdkError = Object.assign(new Error('Internal server error'), { name: 'InternalServerError' });
    ddb.on(PutItemCommand).rejects(sdkError);
    const { sink: s, logger } = sink();
    const err = await s.write(record).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect(logger.error).toHaveBeenCalledWith('audit record NOT stored', {
      auditRecord: expect.objectContaining({ recordId: record.recordId, reason: record.reason }),
      write: 'failed',
      error: sdkError,
    });
    expect(logger.info).not.toHaveBeenCalled();
  });

  it('logs a stale redelivery with its outcome', async () => {
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    const { sink: s, logger } = sink();
    await s.write(record);
    expect(logger.info).toHaveBeenCalledWith('audit record', {
      auditRecord: expect.objectContaining({ recordId: record.recordId }),
      write: 'newer version already stored',
    });
  });

  it('throws AuditWriteError with the SDK error as cause when DynamoDB fails', async () => {
    const sdkError = Object.assign(new Error('Rate of requests exceeds the allowed throughput'), {
      name: 'ProvisionedThroughputExceededException',
    });
    ddb.on(PutItemCommand).rejects(sdkError);
    const { sink: s } = sink();
    const err = await s.write(record).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect((err as Error).message).toContain(record.recordId);
    expect((err as Error).cause).toBe(sdkError);
  });

  it('rejects a malformed record without calling DynamoDB (an AuditWriteError too)', async () => {
    const { sink: s } = sink();
    const err = await s.write({ ...record, action: 'Not An Action' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidAuditRecordError);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect((err as Error).cause).toBeDefined();
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(0);
  });
});
