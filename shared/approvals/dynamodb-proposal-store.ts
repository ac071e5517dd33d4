import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { defaultDynamoDbClient } from '../aws/clients';
import { fromAttributeMap, toAttributeMap } from './attribute-values';
import { ExecutionClaimError, ProposalStoreError } from './errors';
import { PROPOSAL_STATUSES, type Proposal, type ProposalStatus } from './model';
import type { ProposalStore } from './port';
import { PROPOSALS_TABLE } from './table-design';

type Item = Record<string, AttributeValue>;
type Filter = { status?: ProposalStatus; function?: string; limit?: number };

const S = (s: string): AttributeValue => ({ S: s });
const isConditionFailed = (err: unknown) =>
  err instanceof ConditionalCheckFailedException ||
  (err as Error)?.name === 'ConditionalCheckFailedException';
const newestFirst = (a: Proposal, b: Proposal) =>
  b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/**
 * The proposals table (layout: table-design.ts). Creates and status changes are conditional
 * writes, so concurrent runs of the same remediation never both create, move or claim a proposal:
 * the loser gets 'exists' / false and re-reads. A proposal is read by id consistently; the indexes
 * (byKey, byStatus) are eventually consistent, which the gate tolerates (ids are deterministic).
 */
export class DynamoDbProposalStore implements ProposalStore {
  private readonly tableName: string;
  private readonly client: DynamoDBClient;

  constructor(o: { tableName: string; client?: DynamoDBClient }) {
    this.tableName = o.tableName;
    this.client = o.client ?? defaultDynamoDbClient();
  }

  async create(proposal: Proposal): Promise<'created' | 'exists'> {
    const put = new PutItemCommand({
      TableName: this.tableName,
      Item: toAttributeMap({ ...proposal }),
      ConditionExpression: 'attribute_not_exists(#id)',
      ExpressionAttributeNames: { '#id': PROPOSALS_TABLE.partitionKey },
    });
    return (await this.conditional('PutItem', proposal.id, () => this.client.send(put)))
      ? 'created'
      : 'exists';
  }

  async get(id: string): Promise<Proposal | undefined> {
    const get = new GetItemCommand({ TableName: this.tableName, Key: { id: S(id) }, ConsistentRead: true });
    const out = await this.call('GetItem', id, () => this.client.send(get));
    return out.Item ? (fromAttributeMap(out.Item) as unknown as Proposal) : undefined;
  }

  async byKey(key: string): Promise<Proposal[]> {
    return this.query(PROPOSALS_TABLE.indexes.byKey, key, {});
  }

  async list(filter: Filter = {}): Promise<Proposal[]> {
    const statuses = filter.status ? [filter.status] : PROPOSAL_STATUSES;
    const each = await Promise.all(
      statuses.map((s) => this.query(PROPOSALS_TABLE.indexes.byStatus, s, filter)),
    );
    const all = each.flat().sort(newestFirst);
    return filter.limit === undefined ? all : all.slice(0, filter.limit);
  }

  async transition(
    id: string,
    from: readonly ProposalStatus[],
    to: ProposalStatus,
    reason: string,
    at: string,
  ): Promise<boolean> {
    if (from.length === 0) return false;
    const fromValues = Object.fromEntries(from.map((s, i) => [`:from${i}`, S(s)]));
    return this.update(id, {
      UpdateExpression: 'SET #status = :to, #statusReason = :reason, #statusAt = :at',
      ConditionExpression: `#status IN (${Object.keys(fromValues).join(', ')})`,
      ExpressionAttributeNames: {
        '#status': 'status',
        '#statusReason': 'statusReason',
        '#statusAt': 'statusAt',
      },
      ExpressionAttributeValues: { ...fromValues, ':to': S(to), ':reason': S(reason), ':at': S(at) },
    });
  }

