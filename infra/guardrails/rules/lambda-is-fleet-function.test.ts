import type { CfnResource } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NagRuleCompliance } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { FleetFunction } from '../../constructs/fleet-function';
import { LambdaIsFleetFunction } from './lambda-is-fleet-function';
import { noopEntry, testStack } from './rules.test-helpers';

describe('Fleetwarden-LambdaIsFleetFunction', () => {
  it('passes a FleetFunction', () => {
    const { stack, topic } = testStack();
    const ff = new FleetFunction(stack, 'F', { entry: noopEntry, description: 'd', alarmTopic: topic });
    expect(LambdaIsFleetFunction.check(ff.fn.node.defaultChild as CfnResource)).toBe(
      NagRuleCompliance.COMPLIANT,
    );
  });

  it('flags a plain lambda.Function', () => {
    const { stack } = testStack();
    const fn = new lambda.Function(stack, 'Raw', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1'),
    });
    expect(LambdaIsFleetFunction.check(fn.node.defaultChild as CfnResource)).toBe(
      NagRuleCompliance.NON_COMPLIANT,
    );
  });

  it('ignores other resource types', () => {
    const { topic } = testStack();
    expect(LambdaIsFleetFunction.check(topic.node.defaultChild as CfnResource)).toBe(
      NagRuleCompliance.NOT_APPLICABLE,
    );
  });
});
