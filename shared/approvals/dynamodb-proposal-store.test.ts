import {
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDbProposalStore } from './dynamodb-proposal-store';
import { ProposalStoreError } from './errors';
import { aProposal } from './testing/fixtures';
import { describeProposalStoreContract } from './testing/proposal-store.contract';
import { scriptApprovalsTables } from './testing/scripted-approvals-tables';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });

describeProposalStoreContract('DynamoDbProposalStore (scripted DynamoDB)', () => {
  ddb.reset();
  scriptApprovalsTables(ddb);
  return new DynamoDbProposalStore({ tableName: 'proposals', client });
});

const denied = () => Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' });

describe('DynamoDbProposalStore', () => {
  it('stores the proposal as a native map keyed by id, with the index attributes at top level', async () => {
    ddb.reset();
    const tables = scriptApprovalsTables(ddb);
    const p = aProposal();
    await new DynamoDbProposalStore({ tableName: 'proposals', client }).create(p);
    const item = tables.proposals.get(p.id);
    expect(item).toMatchObject({
      id: { S: p.id },
      key: { S: p.key },
      status: { S: 'open' },
      createdAt: { S: p.createdAt },
      changes: { L: [{ M: expect.objectContaining({ kind: { S: 'delete' } }) }] },
    });
    expect(item?.supersedes).toBeUndefined();
  });

  it('queries the newest proposals of a key first, from the byKey index', async () => {
    ddb.reset();
    scriptApprovalsTables(ddb);
    await new DynamoDbProposalStore({ tableName: 'proposals', client }).byKey('k');
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input).toMatchObject({
      TableName: 'proposals',
      IndexName: 'byKey',
      ScanIndexForward: false,
    });
  });

  it.each([
    ['create', PutItemCommand, (s: DynamoDbProposalStore) => s.create(aProposal())],
    ['get', GetItemCommand, (s: DynamoDbProposalStore) => s.get('fwp-x')],
    ['list', QueryCommand, (s: DynamoDbProposalStore) => s.list({ status: 'open' })],
    [
      'transition',
      UpdateItemCommand,
      (s: DynamoDbProposalStore) => s.transition('fwp-x', ['open'], 'void', 'r', 'now'),
    ],
    [
      'claimExecution',
      UpdateItemCommand,
      (s: DynamoDbProposalStore) => s.claimExecution('fwp-x', 'rec', 'now'),
    ],
  ] as const)(
    '%s fails with a ProposalStoreError carrying the cause, never reads a failure as an answer',
    async (_n, command, call) => {
      ddb.reset();
      const cause = denied();
      // biome-ignore lint/suspicious/noExplicitAny: one command class of several
      ddb.on(command as any).rejects(cause);
      const err = await call(new DynamoDbProposalStore({ tableName: 'proposals', client })).catch((e) => e);
      expect(err).toBeInstanceOf(ProposalStoreError);
      expect(err.cause).toBe(cause);
    },
  );
});
