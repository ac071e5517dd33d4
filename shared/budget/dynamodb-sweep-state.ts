import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { defaultDynamoDbClient } from '../aws/clients';
import { SweepStateError } from './errors';
import type { RemovalTally, SweepStateStore } from './port';

/**
 * Layout of the sweep state table: partition key `pk`, sort key `sk` (strings), TTL attribute
 * `expiresAt` (epoch seconds). Removals: pk `removals`, sk `<ISO time>#<run id>`, `count`,
 * `unconfirmed` (of count, removals EC2 did not confirm; absent on older items: 0).
 * First sightings: pk `seen`, sk `<key>`, `firstSeenAt` (ISO).
 */
export const SWEEP_STATE_TABLE = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;
export const SWEEP_STATE_TABLE_ENV = 'SWEEP_STATE_TABLE';

const epoch = (d: Date) => String(Math.ceil(d.getTime() / 1000));
const CONCURRENCY = 8;

/**
 * The sweep state in DynamoDB. The budget is read with a consistent Query (a run must see the
 * previous run's removals); TTL deletion is lazy, so expired first sightings are ignored here too.
 */
export class DynamoDbSweepState implements SweepStateStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = defaultDynamoDbClient(),
    private readonly clock: () => number = () => Date.now(),
  ) {}

  async removalsSince(since: Date): Promise<RemovalTally> {
    const sum = { total: 0, unconfirmed: 0 };
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND #sk >= :since',
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#count': 'count', '#unc': 'unconfirmed' },
            ExpressionAttributeValues: { ':pk': { S: 'removals' }, ':since': { S: since.toISOString() } },
            ProjectionExpression: '#count, #unc',
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        sum.total += Number(item.count?.N ?? 0);
        sum.unconfirmed += Number(item.unconfirmed?.N ?? 0);
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return sum;
  }

  async recordRemovals(
    count: number,
    runId: string,
    at: Date,
    expiresAt: Date,
    unconfirmed = 0,
  ): Promise<void> {
    await this.call('PutItem', () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: 'removals' },
            sk: { S: `${at.toISOString()}#${runId}` },
            count: { N: String(count) },
            unconfirmed: { N: String(unconfirmed) },
            expiresAt: { N: epoch(expiresAt) },
          },
        }),
      ),
    );
  }

  async firstSeen(keys: readonly string[], now: Date, expiresAt: Date): Promise<Map<string, Date>> {
    const out = new Map<string, Date>();
    for (let k = 0; k < keys.length; k += CONCURRENCY) {
      const batch = keys.slice(k, k + CONCURRENCY);
      const seen = await Promise.all(batch.map((key) => this.sighting(key, now, expiresAt)));
      for (const [i, key] of batch.entries()) out.set(key, seen[i] as Date);
    }
    return out;
  }

  /** Set firstSeenAt once; a record past its expiry (not yet deleted by TTL) starts over. */
  private async sighting(key: string, now: Date, expiresAt: Date): Promise<Date> {
    const Key = { pk: { S: 'seen' }, sk: { S: key } };
    try {
      const r = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET #first = if_not_exists(#first, :now), #exp = :exp',
          ConditionExpression: 'attribute_not_exists(#pk) OR #exp > :epoch',
          ExpressionAttributeNames: { '#first': 'firstSeenAt', '#exp': 'expiresAt', '#pk': 'pk' },
          ExpressionAttributeValues: {
            ':now': { S: now.toISOString() },
            ':exp': { N: epoch(expiresAt) },
            ':epoch': { N: String(Math.floor(this.clock() / 1000)) },
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return new Date(r.Attributes?.firstSeenAt?.S ?? now.toISOString());
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException))
        throw new SweepStateError(`sweep state UpdateItem failed: ${(err as Error).message}`, { cause: err });
    }
    await this.call('PutItem', () =>
      this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...Key, firstSeenAt: { S: now.toISOString() }, expiresAt: { N: epoch(expiresAt) } },
        }),
      ),
    );
    return now;
  }

  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new SweepStateError(`sweep state ${op} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
