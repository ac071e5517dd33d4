import type { CfnResource } from 'aws-cdk-lib';
import { NagPack, type NagPackProps } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { IamNoUnconditionedMutatingWildcard } from './rules/iam-no-unconditioned-mutating-wildcard';
import { LambdaIsFleetFunction } from './rules/lambda-is-fleet-function';
import { LogGroupHasRetention } from './rules/log-group-has-retention';
import { QueuePolicyNamesSourceRule } from './rules/queue-policy-names-source-rule';
import type { FleetRule } from './rules/rule';

/** The project's own rules, one per file under ./rules. AGENTS.md describes each in prose. */
export const FLEETWARDEN_RULES: readonly FleetRule[] = [
  LambdaIsFleetFunction,
  IamNoUnconditionedMutatingWildcard,
  LogGroupHasRetention,
  QueuePolicyNamesSourceRule,
];

/** cdk-nag v3 pack running the project's rules; register with `Validations.of(app).addPlugins(...)`. */
export class FleetwardenChecks extends NagPack {
  public readonly name = 'Fleetwarden';

  constructor(scope?: IConstruct, props?: NagPackProps) {
    super(scope, props);
    this.packName = 'Fleetwarden';
  }

  protected checkResource(node: CfnResource): void {
    for (const rule of FLEETWARDEN_RULES) {
      this.applyRule({
        ruleSuffixOverride: rule.id,
        info: rule.info,
        explanation: rule.explanation,
        level: rule.level,
        rule: rule.check,
        node,
      });
    }
  }
}
