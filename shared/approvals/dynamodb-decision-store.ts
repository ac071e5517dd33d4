import {
  type AttributeValue,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import '../core/zod-locale';
import * as z from 'zod/mini';
import { defaultDynamoDbClient } from '../aws/clients';
import { fromAttributeMap, toAttributeMap } from './attribute-values';
import { DecisionStoreError } from './errors';
import type { Decision } from './model';
import type { DecisionReader, DecisionWriter } from './port';
import { DECISIONS_TABLE } from './table-design';

type Item = Record<string, AttributeValue>;

/** What a stored decision must hold to be judged at all (judge decides whether it is honoured). */
const DecisionSchema = z.object({
  proposalId: z.string().check(z.minLength(1)),
  fingerprint: z.string().check(z.minLength(1)),
  decision: z.enum(['approve', 'reject']),
  reason: z.string(),
  approver: z.object({
    arn: z.string().check(z.minLength(1)),
    sessionArn: z.string().check(z.minLength(1)),
    account: z.string(),
    userId: z.optional(z.string()),
  }),
  decidedAt: z.string(),
  requestIds: z.array(z.string()),
});

/**
 * The decisions table (layout: table-design.ts): one item per (proposal, approver ARN), the whole
 * decision in `decision`. Writes are conditional (attribute_not_exists): a decision is never
 * overwritten. Only the Approver role can write (IAM + the table's resource policy); fleet
 * functions only read, consistently, so a decision just written is seen by the next run.
 */
export class DynamoDbDecisionStore implements DecisionReader, DecisionWriter {
  private readonly tableName: string;
  private readonly client: DynamoDBClient;

  constructor(o: { tableName: string; client?: DynamoDBClient }) {
    this.tableName = o.tableName;
    this.client = o.client ?? defaultDynamoDbClient();
  }

  async decide(decision: Decision): Promise<'written' | 'exists'> {
    const put = new PutItemCommand({
      TableName: this.tableName,
      Item: {
        [DECISIONS_TABLE.partitionKey]: { S: decision.proposalId },
        [DECISIONS_TABLE.sortKey]: { S: decision.approver.arn },
        [DECISIONS_TABLE.decisionAttribute]: { M: toAttributeMap({ ...decision }) },
      },
      ConditionExpression: 'attribute_not_exists(#pk)',
      ExpressionAttributeNames: { '#pk': DECISIONS_TABLE.partitionKey },
    });
    try {
      await this.client.send(put);
      return 'written';
    } catch (err) {
      if (
        err instanceof ConditionalCheckFailedException ||
        (err as Error)?.name === 'ConditionalCheckFailedException'
      )
        return 'exists';
      throw new DecisionStoreError(
        `decisions table PutItem (${decision.proposalId}, ${decision.approver.arn}) failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }

  async decisions(proposalId: string): Promise<Decision[]> {
    const out: Decision[] = [];
    let start: Item | undefined;
    do {
      const query = new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': DECISIONS_TABLE.partitionKey },
        ExpressionAttributeValues: { ':pk': { S: proposalId } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      });
      let page: { Items?: Item[]; LastEvaluatedKey?: Item };
      try {
        page = await this.client.send(query);
      } catch (err) {
        throw new DecisionStoreError(
          `decisions table Query (${proposalId}) failed: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      for (const item of page.Items ?? []) out.push(readDecision(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}

/** The decision an item holds; an item that is not one fails the read (a human must look at it). */
function readDecision(item: Item): Decision {
  const map = item[DECISIONS_TABLE.decisionAttribute]?.M;
  const parsed = DecisionSchema.safeParse(map ? fromAttributeMap(map) : undefined);
  if (parsed.success) return parsed.data;
  const who = item[DECISIONS_TABLE.sortKey]?.S ?? '<no approver>';
  const about = item[DECISIONS_TABLE.partitionKey]?.S ?? '<no proposal>';
  throw new DecisionStoreError(`decision of ${who} about ${about} is unreadable: ${parsed.error.message}`, {
    cause: parsed.error,
  });
}
