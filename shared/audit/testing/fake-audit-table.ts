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
import { AUDIT_TABLE } from '../table-design';

type Item = Record<string, AttributeValue>;

/**
 * Scripts an aws-sdk-client-mock DynamoDB stub to behave like the audit table for the expressions
 * the sink and store issue: conditional PutItem, GetItem by record id, GSI Query (sparse indexes, sort-key range, Limit
 * with LastEvaluatedKey returned whenever Limit items were read — as DynamoDB does, even if nothing
 * follows), and conditional UpdateItem with SET/REMOVE. Unknown expressions fail loudly.
 */
export function scriptAuditTable(
  stub: AwsClientStub<DynamoDBClient>,
  requestIds = { next: 1 },
): Map<string, Item> {
  const items = new Map<string, Item>();
  const pk = AUDIT_TABLE.partitionKey;
  const meta = () => ({ $metadata: { requestId: `ddb-${requestIds.next++}`, httpStatusCode: 200 } });
  const conditionFailed = () =>
    new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

  stub.on(PutItemCommand).callsFake((input) => {
    const item = input.Item as Item;
    const id = item[pk]?.S as string;
    const existing = items.get(id);
    if (input.ConditionExpression !== 'attribute_not_exists(#id) OR #time <= :time')
      throw new Error(`fake table: unexpected condition ${input.ConditionExpression}`);
    if (existing && (existing.time?.S ?? '') > (input.ExpressionAttributeValues[':time'].S as string))
      throw conditionFailed();
    items.set(id, structuredClone(item));
    return meta();
  });

  stub.on(GetItemCommand).callsFake((input) => {
    const item = items.get(input.Key[pk].S as string);
    return { ...meta(), ...(item ? { Item: structuredClone(item) } : {}) };
  });

  stub.on(QueryCommand).callsFake((input) => {
    const index = Object.values(AUDIT_TABLE.indexes).find((i) => i.name === input.IndexName);
    if (!index) throw new Error(`fake table: unknown index ${input.IndexName}`);
    const values = input.ExpressionAttributeValues as Record<string, AttributeValue>;
    const expr = input.KeyConditionExpression as string;
    const partition = (values[':pk'] ?? values[':pending'])?.S;
    let range: (v: string) => boolean = () => true;
    if (expr.endsWith('#sk >= :since')) range = (v) => v >= (values[':since']?.S as string);
    else if (expr.endsWith('#after <= :now')) range = (v) => v <= (values[':now']?.S as string);
    else if (expr !== '#pk = :pk') throw new Error(`fake table: unexpected key condition ${expr}`);
    const sortKey = (i: Item) => `${i[index.sortKey]?.S ?? ''}\u0000${i[pk]?.S}`;
    let matches = [...items.values()]
      .filter((i) => i[index.partitionKey]?.S === partition && range(i[index.sortKey]?.S ?? ''))
      .sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    const start = input.ExclusiveStartKey as Item | undefined;
    if (start) matches = matches.filter((i) => sortKey(i) > sortKey(start));
    const limit = input.Limit ?? 1000;
    const page = matches.slice(0, limit);
    const last = page.at(-1);
    return {
      ...meta(),
      Items: page.map((i) => structuredClone(i)),
      Count: page.length,
      ...(page.length === limit && last
        ? {
            LastEvaluatedKey: {
              [pk]: last[pk] as AttributeValue,
              [index.partitionKey]: last[index.partitionKey] as AttributeValue,
              [index.sortKey]: last[index.sortKey] as AttributeValue,
            },
          }
        : {}),
    };
  });

  stub.on(UpdateItemCommand).callsFake((input) => {
    const id = input.Key[pk].S as string;
    const existing = items.get(id);
    const names = input.ExpressionAttributeNames as Record<string, string>;
    const values = input.ExpressionAttributeValues as Record<string, AttributeValue>;
    if (input.ConditionExpression !== '#time = :time')
      throw new Error(`fake table: unexpected condition ${input.ConditionExpression}`);
    if (!existing || existing[names['#time'] as string]?.S !== values[':time']?.S) throw conditionFailed();
    const [setPart, removePart] = (input.UpdateExpression as string).replace(/^SET /, '').split(' REMOVE ');
    for (const assignment of (setPart ?? '').split(',')) {
      const [name, value] = assignment.split('=').map((s) => s.trim());
      existing[names[name as string] as string] = values[value as string] as AttributeValue;
    }
    for (const name of removePart ? removePart.split(',').map((s) => s.trim()) : [])
      delete existing[names[name] as string];
    return meta();
  });

  return items;
}
