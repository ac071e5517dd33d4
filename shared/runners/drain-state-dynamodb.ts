import {
  type AttributeValue,
  type DynamoDBClient,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { defaultDynamoDbClient } from '../aws/clients';
import type { RunnerCensus } from './census';
import type { ChainLook } from './drain-look';
import {
  CENSUS_TTL_MS,
  type CensusRead,
  type DrainState,
  DrainStateError,
  type DrainStateStore,
} from './drain-state';

/** Env: the table runner-drain keeps its state in (the construct passes the sweep state table). */
export const DRAIN_STATE_TABLE_ENV = 'DRAIN_STATE_TABLE';

/** runner-drain's partition in the sweep state table (IAM: dynamodb:LeadingKeys = this value). */
export const DRAIN_STATE_PARTITION = 'drain';

const epoch = (d: Date) => String(Math.ceil(d.getTime() / 1000));

/** The sort key of the runner census the pool's drains share (census.ts); an action key always has a `#`. */
export const CENSUS_KEY = 'census';

/**
 * runner-drain's state in the sweep state table: pk `drain`, sk `<instance id>#<token>` (or
 * `<instance id>#look:<look id>` for a drain the scheduled look started), `firstLookAt` (ISO, set
 * once), `lastLookAt` (ISO, every look), `runnerIds` (list of numbers), `absentOnce`, TTL `expiresAt`.
 * UpdateItem: one call per look to begin (returning the item), one to save; Query (the look, and
 * an adopted drain): an instance's drains, by sort key prefix. The shared runner
 * census is the item sk `census`: `takenAt` (ISO), `otherNames` (list of instance ids, or the string
 * `all`), `askedAt` (the last drain that read it), TTL `expiresAt`; read by an update recording the
 * ask and returning the item as it was.
 */
export class DynamoDbDrainState implements DrainStateStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = defaultDynamoDbClient(),
  ) {}

  async begin(key: string, now: Date, expiresAt: Date): Promise<DrainState> {
    const r = await this.update(key, 'SET #first = if_not_exists(#first, :now), #last = :now, #exp = :exp', {
      names: { '#first': 'firstLookAt', '#last': 'lastLookAt', '#exp': 'expiresAt' },
      values: { ':now': { S: now.toISOString() }, ':exp': { N: epoch(expiresAt) } },
      returnNew: true,
    });
    const a = r ?? {};
    return {
      firstLookAt: new Date(a.firstLookAt?.S ?? now.toISOString()),
      runnerIds: (a.runnerIds?.L ?? []).map((v) => Number(v.N)).filter((n) => Number.isInteger(n) && n > 0),
      absentOnce: a.absentOnce?.BOOL === true,
    };
  }

  async save(key: string, found: { runnerIds: number[]; absentOnce: boolean }, expiresAt: Date) {
    await this.update(key, 'SET #ids = :ids, #absent = :absent, #exp = :exp', {
      names: { '#ids': 'runnerIds', '#absent': 'absentOnce', '#exp': 'expiresAt' },
      values: {
        ':ids': { L: found.runnerIds.map((n) => ({ N: String(n) })) },
        ':absent': { BOOL: found.absentOnce },
        ':exp': { N: epoch(expiresAt) },
      },
      returnNew: false,
    });
  }

  async census(now: Date): Promise<CensusRead> {
    // read through UpdateItem (no GetItem is granted), recording this ask; the item as it was
    const a = await this.update(CENSUS_KEY, 'SET #asked = :now, #exp = if_not_exists(#exp, :exp)', {
      names: { '#asked': 'askedAt', '#exp': 'expiresAt' },
      values: {
        ':now': { S: now.toISOString() },
        ':exp': { N: epoch(new Date(now.getTime() + CENSUS_TTL_MS)) },
      },
      returnOld: true,
    });
    const date = (v: AttributeValue | undefined) =>
      v?.S && !Number.isNaN(Date.parse(v.S)) ? new Date(v.S) : undefined;
    const takenAt = date(a?.takenAt);
    const askedAt = date(a?.askedAt);
    const other = a?.otherNames;
    const otherNames = other?.S === 'all' ? 'all' : (other?.L ?? []).map((v) => v.S ?? '').filter(Boolean);
    return { ...(takenAt ? { census: { takenAt, otherNames } } : {}), ...(askedAt ? { askedAt } : {}) };
  }

  async recordCensus(census: RunnerCensus, expiresAt: Date): Promise<void> {
    const other: AttributeValue =
      census.otherNames === 'all' ? { S: 'all' } : { L: census.otherNames.map((id) => ({ S: id })) };
    await this.update(CENSUS_KEY, 'SET #taken = :taken, #other = :other, #exp = :exp', {
      names: { '#taken': 'takenAt', '#other': 'otherNames', '#exp': 'expiresAt' },
      values: {
        ':taken': { S: census.takenAt.toISOString() },
        ':other': other,
        ':exp': { N: epoch(expiresAt) },
      },
      returnNew: false,
    });
  }

  async looks(instanceId: string): Promise<ChainLook[]> {
    const out: ChainLook[] = [];
    let start: Record<string, AttributeValue> | undefined;
    try {
      do {
        const page = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            ExpressionAttributeNames: {
              '#pk': 'pk',
              '#sk': 'sk',
              '#first': 'firstLookAt',
              '#last': 'lastLookAt',
            },
            ExpressionAttributeValues: {
              ':pk': { S: DRAIN_STATE_PARTITION },
              ':prefix': { S: `${instanceId}#` },
            },
            ProjectionExpression: '#sk, #first, #last',
            // a drain that began a moment ago must be seen
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        for (const item of page.Items ?? []) {
          const key = item.sk?.S;
          const first = item.firstLookAt?.S;
          if (!key || !first) continue;
          out.push({ key, firstLookAt: new Date(first), lastLookAt: new Date(item.lastLookAt?.S ?? first) });
        }
        start = page.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw new DrainStateError(`drain state Query failed: ${(err as Error).message}`, { cause: err });
    }
    return out;
  }

  private async update(
    key: string,
    expression: string,
    o: {
      names: Record<string, string>;
      values: Record<string, AttributeValue>;
      returnNew?: boolean;
      returnOld?: boolean;
    },
  ): Promise<Record<string, AttributeValue> | undefined> {
    try {
      const r = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { pk: { S: DRAIN_STATE_PARTITION }, sk: { S: key } },
          UpdateExpression: expression,
          ExpressionAttributeNames: o.names,
          ExpressionAttributeValues: o.values,
          ...(o.returnNew ? { ReturnValues: 'ALL_NEW' as const } : {}),
          ...(o.returnOld ? { ReturnValues: 'ALL_OLD' as const } : {}),
        }),
      );
      return r.Attributes;
    } catch (err) {
      throw new DrainStateError(`drain state UpdateItem failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
