import { createHash, randomUUID } from 'node:crypto';
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  type PutItemCommandInput,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { defaultDynamoDbClient } from '../aws/clients';
import { SweepStateError } from './errors';
import type { RemovalReservation, RemovalTally, SweepStateStore } from './port';

/**
 * Layout of the sweep state table: partition key `pk`, sort key `sk` (strings), TTL attribute
 * `expiresAt` (epoch seconds).
 * Removals: one item, pk `removal-ledger`, sk `head`, no TTL: `rev` (S, a random revision) and
 * `entries` (S, JSON tuples `[key, at, count, unconfirmed, expiresAt]`, epoch ms; an entry is dropped
 * at the first write after it expires: ~2 windows of runs, about 55 bytes each, refused past
 * LEDGER_MAX_BYTES). Every write is a put conditioned on the revision it read, so of two runs that
 * read the same window only one writes; the other reads again, with the winner's removals. `unconfirmed`: of count, removals EC2 did not confirm. Items of
 * earlier versions (pk `removals`, sk `<ISO time>#<run id>`, `count`, `unconfirmed`, TTL) are still
 * summed until they expire.
 * First sightings: pk `seen`, sk `<key>`, `firstSeenAt` (ISO).
 */
export const SWEEP_STATE_TABLE = { partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' } as const;
export const SWEEP_STATE_TABLE_ENV = 'SWEEP_STATE_TABLE';

const epoch = (d: Date) => String(Math.ceil(d.getTime() / 1000));
const CONCURRENCY = 8;
/** The removal ledger: one item (pk `removal-ledger`, sk `head`), never expiring, revisioned. */
const LEDGER = { pk: { S: 'removal-ledger' }, sk: { S: 'head' } };
/** A write that loses the ledger to a concurrent one re-reads and tries again, this many times in all. */
export const LEDGER_ATTEMPTS = 5;
/** Refuse to write a ledger past this (DynamoDB's item limit is 400 KB): a clear error, not a ValidationException. */
export const LEDGER_MAX_BYTES = 350_000;

/**
 * One run's removals in the window, compact (a ledger holds up to ~2 windows of them):
 * [key (a 16-hex hash of kind, time and run id), at (epoch ms), count, unconfirmed, expiresAt (epoch ms)].
 */
type Entry = [key: string, at: number, count: number, unconfirmed: number, expiresAt: number];

interface Ledger {
  /** The revision read (undefined: no ledger item yet); a write is conditioned on it. */
  rev: string | undefined;
  exists: boolean;
  entries: Entry[];
}

/** Reservations and records of approved removals keep apart: a record never replaces a reservation. */
const entryKey = (kind: 'reserved' | 'recorded', at: Date, runId: string) =>
  createHash('sha256').update(`${kind}\u0000${at.toISOString()}\u0000${runId}`).digest('hex').slice(0, 16);

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
      const key = entryKey('reserved', r.at, r.runId);
      const prev = entries.find((e) => e[0] === key);
      const entry: Entry = [
        key,
        r.at.getTime(),
        (prev?.[2] ?? 0) + granted,
        (prev?.[3] ?? 0) + Math.min(r.unconfirmed ?? 0, granted),
        Math.max(prev?.[4] ?? 0, r.expiresAt.getTime()),
      ];
      return [...entries.filter((e) => e[0] !== key), entry];
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
    const key = entryKey('recorded', at, runId);
    // the same run and time recorded again replaces its entry (a retried write)
    await this.update(async (entries) => [
      ...entries.filter((e) => e[0] !== key),
      [key, at.getTime(), count, unconfirmed, expiresAt.getTime()],
    ]);
  }

  /**
   * Read the ledger, change its entries (undefined: no change), write it back only if no other
   * write came in between (a put conditioned on the revision read); else read again, up to
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
          ledger,
          next.filter((e) => e[4] > now),
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
    if (!r.Item) return { rev: undefined, exists: false, entries: [] };
    return { rev: r.Item.rev?.S, exists: true, entries: JSON.parse(r.Item.entries?.S ?? '[]') as Entry[] };
  }

  /**
   * Write the entries under a new revision if the stored item is still the one read (none: still
   * none; one without a revision: still without); false if another write came in between.
   */
  private async writeLedger(read: Ledger, entries: Entry[]): Promise<boolean> {
    const body = JSON.stringify(entries);
    if (body.length > LEDGER_MAX_BYTES)
      throw new SweepStateError(
        `sweep state: the removal ledger would hold ${entries.length} runs' removals (${body.length} bytes, over ${LEDGER_MAX_BYTES}); shorten removalBudgetWindow`,
      );
    const condition: Pick<
      PutItemCommandInput,
      'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    > = !read.exists
      ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': 'pk' } }
      : read.rev === undefined
        ? { ConditionExpression: 'attribute_not_exists(#rev)', ExpressionAttributeNames: { '#rev': 'rev' } }
        : {
            ConditionExpression: '#rev = :rev',
            ExpressionAttributeNames: { '#rev': 'rev' },
            ExpressionAttributeValues: { ':rev': { S: read.rev } },
          };
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...LEDGER, rev: { S: randomUUID() }, entries: { S: body } },
          ...condition,
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
  const from = since.getTime();
  return entries
    .filter((e) => e[1] >= from)
    .reduce((t, e) => ({ total: t.total + e[2], unconfirmed: t.unconfirmed + e[3] }), {
      total: 0,
      unconfirmed: 0,
    });
}
