import type { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance } from 'cdk-nag';
import { FleetFunction } from '../../constructs/fleet-function';
import type { FleetRule } from './rule';

export const LambdaIsFleetFunction: FleetRule = {
  id: 'LambdaIsFleetFunction',
  info: 'The Lambda function is not built with the FleetFunction construct.',
  explanation:
    'FleetFunction is how the fleet guarantees bundling, tracing, an encrypted log group with retention, a DLQ, alarms and allow()-only IAM. A function built another way silently drops some of them. CDK-internal singleton functions must be acknowledged with a reason.',
  level: NagMessageLevel.ERROR,
  check(node: CfnResource) {
    if (
      node.cfnResourceType !== 'AWS::Lambda::Function' &&
      node.cfnResourceType !== 'AWS::Serverless::Function'
    ) {
      return NagRuleCompliance.NOT_APPLICABLE;
    }
    return FleetFunction.owning(node) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
};
