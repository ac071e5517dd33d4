import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDbDecisionStore } from './dynamodb-decision-store';
import { DecisionStoreError } from './errors';
import { describeDecisionStoreContract } from './testing/decision-store.contract';
import { ALICE, aDecision, aProposal } from './testing/fixtures';
import { scriptApprovalsTables } from './testing/scripted-approvals-tables';

const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'eu-west-1' });

describeDecisionStoreContract('DynamoDbDecisionStore (scripted DynamoDB)', () => {
  ddb.reset();
  scriptApprovalsTables(ddb);
  return new DynamoDbDecisionStore({ tableName: 'decisions', client });
});

describe('DynamoDbDecisionStore', () => {
  const p = aProposal();

  it('keys a decision by proposal and approver ARN, the whole decision in `decision`', async () => {
    ddb.reset();
    const tables = scriptApprovalsTables(ddb);
    await new DynamoDbDecisionStore({ tableName: 'decisions', client }).decide(aDecision(p, ALICE));
    const [item] = tables.decisions.values();
    expect(item).toMatchObject({
      proposalId: { S: p.id },
      approver: { S: ALICE },
      decision: {
        M: expect.objectContaining({ decision: { S: 'approve' }, fingerprint: { S: p.fingerprint } }),
      },
    });
  });

  it('fails with a DecisionStoreError carrying the cause (a denied write is no "exists")', async () => {
    ddb.reset();
    const denied = Object.assign(new Error('not authorized to perform: dynamodb:PutItem'), {
      name: 'AccessDeniedException',
    });
    ddb.on(PutItemCommand).rejects(denied);
    ddb.on(QueryCommand).rejects(denied);
    const store = new DynamoDbDecisionStore({ tableName: 'decisions', client });
    const write = await store.decide(aDecision(p, ALICE)).catch((e) => e);
    expect(write).toBeInstanceOf(DecisionStoreError);
    expect(write.cause).toBe(denied);
    await expect(store.decisions(p.id)).rejects.toBeInstanceOf(DecisionStoreError);
  });

  it('refuses a stored decision that is not a decision, naming it, rather than judging half of it', async () => {
    ddb.reset();
    ddb.on(QueryCommand).resolves({
      Items: [
        { proposalId: { S: p.id }, approver: { S: ALICE }, decision: { M: { decision: { S: 'approve' } } } },
      ],
    });
    const err = await new DynamoDbDecisionStore({ tableName: 'decisions', client })
      .decisions(p.id)
      .catch((e) => e);
    expect(err).toBeInstanceOf(DecisionStoreError);
    expect(err.message).toContain(`decision of ${ALICE} about ${p.id} is unreadable`);
  });
});
