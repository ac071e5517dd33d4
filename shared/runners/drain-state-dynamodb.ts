import { type AttributeValue, type DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { defaultDynamoDbClient } from '../aws/clients';
import { type DrainState, DrainStateError, type DrainStateStore } from './drain-state';

/** Env: the table runner-drain keeps its state in (the construct passes the sweep state table). */
export const DRAIN_STATE_TABLE_ENV = 'DRAIN_STATE_TABLE';

/** runner-drain's partition in the sweep state table (IAM: dynamodb:LeadingKeys = this value). */
export const DRAIN_STATE_PARTITION = 'drain';

const epoch = (d: Date) => String(Math.ceil(d.getTime() / 1000));

/**
 * runner-drain's state in the sweep state table: pk `drain`, sk `<instance id>#<token>`,
 * `firstLookAt` (ISO, set once), `runnerIds` (list of numbers), `absentOnce`, TTL `expiresAt`.
 * Only UpdateItem: one call per look to begin (returning the item), one to save.
 */
export class DynamoDbDrainState implements DrainStateStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient = defaultDynamoDbClient(),
  ) {}

  async begin(key: string, now: Date, expiresAt: Date): Promise<DrainState> {
    const r = await this.update(key, 'SET #first = if_not_exists(#first, :now), #exp = :exp', {
      names: { '#first': 'firstLookAt', '#exp': 'expiresAt' },
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

  private async update(
    key: string,
    expression: string,
    o: { names: Record<string, string>; values: Record<string, AttributeValue>; returnNew: boolean },
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
        }),
      );
      return r.Attributes;
    } catch (err) {
      throw new DrainStateError(`drain state UpdateItem failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
