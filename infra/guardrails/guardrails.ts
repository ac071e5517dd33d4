import { type App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FleetwardenChecks } from './fleetwarden-checks';

/**
 * Register every guardrail on the app: cdk-nag's AwsSolutions pack and the project's own pack.
 * Any unacknowledged finding fails `cdk synth` (CDK policy validation).
 */
export function applyGuardrails(app: App): void {
  Validations.of(app).addPlugins(
    new AwsSolutionsChecks(app, { verbose: true }),
    new FleetwardenChecks(app, { verbose: true }),
  );
}
