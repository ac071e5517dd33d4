import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { defaultSnsClient } from '../aws/clients';
import { ProposalNotifyError } from './errors';
import { proposalMessage } from './message';
import { SnsProposalNotifier } from './sns-notifier';
import { aProposal } from './testing/fixtures';

const sns = mockClient(SNSClient);
const client = new SNSClient({ region: 'eu-west-1' });
const topicArn = 'arn:aws:sns:eu-west-1:123456789012:fleetwarden-proposals';

describe('SnsProposalNotifier', () => {
  beforeEach(() => sns.reset());

  it('publishes the proposal message to the topic, with the proposal id as an attribute', async () => {
    sns.on(PublishCommand).resolves({ MessageId: 'msg-1' });
    const p = aProposal();
    await new SnsProposalNotifier({ topicArn, client }).proposed(p);
    const { subject, body } = proposalMessage(p);
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input)).toEqual([
      {
        TopicArn: topicArn,
        Subject: subject,
        Message: body,
        MessageAttributes: {
          proposalId: { DataType: 'String', StringValue: p.id },
          function: { DataType: 'String', StringValue: 'orphaned-volumes' },
        },
      },
    ]);
  });

  it('fails with a ProposalNotifyError carrying the cause (the proposing run fails, nothing is lost quietly)', async () => {
    const cause = Object.assign(new Error('User is not authorized to perform: SNS:Publish'), {
      name: 'AuthorizationError',
    });
    sns.on(PublishCommand).rejects(cause);
    const err = await new SnsProposalNotifier({ topicArn, client }).proposed(aProposal()).catch((e) => e);
    expect(err).toBeInstanceOf(ProposalNotifyError);
    expect(err.cause).toBe(cause);
    expect(err.message).toContain(topicArn);
  });

  it('defaults to the memoised, instrumented SNS client', () => {
    expect(defaultSnsClient()).toBeInstanceOf(SNSClient);
    expect(defaultSnsClient()).toBe(defaultSnsClient());
    expect(
      defaultSnsClient()
        .middlewareStack.identify()
        .some((m) => m.startsWith('fleetwardenCallRecorder')),
    ).toBe(true);
  });
});
