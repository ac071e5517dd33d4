import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalSettings } from './settings';
import { aChange } from './testing/fixtures';
import { approvalGate } from './wiring';

const ddb = mockClient(DynamoDBClient);
const sns = mockClient(SNSClient);

const settings: ApprovalSettings = {
  proposalsTable: 'Fleet-Proposals',
  decisionsTable: 'Fleet-Decisions',
  topicArn: 'arn:aws:sns:eu-west-1:123456789012:Fleet-Proposals',
  approverRoleArn: 'arn:aws:iam::123456789012:role/fleetwarden-approver-Fleet',
  approvers: ['arn:aws:iam::123456789012:role/OnCall'],
  required: 1,
  twoPerson: true,
  expiry: 3600,
};

describe('approvalGate (the wiring a gated entry loads): the real gate on the deployed tables and topic', () => {
  beforeEach(() => {
    ddb.reset();
    sns.reset();
    ddb.on(QueryCommand).resolves({ Items: [] });
    ddb.on(PutItemCommand).resolves({});
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  it('proposes into PROPOSALS_TABLE, announces on PROPOSAL_TOPIC_ARN, expiring after PROPOSAL_EXPIRY', async () => {
    const gate = approvalGate('orphaned-volumes', settings);
    const verdict = await gate.check({
      function: 'orphaned-volumes',
      why: 'irreversible',
      reason: 'orphaned volume',
      changes: [aChange()],
      trigger: { source: 'fleetwarden.schedule', id: 'sched-1' },
      triggerId: 'orphaned-volumes:trigger-1',
      claimant: 'orphaned-volumes:rec-1',
    });
    expect(verdict.approved).toBe(false);
    const [query] = ddb.commandCalls(QueryCommand);
    expect(query?.args[0].input).toMatchObject({ TableName: 'Fleet-Proposals', IndexName: 'byKey' });
    const [put] = ddb.commandCalls(PutItemCommand);
    const item = put?.args[0].input.Item;
    expect(put?.args[0].input.TableName).toBe('Fleet-Proposals');
    const created = Date.parse(String(item?.createdAt?.S));
    expect(Date.parse(String(item?.expiresAt?.S)) - created).toBe(3600 * 1000);
    const [publish] = sns.commandCalls(PublishCommand);
    expect(publish?.args[0].input.TopicArn).toBe(settings.topicArn);
  });
});
