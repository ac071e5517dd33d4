import type { CfnResource } from 'aws-cdk-lib';
import { NagMessageLevel, NagRuleCompliance, type NagRuleResult } from 'cdk-nag';
import { unscopedMutations } from '../iam-actions';
import { type FleetRule, renderedResource } from './rule';

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: unknown;
  Condition?: Record<string, unknown>;
}

function documentsOf(type: string, props: Record<string, unknown>): Array<{ Statement?: Statement[] }> {
  if (type === 'AWS::IAM::Policy' || type === 'AWS::IAM::ManagedPolicy') {
    return [props.PolicyDocument as { Statement?: Statement[] }];
  }
  if (type === 'AWS::IAM::Role' || type === 'AWS::IAM::User' || type === 'AWS::IAM::Group') {
    return ((props.Policies as Array<{ PolicyDocument: { Statement?: Statement[] } }> | undefined) ?? []).map(
      (p) => p.PolicyDocument,
    );
  }
  return [];
}

export const IamNoUnconditionedMutatingWildcard: FleetRule = {
  id: 'IamNoUnconditionedMutatingWildcard',
  info: 'An IAM policy allows a mutating action on "*" without a condition.',
  explanation:
    'Every mutating permission must be scoped to resource ARNs or to tag/condition keys, so a bug or a stolen credential cannot touch resources the fleet does not own. Findings are per action (Action::<name>) and can be acknowledged one by one with a reason. Actions AWS documents as supporting no resource ARN or condition key are listed with their reason in infra/guardrails/iam-actions.ts.',
  level: NagMessageLevel.ERROR,
  check(node: CfnResource): NagRuleResult {
    const { Type, Properties } = renderedResource(node);
    const documents = documentsOf(Type, Properties);
    if (documents.length === 0) return NagRuleCompliance.NOT_APPLICABLE;
    const findings = new Set<string>();
    for (const doc of documents) {
      for (const st of doc?.Statement ?? []) {
        if (st.Effect !== 'Allow') continue;
        const resources = [st.Resource].flat();
        const hasCondition = st.Condition !== undefined && Object.keys(st.Condition).length > 0;
        if (!resources.includes('*') || hasCondition) continue;
        for (const action of unscopedMutations([st.Action ?? []].flat())) findings.add(`Action::${action}`);
      }
    }
    return findings.size > 0 ? [...findings] : NagRuleCompliance.COMPLIANT;
  },
};
