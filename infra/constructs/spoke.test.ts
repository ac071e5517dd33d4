import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { REMEDIATIONS } from '../../functions/registry';
import type { AnyRemediation } from '../../shared/kernel/remediation';
import { applyGuardrails } from '../guardrails/guardrails';
import { isMutatingAction } from '../guardrails/iam-actions';
import { FleetwardenSpokeStack, type FleetwardenSpokeStackProps } from './spoke';
import { type DeployedRemediation, declaredSpokeActions } from './spoke-permissions';

const byName = (n: string) => REMEDIATIONS.find((d: AnyRemediation) => d.name === n) as AnyRemediation;
const deployed = (n: string, given: Record<string, unknown> = {}): DeployedRemediation => {
  const definition = byName(n);
  const defaults = Object.entries(definition.settings).map(([k, s]) => [
    k,
    (s as { default?: unknown }).default,
  ]);
  return { definition, settings: { ...Object.fromEntries(defaults), ...given } };
};
const FLEET = {
  autoScalingGroupNames: ['runners-a'],
  lifecycleHookName: 'fleetwarden-drain',
  fleetTagKey: 'fleetwarden:fleet',
  fleetTagValue: 'runners',
};
const REMEDIATIONS_DEPLOYED = [
  deployed('dns-sync', { zoneName: 'fleet.example.com', hostedZoneId: 'Z0123456789ABC', ownerId: 'fw' }),
  deployed('runner-drain', FLEET),
  deployed('runner-sweep', { ...FLEET, allowTerminate: true }),
  deployed('orphaned-volumes', FLEET),
];

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown; Effect: string };
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

function spoke(props: Partial<FleetwardenSpokeStackProps> = {}) {
  const app = new App();
  applyGuardrails(app);
  const stack = new FleetwardenSpokeStack(app, 'FleetwardenSpoke', {
    env: { account: '222222222222', region: 'us-east-1' },
    hubAccount: '111111111111',
    hubRegion: 'eu-west-1',
    fleetId: 'prod',
    hubRolePrefix: 'Fleetwarden-',
    regions: ['us-east-1', 'eu-central-1'],
    remediations: REMEDIATIONS_DEPLOYED,
    ...props,
  });
  return { app, stack, template: Template.fromStack(stack) };
}

function policyOf(template: Template, roleName: string): Statement[] {
  const roles = template.findResources('AWS::IAM::Role', { Properties: { RoleName: roleName } });
  const [logicalId] = Object.keys(roles);
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    JSON.stringify(p.Properties.Roles).includes(String(logicalId)),
  );
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

describe('FleetwardenSpokeStack', () => {
  it("the spoke role can do only its remediations' spoke-side calls: no wildcard action, every mutation conditioned", () => {
    const { template } = spoke();
    const statements = policyOf(template, 'fleetwarden-spoke-prod');
    const granted = new Set(statements.flatMap(actionsOf));
    expect([...granted].sort()).toEqual([...declaredSpokeActions(REMEDIATIONS_DEPLOYED)].sort());
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const a of actionsOf(s)) expect(a).not.toContain('*');
      if (actionsOf(s).some(isMutatingAction))
        expect(
          s.Condition !== undefined || !JSON.stringify(s.Resource).includes('"*"'),
          JSON.stringify(s),
        ).toBe(true);
    }
    // the configured regions, not every region
    const resources = JSON.stringify(statements.map((s) => s.Resource));
    expect(resources).toContain('eu-central-1');
    expect(resources).not.toContain('AWS::Region');
  });

  it("is trusted only by the hub account's fleet function roles (aws:PrincipalArn on their name prefix)", () => {
    const { template } = spoke();
    const role = Object.values(
      template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'fleetwarden-spoke-prod' } }),
    )[0];
    const trust = JSON.stringify(role?.Properties.AssumeRolePolicyDocument);
    expect(trust).toContain(':iam::111111111111:root');
    expect(trust).toContain('"aws:PrincipalArn"');
    expect(trust).toContain(':iam::111111111111:role/Fleetwarden-*');
    expect(trust).not.toContain('"AWS":"*"');
  });

  it('the trail role may only look up CloudTrail events', () => {
    const { template } = spoke();
    expect(policyOf(template, 'fleetwarden-trail-prod').flatMap(actionsOf)).toEqual([
      'cloudtrail:LookupEvents',
    ]);
  });

  it("forwards the definitions' default-bus patterns to the hub's default bus, with a role, a retry policy and a DLQ", () => {
    const { template } = spoke();
    const rules = Object.values(template.findResources('AWS::Events::Rule'));
    const patterns = rules.map((r) => r.Properties.EventPattern);
    expect(patterns).toContainEqual(
      expect.objectContaining({
        source: ['aws.autoscaling'],
        detail: { AutoScalingGroupName: ['runners-a'], LifecycleHookName: ['fleetwarden-drain'] },
      }),
    );
    for (const r of rules) {
      const [target] = r.Properties.Targets;
      expect(JSON.stringify(target.Arn)).toContain(':events:eu-west-1:111111111111:event-bus/default');
      expect(target.RoleArn).toBeDefined();
      expect(target.DeadLetterConfig).toBeDefined();
      expect(target.RetryPolicy).toBeDefined();
    }
  });

  it('deploys with StackSets: no assets, no lookups, no bootstrap version; passes the guardrails', () => {
    const { app, stack } = spoke();
    const assembly = app.synth();
    const artifact = assembly.getStackByName(stack.stackName);
    expect(artifact.assets).toEqual([]);
    expect(JSON.stringify(artifact.template)).not.toContain('BootstrapVersion');
    expect(Object.keys(Template.fromStack(stack).findResources('AWS::Lambda::Function'))).toEqual([]);
  });

  it('a second region of the same account adds only its forwarding rules (the roles are account-wide)', () => {
    const { template } = spoke({ roles: false });
    expect(
      Object.keys(
        template.findResources('AWS::IAM::Role', { Properties: { RoleName: 'fleetwarden-spoke-prod' } }),
      ),
    ).toEqual([]);
    expect(Object.keys(template.findResources('AWS::Events::Rule')).length).toBeGreaterThan(0);
  });
});
