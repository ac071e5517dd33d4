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
import type { RemovalReservation, RemovalTally, SweepStateStore } from './port';

/**
 * Layout of the sweep state table: partition key `pk`, sort key `sk` (strings), TTL attribute
 * `expiresAt` (epoch seconds). Removals: pk `removals`, sk `<ISO time>#<run id>`, `count`,
 * `unconfirmed` (of count, removals EC2 did not confirm; absent on older items: 0).
 * Reservations (`reserveRemovals`): pk `removal-slots`, sk the next slot number, `runId`, `at`,
 * `count`, `unconfirmed`: a run claims the slot after the last one it read with a conditional put,
 * so of two runs that read the same window only one writes; the other reads again (with the
 * winner's removals) and claims the next slot.
 * First sightings: pk `seen`, sk `<key>`, `firstSeenAt` (ISO).
 */
export const SWEEP_STATE_TABLE = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;
export const SWEEP_STATE_TABLE_ENV = 'SWEEP_STATE_TABLE';

const epoch = (d: Date) => String(Math.ceil(d.getTime() / 1000));
const CONCURRENCY = 8;
/** Reservations: pk `removal-slots`, sk the slot number (zero-padded), claimed with a conditional put. */
const SLOTS = 'removal-slots';
const slotKey = (n: number) => String(n).padStart(12, '0');
/** Reservations that lose the race for a slot re-read and try again, this many times in all. */
export const RESERVE_ATTEMPTS = 5;

interface Slot {
  slot: number;
  runId: string;
  at: string;
  count: number;
  unconfirmed: number;
}

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
    const recorded = await this.recordedSince(since);
    const reserved = tally(await this.slots(), since);
    return {
      total: recorded.total + reserved.total,
      unconfirmed: recorded.unconfirmed + reserved.unconfirmed,
    };
  }

  async reserveRemovals(r: RemovalReservation): Promise<{ spent: number; granted: number }> {
    for (let attempt = 1; attempt <= RESERVE_ATTEMPTS; attempt++) {
      const slots = await this.slots();
      const at = r.at.toISOString();
      const mine = slots.find((x) => x.runId === r.runId && x.at === at);
      const spent =
        (await this.recordedSince(r.since)).total + tally(slots, r.since).total - (mine?.count ?? 0);
      // a retried invocation of the run: granted what it reserved, nothing more
      if (mine) return { spent, granted: mine.count };
      const granted = Math.max(0, Math.min(r.want, r.limit - spent));
      if (granted === 0) return { spent, granted };
      const next = slots.reduce((n, x) => Math.max(n, x.slot + 1), 0);
      if (await this.claim(next, r, granted)) return { spent, granted };
    }
    throw new SweepStateError(
      `sweep state: ${RESERVE_ATTEMPTS} reservations in a row lost the removal budget to concurrent runs; nothing reserved`,
    );
  }

  /** Write reservation `slot` unless a concurrent run took it first (false then). */
  private async claim(slot: number, r: RemovalReservation, granted: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: SLOTS },
            sk: { S: slotKey(slot) },
            runId: { S: r.runId },
            at: { S: r.at.toISOString() },
            count: { N: String(granted) },
            unconfirmed: { N: String(Math.min(r.unconfirmed ?? 0, granted)) },
            expiresAt: { N: epoch(r.expiresAt) },
          },
          ConditionExpression: 'attribute_not_exists(#pk)',
          ExpressionAttributeNames: { '#pk': 'pk' },
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw new SweepStateError(`sweep state PutItem failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Every reservation slot still in the table (consistent: a run must see the previous one's). */
  private async slots(): Promise<Slot[]> {
    const out: Slot[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: { '#pk': 'pk', '#count': 'count', '#at': 'at' },
            ExpressionAttributeValues: { ':pk': { S: SLOTS } },
            ProjectionExpression: 'sk, runId, #at, #count, unconfirmed',
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? [])
        out.push({
          slot: Number(item.sk?.S ?? 0),
          runId: item.runId?.S ?? '',
          at: item.at?.S ?? '',
          count: Number(item.count?.N ?? 0),
          unconfirmed: Number(item.unconfirmed?.N ?? 0),
        });
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Removals recorded outside a reservation (`recordRemovals`) at or after `since`. */
  private async recordedSince(since: Date): Promise<RemovalTally> {
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

/** What the reservations at or after `since` spent. */
function tally(slots: readonly Slot[], since: Date): RemovalTally {
  const from = since.toISOString();
  return slots
    .filter((x) => x.at >= from)
    .reduce((t, x) => ({ total: t.total + x.count, unconfirmed: t.unconfirmed + x.unconfirmed }), {
      total: 0,
      unconfirmed: 0,
    });
}