  async claimExecution(id: string, recordId: string, at: string): Promise<boolean> {
    return this.update(id, {
      UpdateExpression: 'SET #execution = :execution',
      ConditionExpression:
        '#status = :approved AND (attribute_not_exists(#execution) OR #execution.#recordId = :recordId OR #execution.#outcome = :failed)',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#execution': 'execution',
        '#recordId': 'recordId',
        '#outcome': 'outcome',
      },
      ExpressionAttributeValues: {
        ':execution': { M: toAttributeMap({ recordId, claimedAt: at }) },
        ':approved': S('approved'),
        ':recordId': S(recordId),
        ':failed': S('failed'),
      },
    });
  }

  async settleExecution(
    id: string,
    recordId: string,
    outcome: 'acted' | 'failed',
    at: string,
  ): Promise<void> {
    const acted = outcome === 'acted';
    const settled = await this.update(id, {
      UpdateExpression: acted
        ? 'SET #execution.#outcome = :outcome, #execution.#at = :at, #status = :executed, #statusReason = :reason, #statusAt = :at'
        : 'SET #execution.#outcome = :outcome, #execution.#at = :at',
      ConditionExpression: '#execution.#recordId = :recordId AND attribute_not_exists(#execution.#outcome)',
      ExpressionAttributeNames: {
        '#execution': 'execution',
        '#recordId': 'recordId',
        '#outcome': 'outcome',
        '#at': 'at',
        ...(acted ? { '#status': 'status', '#statusReason': 'statusReason', '#statusAt': 'statusAt' } : {}),
      },
      ExpressionAttributeValues: {
        ':outcome': S(outcome),
        ':at': S(at),
        ':recordId': S(recordId),
        ...(acted ? { ':executed': S('executed'), ':reason': S(`executed by ${recordId}`) } : {}),
      },
    });
    if (!settled)
      throw new ExecutionClaimError(
        `cannot settle ${id} for ${recordId}: it does not hold an unsettled claim`,
        {
          cause: new Error('The conditional request failed'),
        },
      );
  }

  /** Every proposal of one index partition, newest first, across pages (filtered by function). */
  private async query(
    index: { name: string; partitionKey: string },
    value: string,
    filter: Filter,
  ): Promise<Proposal[]> {
    const out: Proposal[] = [];
    let start: Item | undefined;
    do {
      const query = new QueryCommand({
        TableName: this.tableName,
        IndexName: index.name,
        KeyConditionExpression: '#pk = :pk',
        ...(filter.function ? { FilterExpression: '#function = :function' } : {}),
        ExpressionAttributeNames: {
          '#pk': index.partitionKey,
          ...(filter.function ? { '#function': 'function' } : {}),
        },
        ExpressionAttributeValues: {
          ':pk': S(value),
          ...(filter.function ? { ':function': S(filter.function) } : {}),
        },
        ScanIndexForward: false,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      const page = await this.call('Query', `${index.name} ${value}`, () => this.client.send(query));
      for (const item of page.Items ?? []) out.push(fromAttributeMap(item) as unknown as Proposal);
      start = page.LastEvaluatedKey;
    } while (start && (filter.limit === undefined || out.length < filter.limit));
    return out;
  }

  private update(id: string, input: Omit<UpdateItemCommandInput, 'TableName' | 'Key'>): Promise<boolean> {
    const update = new UpdateItemCommand({ TableName: this.tableName, Key: { id: S(id) }, ...input });
    return this.conditional('UpdateItem', id, () => this.client.send(update));
  }

  /** Run a conditional write: true when it was applied, false when its condition did not hold. */
  private async conditional(op: string, what: string, send: () => Promise<unknown>): Promise<boolean> {
    try {
      await send();
      return true;
    } catch (err) {
      if (isConditionFailed(err)) return false;
      throw new ProposalStoreError(`proposals table ${op} (${what}) failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private async call<T>(op: string, what: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      throw new ProposalStoreError(`proposals table ${op} (${what}) failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
