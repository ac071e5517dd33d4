import type { CfnResource } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagRuleCompliance } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { EVENT_DELIVERY, TrustedQueueTarget } from '../../constructs/rule-targets';
import { QueuePolicyNamesSourceRule } from './queue-policy-names-source-rule';
import { testStack } from './rules.test-helpers';

function queueWithRule(target: (q: sqs.Queue, dlq: sqs.Queue) => events.IRuleTarget) {
  const { stack } = testStack();
  const key = new kms.Key(stack, 'K');
  const queue = new sqs.Queue(stack, 'Q', { encryptionMasterKey: key });
  const dlq = new sqs.Queue(stack, 'D', { encryptionMasterKey: key });
  new events.Rule(stack, 'R', {
    eventPattern: { source: ['aws.ec2'] },
    targets: [target(queue, dlq)],
  });
  const policy = stack.node
    .findAll()
    .find(
      (c) => (c as CfnResource).cfnResourceType === 'AWS::SQS::QueuePolicy' && c.node.path.includes('/Q/'),
    );
  return policy as CfnResource;
}

describe('Fleetwarden-QueuePolicyNamesSourceRule', () => {
  it("passes a queue policy that lets EventBridge send only from the rule's ARN (TrustedQueueTarget)", () => {
    const policy = queueWithRule(
      (q, dlq) => new TrustedQueueTarget(q, { deadLetterQueue: dlq, ...EVENT_DELIVERY }),
    );
    expect(QueuePolicyNamesSourceRule.check(policy)).toBe(NagRuleCompliance.COMPLIANT);
  });

  it("flags CDK's SqsQueue target on an encrypted queue: EventBridge may send from any rule", () => {
    const policy = queueWithRule((q) => new targets.SqsQueue(q));
    expect(QueuePolicyNamesSourceRule.check(policy)).toBe(NagRuleCompliance.NON_COMPLIANT);
  });

  it('ignores other resources', () => {
    const { topic } = testStack();
    expect(QueuePolicyNamesSourceRule.check(topic.node.defaultChild as CfnResource)).toBe(
      NagRuleCompliance.NOT_APPLICABLE,
    );
  });
});
