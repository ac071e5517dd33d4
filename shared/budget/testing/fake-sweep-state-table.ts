import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { AwsClientStub } from 'aws-sdk-client-mock';

type Item = Record<string, AttributeValue>;

/**
 * Scripts an aws-sdk-client-mock DynamoDB stub to behave like the sweep state table for the
 * expressions DynamoDbSweepState issues. Like DynamoDB, TTL-expired items are NOT removed at once
 * (deletion is lazy): the adapter must ignore them itself. Unknown expressions fail loudly.
 */
export function scriptSweepStateTable(stub: AwsClientStub<DynamoDBClient>, pageSize = 2): Map<string, Item> {
  const items = new Map<string, Item>();
  const key = (i: Item) => `${i.pk?.S}\u0000${i.sk?.S}`;
  const meta = { $metadata: { httpStatusCode: 200 } };

  const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
  stub.on(PutItemCommand).callsFake((input) => {
    // DynamoDB refuses an item over 400 KB
    if (JSON.stringify(input.Item).length > 400_000)
      throw new Error('fake table: Item size has exceeded the maximum allowed size');
    const k = key(input.Item as Item);
    const existing = items.get(k);
    const v = input.ExpressionAttributeValues as Record<string, AttributeValue> | undefined;
    if (input.ConditionExpression === 'attribute_not_exists(#pk)') {
      // an expired item not yet deleted by TTL still exists for a condition
      if (existing) throw conditionFailed();
    } else if (input.ConditionExpression === '#rev = :rev') {
      if (input.ExpressionAttributeNames?.['#rev'] !== 'rev') throw new Error('fake table: #rev must be rev');
      if (existing?.rev?.S === undefined || existing.rev.S !== v?.[':rev']?.S) throw conditionFailed();
    } else if (input.ConditionExpression === 'attribute_not_exists(#rev)') {
      // true for an item that is gone too (no attribute exists on it)
      if (existing?.rev !== undefined) throw conditionFailed();
    } else if (input.ConditionExpression) {
      throw new Error(`fake table: unexpected condition ${input.ConditionExpression}`);
    }
    items.set(k, structuredClone(input.Item as Item));
    return meta;
  });

  stub.on(GetItemCommand).callsFake((input) => {
    if (input.ConsistentRead !== true) throw new Error('fake table: the ledger must be read consistently');
    const existing = items.get(key(input.Key as Item));
    return { ...meta, ...(existing ? { Item: structuredClone(existing) } : {}) };
  });

  stub.on(QueryCommand).callsFake((input) => {
    const whole = input.KeyConditionExpression === '#pk = :pk';
    if (!whole && input.KeyConditionExpression !== '#pk = :pk AND #sk >= :since')
      throw new Error(`fake table: unexpected key condition ${input.KeyConditionExpression}`);
    if (input.ConsistentRead !== true) throw new Error('fake table: the budget must be read consistently');
    const v = input.ExpressionAttributeValues as Record<string, AttributeValue>;
    let matches = [...items.values()]
      .filter((i) => i.pk?.S === v[':pk']?.S && (whole || (i.sk?.S ?? '') >= (v[':since']?.S ?? '')))
      .sort((a, b) => (a.sk?.S ?? '').localeCompare(b.sk?.S ?? ''));
    const start = input.ExclusiveStartKey as Item | undefined;
    if (start) matches = matches.filter((i) => (i.sk?.S ?? '') > (start.sk?.S ?? ''));
    const page = matches.slice(0, pageSize);
    const last = page.at(-1);
    return {
      ...meta,
      Items: page.map((i) => structuredClone(i)),
      ...(page.length === pageSize && last ? { LastEvaluatedKey: { pk: last.pk, sk: last.sk } as Item } : {}),
    };
  });

  stub.on(UpdateItemCommand).callsFake((input) => {
    const k = input.Key as Item;
    const v = input.ExpressionAttributeValues as Record<string, AttributeValue>;
    if (
      input.UpdateExpression !== 'SET #first = if_not_exists(#first, :now), #exp = :exp' ||
      input.ConditionExpression !== 'attribute_not_exists(#pk) OR #exp > :epoch' ||
      input.ReturnValues !== 'ALL_NEW'
    )
      throw new Error(
        `fake table: unexpected update ${input.UpdateExpression} / ${input.ConditionExpression}`,
      );
    const existing = items.get(key(k));
    if (existing && Number(existing.expiresAt?.N) <= Number(v[':epoch']?.N))
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    const next: Item = {
      ...(existing ?? k),
      firstSeenAt: existing?.firstSeenAt ?? (v[':now'] as AttributeValue),
      expiresAt: v[':exp'] as AttributeValue,
    };
    items.set(key(k), next);
    return { ...meta, Attributes: structuredClone(next) };
  });
  return items;
}
