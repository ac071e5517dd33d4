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
import { fromAttributeMap, toAttributeMap } from '../attribute-values';
import { DECISIONS_TABLE, PROPOSALS_TABLE } from '../table-design';

type Item = Record<string, AttributeValue>;
type Plain = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, AttributeValue>;

const meta = { $metadata: { httpStatusCode: 200, requestId: 'req-scripted' } };
const failed = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

/** The expressions DynamoDbProposalStore issues, exactly; anything else fails loudly. */
export const PROPOSAL_EXPRESSIONS = {
  create: 'attribute_not_exists(#id)',
  transition: 'SET #status = :to, #statusReason = :reason, #statusAt = :at',
  claim: 'SET #execution = :execution',
  claimCondition:
    '#status = :approved AND (attribute_not_exists(#execution) OR #execution.#recordId = :recordId OR #execution.#outcome = :failed)',
  settleActed:
    'SET #execution.#outcome = :outcome, #execution.#at = :at, #status = :executed, #statusReason = :reason, #statusAt = :at',
  settleFailed: 'SET #execution.#outcome = :outcome, #execution.#at = :at',
  settleCondition: '#execution.#recordId = :recordId AND attribute_not_exists(#execution.#outcome)',
  byPartition: '#pk = :pk',
  byFunction: '#function = :function',
} as const;

function expectNames(names: Names, expected: Record<string, string>): void {
  for (const [k, v] of Object.entries(expected))
    if (names?.[k] !== v) throw new Error(`fake table: ${k} should name ${v}, got ${names?.[k]}`);
}

const s = (v: Values, k: string) => {
  const x = v[k]?.S;
  if (x === undefined) throw new Error(`fake table: ${k} missing`);
  return x;
};

/**
 * Scripts an aws-sdk-client-mock DynamoDB stub to behave like the approvals tables (by TableName)
 * for the expressions the adapters issue: conditional puts and updates fail with
 * ConditionalCheckFailedException, GSI queries are paged (`pageSize` items, LastEvaluatedKey) and
 * filtered after the page is read, as DynamoDB does. Returns the items for inspection.
 */
export function scriptApprovalsTables(
  stub: AwsClientStub<DynamoDBClient>,
  tables: { proposals?: string; decisions?: string } = { proposals: 'proposals', decisions: 'decisions' },
  pageSize = 2,
): { proposals: Map<string, Item>; decisions: Map<string, Item> } {
  const proposals = new Map<string, Item>();
  const decisions = new Map<string, Item>();
  const which = (name: string | undefined) => {
    if (name && name === tables.proposals) return 'proposals';
    if (name && name === tables.decisions) return 'decisions';
    throw new Error(`fake table: unknown table ${name}`);
  };
  stub.on(PutItemCommand).callsFake((input) => {
    const item = input.Item as Item;
    if (which(input.TableName) === 'proposals') {
      if (input.ConditionExpression !== PROPOSAL_EXPRESSIONS.create)
        throw new Error('fake table: unconditional put');
      expectNames(input.ExpressionAttributeNames, { '#id': PROPOSALS_TABLE.partitionKey });
      const id = item.id?.S ?? '';
      if (proposals.has(id)) throw failed();
      proposals.set(id, structuredClone(item));
      return meta;
    }
    if (input.ConditionExpression !== 'attribute_not_exists(#pk)')
      throw new Error('fake table: unconditional put');
    expectNames(input.ExpressionAttributeNames, { '#pk': DECISIONS_TABLE.partitionKey });
    const key = `${item.proposalId?.S}\u0000${item.approver?.S}`;
    if (decisions.has(key)) throw failed();
    decisions.set(key, structuredClone(item));
    return meta;
  });
  stub.on(GetItemCommand).callsFake((input) => {
    which(input.TableName);
    if (input.ConsistentRead !== true) throw new Error('fake table: a proposal is read consistently');
    const item = proposals.get(input.Key?.id?.S ?? '');
    return { ...meta, ...(item ? { Item: structuredClone(item) } : {}) };
  });
  stub
    .on(QueryCommand)
    .callsFake((input) =>
      which(input.TableName) === 'proposals'
        ? queryProposals(proposals, input, pageSize)
        : queryDecisions(decisions, input, pageSize),
    );
  stub.on(UpdateItemCommand).callsFake((input) => {
    which(input.TableName);
    const id = input.Key?.id?.S ?? '';
    const current = proposals.get(id);
    const next = updateProposal(current && fromAttributeMap(current), input);
    proposals.set(id, toAttributeMap(next));
    return meta;
  });
  return { proposals, decisions };
}

interface QueryInput {
  IndexName?: string;
  KeyConditionExpression?: string;
  FilterExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Values;
  ExclusiveStartKey?: Item;
  ScanIndexForward?: boolean;
  ConsistentRead?: boolean;
  Limit?: number;
}

function page(sorted: Item[], start: Item | undefined, size: number, keyOf: (i: Item) => Item) {
  const from = start ? sorted.findIndex((i) => JSON.stringify(keyOf(i)) === JSON.stringify(start)) + 1 : 0;
  const items = sorted.slice(from, from + size);
  const last = items.at(-1);
  const more = from + size < sorted.length;
  return { items, ...(more && last ? { LastEvaluatedKey: keyOf(last) } : {}) };
}

