import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { TOPOLOGY_ENV } from '../../shared/aws/scope-env';
import { parseFleetConfig } from '../config';
import { applyGuardrails } from '../guardrails/guardrails';
import { FleetStack } from '../stacks/fleet-stack';
import { deployedRemediations } from './spoke-hub';

const CONFIG = {
  hostedZoneId: 'Z0123456789ABC',
  zoneName: 'fleet.example.com',
  fleetId: 'prod',
  autoScalingGroupNames: ['runners-a'],
  github: { owner: 'acme' },
  remediations: { 'orphaned-volumes': {} },
  spokes: [
    { account: '222222222222', regions: ['eu-west-1', 'us-east-1'] },
    { account: '333333333333', regions: ['eu-west-1'] },
  ],
};

function hub(config: Record<string, unknown> = CONFIG) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  applyGuardrails(app);
  const stack = new FleetStack(app, 'Fleetwarden', {
    config: parseFleetConfig(config),
    env: { account: '111111111111', region: 'eu-west-1' },
  });
  return { app, stack, template: Template.fromStack(stack) };
}

type Statement = { Action: string | string[]; Resource: unknown; Condition?: unknown };
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);

describe('the hub of a hub-and-spoke fleet', () => {
  it("lets only the spoke accounts put events on the hub's default bus", () => {
    const { template } = hub();
    const policies = Object.values(template.findResources('AWS::Events::EventBusPolicy'));
    expect(policies).toHaveLength(1);
    const p = policies[0]?.Properties;
    expect(p.EventBusName).toBe('default');
    expect(p.Statement.Action).toBe('events:PutEvents');
    expect(p.Statement.Condition).toEqual({
      StringEquals: { 'aws:PrincipalAccount': ['222222222222', '333333333333'] },
    });
    expect(JSON.stringify(p.Statement.Principal)).not.toContain('"*"');
  });

  it('gives the functions that act in spokes sts:AssumeRole on exactly the spoke roles, and the topology', () => {
    const { template } = hub();
    const assume = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).filter((s) =>
        actionsOf(s).includes('sts:AssumeRole'),
      ),
    );
    const spokeRole = assume.filter((s) => JSON.stringify(s.Resource).includes('fleetwarden-spoke-'));
    // dns-sync, dns-reconcile, runner-drain, runner-sweep, runner-job-watch, orphaned-volumes
    expect(spokeRole).toHaveLength(6);
    // audit-correlate reads each spoke's trail through the read-only trail role, and nothing else
    const trail = assume.filter((s) => JSON.stringify(s.Resource).includes('fleetwarden-trail-'));
    expect(trail).toHaveLength(1);
    expect(JSON.stringify(trail[0]?.Resource)).not.toContain('fleetwarden-spoke-');
    expect(assume).toHaveLength(7);
    for (const s of spokeRole) {
      expect(actionsOf(s)).toEqual(['sts:AssumeRole']);
      expect(JSON.stringify(s.Resource)).toContain(':iam::222222222222:role/fleetwarden-spoke-prod');
      expect(JSON.stringify(s.Resource)).toContain(':iam::333333333333:role/fleetwarden-spoke-prod');
      expect(JSON.stringify(s.Resource)).not.toContain('*');
    }
    const envs = Object.values(template.findResources('AWS::Lambda::Function')).map(
      (f) => f.Properties.Environment?.Variables ?? {},
    );
    const scoped = envs.filter((e) => TOPOLOGY_ENV.spokes in e);
    expect(scoped).toHaveLength(7);
    expect(scoped[0]?.[TOPOLOGY_ENV.spokes]).toBe(
      '222222222222:eu-west-1,222222222222:us-east-1,333333333333:eu-west-1',
    );
    expect(scoped[0]?.[TOPOLOGY_ENV.fleetId]).toBe('prod');
  });

  it('passes the guardrails', () => {
    expect(() => hub().app.synth()).not.toThrow();
  });

  it("without spokes: no bus policy, no role to assume, no topology (today's template)", () => {
    const { spokes: _, ...single } = CONFIG;
    const { template } = hub(single);
    expect(Object.keys(template.findResources('AWS::Events::EventBusPolicy'))).toEqual([]);
    const granted = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).flatMap(actionsOf),
    );
    expect(granted).not.toContain('sts:AssumeRole');
    expect(JSON.stringify(template.toJSON())).not.toContain(TOPOLOGY_ENV.spokes);
  });

  it('deployedRemediations reads what the hub deploys: definitions with their settings', () => {
    const { stack } = hub();
    const deployed = deployedRemediations(stack.fleet);
    const drain = deployed.find((d) => d.definition.name === 'runner-drain');
    expect(drain?.settings.autoScalingGroupNames).toEqual(['runners-a']);
    expect(deployed.map((d) => d.definition.name).sort()).toEqual(
      [
        'audit-correlate',
        'dns-reconcile',
        'dns-sync',
        'orphaned-volumes',
        'runner-drain',
        'runner-job-watch',
        'runner-sweep',
        'webhook-ingress',
      ].sort(),
    );
  });
});
