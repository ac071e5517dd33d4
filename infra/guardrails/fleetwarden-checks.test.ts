import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { FleetFunction } from '../constructs/fleet-function';
import { FleetwardenChecks } from './fleetwarden-checks';
import { noopEntry, testStack } from './rules/rules.test-helpers';

describe('FleetwardenChecks pack', () => {
  it('reports nothing for a stack built the fleet way', () => {
    const { stack, topic } = testStack();
    const ff = new FleetFunction(stack, 'F', { entry: noopEntry, description: 'd', alarmTopic: topic });
    ff.allow({ actions: ['ec2:DescribeInstances'], resources: ['*'] });
    const report = new FleetwardenChecks().validateScope(stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('reports each rule by its Fleetwarden- id with the offending construct path', () => {
    const { stack } = testStack();
    new lambda.Function(stack, 'Raw', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1'),
      logGroup: new logs.LogGroup(stack, 'Forever', { retention: logs.RetentionDays.INFINITE }),
      initialPolicy: [new iam.PolicyStatement({ actions: ['ec2:TerminateInstances'], resources: ['*'] })],
    });
    const report = new FleetwardenChecks().validateScope(stack);
    const ids = report.violations.map((v) => v.ruleName).sort();
    expect(ids).toEqual([
      'Fleetwarden-IamNoUnconditionedMutatingWildcard[Action::ec2:TerminateInstances]',
      'Fleetwarden-LambdaIsFleetFunction',
      'Fleetwarden-LogGroupHasRetention',
    ]);
    const lambdaViolation = report.violations.find((v) => v.ruleName === 'Fleetwarden-LambdaIsFleetFunction');
    expect(lambdaViolation?.violatingResources[0]?.constructPath).toBe('RuleTest/Raw/Resource');
    expect(report.success).toBe(false);
  });

  it('honours an acknowledgement with a reason', () => {
    const { stack } = testStack();
    const fn = new lambda.Function(stack, 'Raw', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1'),
      logGroup: new logs.LogGroup(stack, 'Lg', { retention: logs.RetentionDays.ONE_DAY }),
    });
    Validations.of(fn).acknowledge({ id: 'Fleetwarden-LambdaIsFleetFunction', reason: 'test fixture' });
    expect(new FleetwardenChecks().validateScope(stack).violations).toEqual([]);
  });
});
