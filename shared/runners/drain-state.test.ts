import {
  type AttributeValue,
  DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DrainStateError, InMemoryDrainState } from './drain-state';
import { describeDrainStateContract } from './drain-state.contract';
import { DRAIN_STATE_PARTITION, DynamoDbDrainState } from './drain-state-dynamodb';

type Item = Record<string, AttributeValue>;
const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });

/** The two UpdateItem expressions and the Query DynamoDbDrainState issues, applied as DynamoDB would. */
function scriptDrainStateTable(): Map<string, Item> {
  const items = new Map<string, Item>();
  ddb.on(UpdateItemCommand).callsFake((input) => {
    const k = input.Key as Item;
    if (k.pk?.S !== DRAIN_STATE_PARTITION) throw new Error(`fake table: wrong partition ${k.pk?.S}`);
    const v = input.ExpressionAttributeValues as Record<string, AttributeValue>;
    const id = `${k.pk?.S}\u0000${k.sk?.S}`;
    const existed = items.has(id);
    const existing = items.get(id) ?? structuredClone(k);
    let next: Item;
    if (input.UpdateExpression === 'SET #first = if_not_exists(#first, :now), #last = :now, #exp = :exp')
      next = {
        ...existing,
        firstLookAt: existing.firstLookAt ?? (v[':now'] as AttributeValue),
        lastLookAt: v[':now'] as AttributeValue,
        expiresAt: v[':exp'] as AttributeValue,
      };
    else if (input.UpdateExpression === 'SET #ids = :ids, #absent = :absent, #exp = :exp')
      next = {
        ...existing,
        runnerIds: v[':ids'] as AttributeValue,
        absentOnce: v[':absent'] as AttributeValue,
        expiresAt: v[':exp'] as AttributeValue,
      };
    else if (input.UpdateExpression === 'SET #asked = :now, #exp = if_not_exists(#exp, :exp)')
      next = {
        ...existing,
        askedAt: v[':now'] as AttributeValue,
        expiresAt: existing.expiresAt ?? (v[':exp'] as AttributeValue),
      };
    else if (input.UpdateExpression === 'SET #taken = :taken, #other = :other, #exp = :exp')
      next = {
        ...existing,
        takenAt: v[':taken'] as AttributeValue,
        otherNames: v[':other'] as AttributeValue,
        expiresAt: v[':exp'] as AttributeValue,
      };
    else throw new Error(`fake table: unexpected update ${input.UpdateExpression}`);
    items.set(id, next);
    return {
      $metadata: {},
      ...(input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(next) } : {}),
      ...(input.ReturnValues === 'ALL_OLD' && existed ? { Attributes: structuredClone(existing) } : {}),
    };
  });
  // one item a page (LastEvaluatedKey), so paging is exercised
  ddb.on(QueryCommand).callsFake((input) => {
    const v = input.ExpressionAttributeValues as Record<string, AttributeValue>;
    if (input.KeyConditionExpression !== '#pk = :pk AND begins_with(#sk, :prefix)' || !input.ConsistentRead)
      throw new Error(`fake table: unexpected query ${input.KeyConditionExpression}`);
    const prefix = v[':prefix']?.S ?? '';
    const after = (input.ExclusiveStartKey as Item | undefined)?.sk?.S ?? '';
    const matching = [...items.values()]
      .filter((i) => i.pk?.S === v[':pk']?.S && (i.sk?.S ?? '').startsWith(prefix) && (i.sk?.S ?? '') > after)
      .sort((a, b) => (a.sk?.S ?? '').localeCompare(b.sk?.S ?? ''));
    const first = matching[0];
    if (!first) return { $metadata: {}, Items: [] };
    const page = { sk: first.sk, firstLookAt: first.firstLookAt, lastLookAt: first.lastLookAt } as Item;
    return {
      $metadata: {},
      Items: [page],
      ...(matching.length > 1 ? { LastEvaluatedKey: { pk: first.pk, sk: first.sk } as Item } : {}),
    };
  });
  return items;
}

describeDrainStateContract('InMemoryDrainState', () => new InMemoryDrainState());
describeDrainStateContract('DynamoDbDrainState (scripted DynamoDB)', () => {
  ddb.reset();
  scriptDrainStateTable();
  return new DynamoDbDrainState('sweep-state', client);
});

describe('DynamoDbDrainState', () => {
  it('fails with a DrainStateError carrying the cause, never reads a failure as a fresh action', async () => {
    ddb.reset();
    const denied = Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });
    ddb.on(UpdateItemCommand).rejects(denied);
    const err = await new DynamoDbDrainState('sweep-state', client)
      .begin('i-0aaa#tok', new Date(), new Date())
      .catch((e) => e);
    expect(err).toBeInstanceOf(DrainStateError);
    expect(err.cause).toBe(denied);
  });

  it('sets a TTL (epoch seconds) on every write', async () => {
    ddb.reset();
    const items = scriptDrainStateTable();
    const s = new DynamoDbDrainState('sweep-state', client);
    await s.begin('i-0aaa#tok', new Date(0), new Date(10_000));
    await s.save('i-0aaa#tok', { runnerIds: [1], absentOnce: false }, new Date(20_000));
    expect([...items.values()][0]?.expiresAt).toEqual({ N: '20' });
  });
});