function queryProposals(items: Map<string, Item>, input: QueryInput, pageSize: number) {
  const index = Object.values(PROPOSALS_TABLE.indexes).find((i) => i.name === input.IndexName);
  if (!index) throw new Error(`fake table: query the proposals by an index, not ${input.IndexName}`);
  if (input.KeyConditionExpression !== PROPOSAL_EXPRESSIONS.byPartition)
    throw new Error('fake table: key condition');
  expectNames(input.ExpressionAttributeNames, { '#pk': index.partitionKey });
  if (input.ConsistentRead) throw new Error('fake table: a GSI cannot be read consistently');
  const v = input.ExpressionAttributeValues ?? {};
  const pk = s(v, ':pk');
  const sorted = [...items.values()]
    .filter((i) => i[index.partitionKey]?.S === pk)
    .sort(
      (a, b) =>
        (a.createdAt?.S ?? '').localeCompare(b.createdAt?.S ?? '') ||
        (a.id?.S ?? '').localeCompare(b.id?.S ?? ''),
    );
  if (input.ScanIndexForward === false) sorted.reverse();
  const keyOf = (i: Item) =>
    ({ id: i.id, [index.partitionKey]: i[index.partitionKey], createdAt: i.createdAt }) as Item;
  const p = page(sorted, input.ExclusiveStartKey, Math.min(pageSize, input.Limit ?? pageSize), keyOf);
  let found = p.items;
  if (input.FilterExpression) {
    if (input.FilterExpression !== PROPOSAL_EXPRESSIONS.byFunction) throw new Error('fake table: filter');
    expectNames(input.ExpressionAttributeNames, { '#function': 'function' });
    found = found.filter((i) => i.function?.S === s(v, ':function'));
  }
  return {
    ...meta,
    Items: found.map((i) => structuredClone(i)),
    ...(p.LastEvaluatedKey ? { LastEvaluatedKey: p.LastEvaluatedKey } : {}),
  };
}

function queryDecisions(items: Map<string, Item>, input: QueryInput, pageSize: number) {
  if (input.IndexName) throw new Error('fake table: the decisions table has no index');
  if (input.KeyConditionExpression !== PROPOSAL_EXPRESSIONS.byPartition)
    throw new Error('fake table: key condition');
  expectNames(input.ExpressionAttributeNames, { '#pk': DECISIONS_TABLE.partitionKey });
  if (input.ConsistentRead !== true) throw new Error('fake table: decisions are read consistently');
  const pk = s(input.ExpressionAttributeValues ?? {}, ':pk');
  const sorted = [...items.values()]
    .filter((i) => i.proposalId?.S === pk)
    .sort((a, b) => (a.approver?.S ?? '').localeCompare(b.approver?.S ?? ''));
  const p = page(
    sorted,
    input.ExclusiveStartKey,
    pageSize,
    (i) => ({ proposalId: i.proposalId, approver: i.approver }) as Item,
  );
  return {
    ...meta,
    Items: p.items.map((i) => structuredClone(i)),
    ...(p.LastEvaluatedKey ? { LastEvaluatedKey: p.LastEvaluatedKey } : {}),
  };
}

interface UpdateInput {
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Values;
}

/** The three conditional updates of the proposals table, applied to the stored proposal (plain). */
function updateProposal(p: Plain | undefined, input: UpdateInput): Plain {
  const v = fromAttributeMap(input.ExpressionAttributeValues ?? {});
  const names = input.ExpressionAttributeNames;
  const e = PROPOSAL_EXPRESSIONS;
  const exec = p?.execution as Plain | undefined;
  if (input.UpdateExpression === e.transition) {
    expectNames(names, { '#status': 'status', '#statusReason': 'statusReason', '#statusAt': 'statusAt' });
    const from = /^#status IN \((:from\d+(?:, :from\d+)*)\)$/.exec(input.ConditionExpression ?? '');
    if (!from?.[1]) throw new Error(`fake table: transition condition ${input.ConditionExpression}`);
    const allowed = from[1].split(', ').map((k) => v[k]);
    if (!p || !allowed.includes(p.status)) throw failed();
    return { ...p, status: v[':to'], statusReason: v[':reason'], statusAt: v[':at'] };
  }
  if (input.UpdateExpression === e.claim) {
    if (input.ConditionExpression !== e.claimCondition) throw new Error('fake table: claim condition');
    expectNames(names, {
      '#status': 'status',
      '#execution': 'execution',
      '#recordId': 'recordId',
      '#outcome': 'outcome',
    });
    const free = !exec || exec.recordId === v[':recordId'] || exec.outcome === v[':failed'];
    if (!p || p.status !== v[':approved'] || !free) throw failed();
    return { ...p, execution: v[':execution'] };
  }
  if (input.UpdateExpression === e.settleActed || input.UpdateExpression === e.settleFailed) {
    if (input.ConditionExpression !== e.settleCondition) throw new Error('fake table: settle condition');
    expectNames(names, {
      '#execution': 'execution',
      '#recordId': 'recordId',
      '#outcome': 'outcome',
      '#at': 'at',
    });
    if (!p || !exec || exec.recordId !== v[':recordId'] || exec.outcome !== undefined) throw failed();
    const next = { ...p, execution: { ...exec, outcome: v[':outcome'], at: v[':at'] } };
    if (input.UpdateExpression === e.settleFailed) return next;
    expectNames(names, { '#status': 'status', '#statusReason': 'statusReason', '#statusAt': 'statusAt' });
    return { ...next, status: v[':executed'], statusReason: v[':reason'], statusAt: v[':at'] };
  }
  throw new Error(`fake table: unexpected update ${input.UpdateExpression}`);
}
