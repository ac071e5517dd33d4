import type { CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { NagRuleCompliance } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { IamNoUnconditionedMutatingWildcard as rule } from './iam-no-unconditioned-mutating-wildcard';
import { testStack } from './rules.test-helpers';

function policyWith(...statements: iam.PolicyStatement[]): CfnResource {
  const { stack } = testStack();
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const policy = new iam.Policy(stack, 'Policy', { statements });
  policy.attachToRole(role);
  return policy.node.defaultChild as CfnResource;
}

describe('Fleetwarden-IamNoUnconditionedMutatingWildcard', () => {
  it('passes scoped mutations, conditioned wildcards, reads on "*" and X-Ray', () => {
    const node = policyWith(
      new iam.PolicyStatement({
        actions: ['route53:ChangeResourceRecordSets'],
        resources: ['arn:aws:route53:::hostedzone/Z1'],
      }),
      new iam.PolicyStatement({
        actions: ['ec2:TerminateInstances'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:ResourceTag/fleet': 'runners' } },
      }),
      new iam.PolicyStatement({
        actions: ['ec2:DescribeInstances', 'cloudtrail:LookupEvents'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({ actions: ['xray:PutTraceSegments'], resources: ['*'] }),
    );
    expect(rule.check(node)).toBe(NagRuleCompliance.COMPLIANT);
  });

  it('flags each mutating action on "*" without a condition, including wildcards', () => {
    const node = policyWith(
      new iam.PolicyStatement({
        actions: ['ec2:TerminateInstances', 'ec2:DescribeInstances'],
        resources: ['*'],
      }),
      new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }),
    );
    expect(rule.check(node)).toEqual(['Action::ec2:TerminateInstances', 'Action::s3:*']);
  });

  it('ignores Deny statements', () => {
    const node = policyWith(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: ['ec2:TerminateInstances'],
        resources: ['*'],
      }),
    );
    expect(rule.check(node)).toBe(NagRuleCompliance.COMPLIANT);
  });

  it('checks inline policies of roles too', () => {
    const { stack } = testStack();
    const role = new iam.Role(stack, 'Inline', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      inlinePolicies: {
        bad: new iam.PolicyDocument({
          statements: [new iam.PolicyStatement({ actions: ['sqs:DeleteQueue'], resources: ['*'] })],
        }),
      },
    });
    expect(rule.check(role.node.defaultChild as CfnResource)).toEqual(['Action::sqs:DeleteQueue']);
  });

  it('ignores non-IAM resources', () => {
    const { topic } = testStack();
    expect(rule.check(topic.node.defaultChild as CfnResource)).toBe(NagRuleCompliance.NOT_APPLICABLE);
  });
});
