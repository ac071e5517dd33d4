import type { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance } from 'cdk-nag';
import { type FleetRule, renderedResource } from './rule';

export const LogGroupHasRetention: FleetRule = {
  id: 'LogGroupHasRetention',
  info: 'The log group keeps its events forever.',
  explanation:
    'Every log group must set RetentionInDays: unbounded retention is unbounded cost and keeps personal data longer than any policy allows. Audit evidence that must outlive logs belongs in the audit table.',
  level: NagMessageLevel.ERROR,
  check(node: CfnResource) {
    if (node.cfnResourceType !== 'AWS::Logs::LogGroup') return NagRuleCompliance.NOT_APPLICABLE;
    const { Properties } = renderedResource(node);
    return typeof Properties.RetentionInDays === 'number'
      ? NagRuleCompliance.COMPLIANT
      : NagRuleCompliance.NON_COMPLIANT;
  },
};
