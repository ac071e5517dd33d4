import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDbSweepState } from './dynamodb-sweep-state';
import { SweepStateError } from './errors';
import { describeSweepStateContract } from './sweep-state.contract';
import { scriptSweepStateTable } from './testing/fake-sweep-state-table';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });

describeSweepStateContract('DynamoDbSweepState (scripted DynamoDB)', (clock) => {
  ddb.reset();
  scriptSweepStateTable(ddb);
  return new DynamoDbSweepState('sweep-state', client, () => clock.now);
});

describe('DynamoDbSweepState', () => {
  it('fails with a SweepStateError carrying the cause, never reads a failure as "no removals"', async () => {
    ddb.reset();
    const denied = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    ddb.on(QueryCommand).rejects(denied);
    const err = await new DynamoDbSweepState('sweep-state', client)
      .removalsSince(new Date(0))
      .catch((e) => e);
    expect(err).toBeInstanceOf(SweepStateError);
    expect(err.cause).toBe(denied);
  });
});
