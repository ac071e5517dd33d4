import type { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance } from 'cdk-nag';
import { type FleetRule, renderedResource } from './rule';

interface Statement {
  Effect?: string;
  Principal?: { Service?: string | string[] } | string;
  Condition?: Record<string, Record<string, unknown>>;
}

const SERVICE = 'events.amazonaws.com';

function allowsEventBridge(s: Statement): boolean {
  if (s.Effect !== 'Allow' || typeof s.Principal !== 'object') return false;
  return [s.Principal.Service ?? []].flat().includes(SERVICE);
}

function namesSourceArn(s: Statement): boolean {
  return Object.values(s.Condition ?? {}).some((keys) =>
    Object.keys(keys).some((k) => k.toLowerCase() === 'aws:sourcearn'),
  );
}

export const QueuePolicyNamesSourceRule: FleetRule = {
  id: 'QueuePolicyNamesSourceRule',
  info: 'The queue policy lets EventBridge send without naming the rule (aws:SourceArn).',
  explanation:
    'Without an aws:SourceArn condition any rule in the account (PutRule + PutTargets) can deliver any body to the queue, and the fleet would read it as an AWS event. Target queues with TrustedQueueTarget (infra/constructs/rule-targets.ts), which conditions the policy on the rule ARN.',
  level: NagMessageLevel.ERROR,
  check(node: CfnResource) {
    if (node.cfnResourceType !== 'AWS::SQS::QueuePolicy') return NagRuleCompliance.NOT_APPLICABLE;
    const doc = renderedResource(node).Properties.PolicyDocument as { Statement?: Statement[] } | undefined;
    const open = (doc?.Statement ?? []).filter(allowsEventBridge).filter((s) => !namesSourceArn(s));
    return open.length === 0 ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
};
