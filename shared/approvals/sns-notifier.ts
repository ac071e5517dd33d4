import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { defaultSnsClient } from '../aws/clients';
import { ProposalNotifyError } from './errors';
import { proposalMessage } from './message';
import type { Proposal } from './model';
import type { ProposalNotifier } from './port';

/**
 * Announces a proposal on the proposals SNS topic (PROPOSAL_TOPIC_ARN): email subscriptions work
 * out of the box; the message is `proposalMessage` (what, why, blast radius, evidence, expiry, the
 * commands). A failed publish fails the proposing run (the gate voids the unannounced proposal).
 */
export class SnsProposalNotifier implements ProposalNotifier {
  private readonly topicArn: string;
  private readonly client: SNSClient;

  constructor(o: { topicArn: string; client?: SNSClient }) {
    this.topicArn = o.topicArn;
    this.client = o.client ?? defaultSnsClient();
  }

  async proposed(proposal: Proposal): Promise<void> {
    const { subject, body } = proposalMessage(proposal);
    const publish = new PublishCommand({
      TopicArn: this.topicArn,
      Subject: subject,
      Message: body,
      MessageAttributes: {
        proposalId: { DataType: 'String', StringValue: proposal.id },
        function: { DataType: 'String', StringValue: proposal.function },
      },
    });
    try {
      await this.client.send(publish);
    } catch (err) {
      throw new ProposalNotifyError(
        `could not publish proposal ${proposal.id} to ${this.topicArn}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
