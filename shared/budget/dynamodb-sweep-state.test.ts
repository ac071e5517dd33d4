import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDbSweepState, RESERVE_ATTEMPTS } from './dynamodb-sweep-state';
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
  it('gives up with a SweepStateError, nothing granted, when every slot it claims was taken first', async () => {
    ddb.reset();
    scriptSweepStateTable(ddb);
    // a concurrent run takes each slot between this run's read and its put
    ddb
      .on(PutItemCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} }),
      );
    const err = await new DynamoDbSweepState('sweep-state', client)
      .reserveRemovals({
        runId: 'run-1',
        at: new Date('2026-11-30T08:00:00Z'),
        since: new Date('2026-11-30T07:00:00Z'),
        limit: 3,
        want: 1,
        expiresAt: new Date('2026-11-30T10:00:00Z'),
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(SweepStateError);
    expect(err.message).toMatch(/5 reservations in a row lost the removal budget/);
    expect(ddb.commandCalls(PutItemCommand)).toHaveLength(RESERVE_ATTEMPTS);
  });

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
