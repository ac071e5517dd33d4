import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { defaultDynamoDbClient } from '../aws/clients';
import { SweepStateError } from './errors';
import type { RemovalReservation, RemovalTally, SweepStateStore } from './port';

/**
 * Layout of the sweep state table: partition key `pk`, sort key `sk` (strings), TTL attribute
 * `expiresAt` (epoch seconds).
 * Removals: one item, pk `removal-ledger`, sk `head`, no TTL: `version` (N) and `entries` (S, JSON:
 * `{key: '<ISO time>#<run id>', at, count, unconfirmed, expiresAt (epoch ms)}[]`, an entry dropped at
 * the first write after it expires: 2 windows of runs, a few KB). Every write is a put conditioned on
 * the version it read, so of two runs that read the same window only one writes; the other reads
 * again, with the winner's removals. `unconfirmed`: of count, removals EC2 did not confirm. Items of
 * earlier versions (pk `removals`, sk `<ISO time>#<run id>`, `count`, `unconfirmed`, TTL) are still
 * summed until they expire.
 * First sightings: pk `seen`, sk `<key>`, `firstSeenAt` (ISO).
 */
export const SWEEP_STATE_TABLE = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;
export const SWEEP_STATE_TABLE_ENV = 'SWEEP_STATE_TABLE';

const epoch = (d: Date) => String(Math.ceil(d.getTime() / 1000));
const CONCURRENCY = 8;
/** The removal ledger: one item (pk `removal-ledger`, sk `head`), never expiring, versioned. */
const LEDGER = { pk: { S: 'removal-ledger' }, sk: { S: 'head' } };
/** A write that loses the ledger to a concurrent one re-reads and tries again, this many times in all. */
export const LEDGER_ATTEMPTS = 5;

interface Entry {
  /** `<ISO time>#<run id>` */
  key: string;
  at: string;
  count: number;
  unconfirmed: number;
  /** epoch ms: dropped from the ledger at the first write after it */
  expiresAt: number;
}

interface Ledger {
  version: number;
  entries: Entry[];
}

/**
 * The sweep state in DynamoDB. The budget is read with a consistent read (a run must see the
 * previous run's removals); TTL deletion is lazy, so expired first sightings are ignored here too.
 */
export class DynamoDbSweepState implements SweepStateStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = defaultDynamoDbClient(),
    private readonly clock: () => number = () => Date.now(),
  ) {}

  async removalsSince(since: Date): Promise<RemovalTally> {
    const legacy = await this.legacySince(since);
    const ledger = tally((await this.readLedger()).entries, since);
    return { total: legacy.total + ledger.total, unconfirmed: legacy.unconfirmed + ledger.unconfirmed };
  }

  async reserveRemovals(r: RemovalReservation): Promise<{ spent: number; granted: number }> {
    let out = { spent: 0, granted: 0 };
    await this.update(async (entries) => {
      const spent = (await this.legacySince(r.since)).total + tally(entries, r.since).total;
      const granted = Math.max(0, Math.min(r.want, r.limit - spent));
      out = { spent, granted };
      if (granted === 0) return undefined;
      // one key per run and time: a second reservation under it adds to it (never replaces a grant)
      const key = `${r.at.toISOString()}#${r.runId}`;
      const prev = entries.find((e) => e.key === key);
      const entry: Entry = {
        key,
        at: r.at.toISOString(),
        count: (prev?.count ?? 0) + granted,
        unconfirmed: (prev?.unconfirmed ?? 0) + Math.min(r.unconfirmed ?? 0, granted),
        expiresAt: Math.max(prev?.expiresAt ?? 0, r.expiresAt.getTime()),
      };
      return [...entries.filter((e) => e.key !== key), entry];
    });
    return out;
  }

  async recordRemovals(
    count: number,
    runId: string,
    at: Date,
    expiresAt: Date,
    unconfirmed = 0,
  ): Promise<void> {
    const key = `${at.toISOString()}#${runId}`;
    // the same run and time recorded again replaces its entry (a retried write)
    await this.update(async (entries) => [
      ...entries.filter((e) => e.key !== key),
      { key, at: at.toISOString(), count, unconfirmed, expiresAt: expiresAt.getTime() },
    ]);
  }

  /**
   * Read the ledger, change its entries (undefined: no change), write it back only if no other
   * write came in between (a conditional put on the version); else read again, up to
   * LEDGER_ATTEMPTS times. So two runs never both spend what one read showed left.
   */
  private async update(change: (entries: Entry[]) => Promise<Entry[] | undefined>): Promise<void> {
    for (let attempt = 1; attempt <= LEDGER_ATTEMPTS; attempt++) {
      const ledger = await this.readLedger();
      const next = await change(ledger.entries);
      if (next === undefined) return;
      const now = this.clock();
      if (
        await this.writeLedger(
          ledger.version,
          next.filter((e) => e.expiresAt > now),
        )
      )
        return;
    }
    throw new SweepStateError(
      `sweep state: ${LEDGER_ATTEMPTS} writes in a row lost the removal ledger to concurrent runs; nothing recorded`,
    );
  }

  private async readLedger(): Promise<Ledger> {
    const r = await this.call('GetItem', () =>
      this.client.send(new GetItemCommand({ TableName: this.tableName, Key: LEDGER, ConsistentRead: true })),
    );
    if (!r.Item) return { version: 0, entries: [] };
    const entries = JSON.parse(r.Item.entries?.S ?? '[]') as Entry[];
    return { version: Number(r.Item.version?.N ?? 0), entries };
  }

  /** Write version + 1 if the stored one is still `version` (0: none stored); false if it moved. */
  private async writeLedger(version: number, entries: Entry[]): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...LEDGER, version: { N: String(version + 1) }, entries: { S: JSON.stringify(entries) } },
          ...(version === 0
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
            : {
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': { N: String(version) } },
              }),
        }),
      );
      return true;
    } catch (err) {
      if (err instanceof ConditionalCheckFailedException) return false;
      throw new SweepStateError(`sweep state PutItem failed: ${(err as Error).message}`, { cause: err });
    }
  }

  /**
   * Removals at or after `since` that earlier versions recorded one item each (pk `removals`): read
   * until they expire (2 windows after a deploy), so a deploy does not reset the budget.
   */
  private async legacySince(since: Date): Promise<RemovalTally> {
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

/** What the ledger's entries at or after `since` spent. */
function tally(entries: readonly Entry[], since: Date): RemovalTally {
  const from = since.toISOString();
  return entries
    .filter((e) => e.at >= from)
    .reduce((t, e) => ({ total: t.total + e.count, unconfirmed: t.unconfirmed + e.unconfirmed }), {
      total: 0,
      unconfirmed: 0,
    });
}
