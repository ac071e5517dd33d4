import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
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
