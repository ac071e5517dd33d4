import { DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { describeAuditSinkContract } from './audit-sink.contract';
import { auditRecord, describeAuditStoreContract } from './audit-store.contract';
import { DynamoDbAuditSink } from './dynamodb-audit-sink';
import { DynamoDbAuditStore } from './dynamodb-audit-store';
import { AuditStoreError } from './errors';
import { AuditRecordSchema } from './schema';
import { scriptAuditTable } from './testing/fake-audit-table';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });
const quiet = { info: () => {} };

describeAuditStoreContract('DynamoDbAuditStore (scripted DynamoDB)', () => {
  ddb.reset();
  scriptAuditTable(ddb);
  return {
    sink: new DynamoDbAuditSink('audit', client, { retentionDays: 400, logger: quiet }),
    store: new DynamoDbAuditStore('audit', client),
  };
});

describeAuditSinkContract('DynamoDbAuditSink (scripted DynamoDB)', () => {
  ddb.reset();
  scriptAuditTable(ddb);
  return {
    sink: new DynamoDbAuditSink('audit', client, { retentionDays: 400, logger: quiet }),
    store: new DynamoDbAuditStore('audit', client),
  };
});

describe('DynamoDbAuditStore', () => {
  beforeEach(() => ddb.reset());

  it('queries both runner and record-name indexes for a non-instance subject', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    await new DynamoDbAuditStore('audit', client).timeline({
      kind: 'runner-or-record',
      name: 'Web.Example.com.',
    });
    const calls = ddb
      .commandCalls(QueryCommand)
      .map((c) => [c.args[0].input.IndexName, c.args[0].input.ExpressionAttributeValues]);
    expect(calls).toEqual([
      ['byRunner', { ':pk': { S: 'Web.Example.com.' } }],
      ['byRecordName', { ':pk': { S: 'web.example.com' } }],
    ]);
  });

  it('wraps read failures in AuditStoreError with the cause', async () => {
    const denied = Object.assign(new Error('not authorized to perform: dynamodb:Query'), {
      name: 'AccessDeniedException',
    });
    ddb.on(QueryCommand).rejects(denied);
    const err = await new DynamoDbAuditStore('audit', client).pending(new Date()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditStoreError);
    expect((err as Error).cause).toBe(denied);
  });

  it('removes the pending index attributes when a record is settled', async () => {
    ddb.on(UpdateItemCommand).resolves({});
    const store = new DynamoDbAuditStore('audit', client);
    const parsed = AuditRecordSchema.parse(auditRecord({ recordId: 'q' }));
    await store.updateCorrelation(parsed, { status: 'unresolved', attempts: 3, calls: [] });
    expect(ddb.commandCalls(UpdateItemCommand)[0]?.args[0].input.UpdateExpression).toBe(
      'SET #rec = :rec REMOVE #pending, #after',
    );
  });
});
