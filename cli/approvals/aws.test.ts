import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { awsApprovals } from './aws';

const cfn = mockClient(CloudFormationClient);

beforeEach(() => cfn.reset());

describe('awsApprovals stackOutputs', () => {
  it("returns the stack's outputs by key", async () => {
    cfn.on(DescribeStacksCommand, { StackName: 'Fleetwarden' }).resolves({
      Stacks: [
        {
          StackName: 'Fleetwarden',
          CreationTime: new Date(),
          StackStatus: 'UPDATE_COMPLETE',
          Outputs: [
            { OutputKey: 'ApproverRoleArn', OutputValue: 'arn:aws:iam::123456789012:role/A' },
            { OutputKey: 'ProposalsTableName', OutputValue: 'Fleetwarden-Proposals' },
            { OutputKey: 'NoValue' },
          ],
        },
      ],
    });
    const outputs = await awsApprovals({ region: 'eu-west-1' }).stackOutputs('Fleetwarden');
    expect(outputs).toEqual({
      ApproverRoleArn: 'arn:aws:iam::123456789012:role/A',
      ProposalsTableName: 'Fleetwarden-Proposals',
    });
  });

  it('answers undefined for a stack that does not exist, and rethrows anything else', async () => {
    cfn
      .on(DescribeStacksCommand)
      .rejectsOnce(
        Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }),
      );
    expect(await awsApprovals({ region: 'eu-west-1' }).stackOutputs('Nope')).toBeUndefined();
    cfn.reset();
    cfn.on(DescribeStacksCommand).rejects(
      Object.assign(new Error('not authorized to perform: cloudformation:DescribeStacks'), {
        name: 'AccessDenied',
      }),
    );
    await expect(awsApprovals({ region: 'eu-west-1' }).stackOutputs('Fleetwarden')).rejects.toThrow(
      'not authorized',
    );
  });
});

describe('awsApprovals tables', () => {
  const ddb = mockClient(DynamoDBClient);
  beforeEach(() => ddb.reset());
  const session = {
    identity: {
      arn: 'arn:aws:sts::123456789012:assumed-role/OnCall/alice',
      sessionArn: 'arn:aws:sts::123456789012:assumed-role/FleetwardenApprover/alice',
      account: '123456789012',
    },
    credentials: { accessKeyId: 'ASIASESSION', secretAccessKey: 's', sessionToken: 't' },
    requestIds: ['sts-1'],
  };
  const decision = {
    proposalId: 'fwp-1',
    fingerprint: 'f',
    decision: 'approve' as const,
    reason: 'ok',
    approver: session.identity,
    decidedAt: '2026-11-30T10:00:00.000Z',
    requestIds: ['sts-1'],
  };

  it('writes the decision with the Approver session credentials and keeps the PutItem request id', async () => {
    ddb.on(PutItemCommand).resolves({ $metadata: { requestId: 'put-req-1' } });
    const writer = awsApprovals({ region: 'eu-west-1' }).writer('Fleetwarden-Decisions', session);
    expect(await writer.decide(decision)).toBe('written');
    expect(writer.requestIds()).toEqual(['put-req-1']);
    const call = ddb.commandCalls(PutItemCommand)[0];
    expect(call?.args[0].input.TableName).toBe('Fleetwarden-Decisions');
    const client = call?.thisValue as DynamoDBClient;
    expect((await client.config.credentials()).accessKeyId).toBe('ASIASESSION');
  });

  it('reads proposals and decisions from the named tables with the caller credentials', async () => {
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(GetItemCommand).resolves({});
    const aws = awsApprovals({ region: 'eu-west-1' });
    expect(await aws.decisions('D').decisions('fwp-1')).toEqual([]);
    expect(await aws.proposals('P').get('fwp-1')).toBeUndefined();
    expect(ddb.commandCalls(QueryCommand)[0]?.args[0].input.TableName).toBe('D');
    expect(ddb.commandCalls(GetItemCommand)[0]?.args[0].input.TableName).toBe('P');
  });
});
