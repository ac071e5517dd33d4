import { type CfnResource, Stack } from 'aws-cdk-lib';
import type { NagMessageLevel, NagRuleResult } from 'cdk-nag';

/**
 * One project rule, cdk-nag style: an id (the rule is reported as `Fleetwarden-<id>` and
 * acknowledged with `Validations.of(x).acknowledge({ id: 'Fleetwarden-<id>', reason })`), the text
 * shown on a violation, and a pure check over one CloudFormation resource.
 */
export interface FleetRule {
  readonly id: string;
  readonly info: string;
  readonly explanation: string;
  readonly level: NagMessageLevel;
  readonly check: (node: CfnResource) => NagRuleResult;
}

/** The resource as it will appear in the template: `{ Type, Properties }` with tokens resolved. */
export function renderedResource(node: CfnResource): { Type: string; Properties: Record<string, unknown> } {
  const rendered = Stack.of(node).resolve(
    (node as unknown as { _toCloudFormation(): { Resources: Record<string, unknown> } })._toCloudFormation(),
  ) as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
  const [resource] = Object.values(rendered.Resources);
  return { Type: resource?.Type ?? node.cfnResourceType, Properties: resource?.Properties ?? {} };
}
