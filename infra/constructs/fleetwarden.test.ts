import { readFileSync } from 'node:fs';
import { App, type CfnElement, Lazy, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../shared/core/errors';
import { FleetConfigSchema } from '../config';
import { Fleetwarden } from './fleetwarden';
import type { FleetwardenProps } from './fleetwarden-props';

const minimal: FleetwardenProps = { hostedZoneId: 'Z0123456789ABC', zoneName: 'fleet.example.com' };

function consumerStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'ConsumerStack', { env: { account: '123456789012', region: 'eu-west-1' } });
}

describe('Fleetwarden (the construct a consumer puts in its own stack)', () => {
  it('builds the fleet inside any stack: audit trail, DNS sync, alarm topic, dashboard', () => {
    const stack = consumerStack();
    const fleet = new Fleetwarden(stack, 'Fleet', minimal);
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::DynamoDB::Table', 1);
    t.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { HOSTED_ZONE_ID: 'Z0123456789ABC' } },
    });
    expect(fleet.config.dryRun).toBe(true);
    expect(fleet.fleetId).toBe('123456789012');
    expect(fleet.ownerId).toBe('fleetwarden-123456789012-eu-west-1');
    expect(fleet.webhook).toBeUndefined();
    expect(Object.keys(t.toJSON().Outputs ?? {})).toContain('AuditTableName');
  });

  it('deploys the webhook ingress and runner remediation when github and runner groups are given', () => {
    const stack = consumerStack();
    const fleet = new Fleetwarden(stack, 'Fleet', {
      ...minimal,
      autoScalingGroupNames: ['ci-runners'],
      github: { owner: 'acme' },
      dryRun: false,
    });
    expect(fleet.webhook).toBeDefined();
    expect(fleet.runners).toBeDefined();
    expect(Object.keys(Template.fromStack(stack).toJSON().Outputs ?? {})).toEqual(
      expect.arrayContaining(['WebhookUrl', 'GitHubAppSecretName']),
    );
  });

  it('validates its props with the config schema and its messages (path, value, nearest key)', () => {
    const bad = { ...minimal, zoneName: 'not a name', dryrun: false } as unknown as FleetwardenProps;
    const build = () => new Fleetwarden(consumerStack(), 'Fleet', bad);
    expect(build).toThrow(ConfigError);
    expect(build).toThrow(
      /fleetwarden\.zoneName: must be a DNS name like fleet\.example\.com, got "not a name"/,
    );
    expect(build).toThrow(/fleetwarden\.dryrun: unknown key \(did you mean "dryRun"\?\)/);
    expect(build).toThrow(/^invalid Fleetwarden props/);
  });

  it('documents every config key as a prop, and each @default is the schema default', () => {
    const source = readFileSync(new URL('./fleetwarden-props.ts', import.meta.url), 'utf8');
    const defaults = FleetConfigSchema.parse(minimal) as Record<string, unknown>;
    const documented = new Map(
      [...source.matchAll(/@default ([^\n*]+?)\s*\n\s*\*\/\s*\n\s*readonly (\w+)\??:/g)].map((m) => [
        m[2],
        m[1],
      ]),
    );
    for (const [key, value] of Object.entries(defaults)) {
      if (key in minimal) continue;
      expect(documented.get(key), `@default of ${key}`).toBe(JSON.stringify(value));
    }
    const shapeKeys = Object.keys((FleetConfigSchema as unknown as { shape: object }).shape);
    for (const key of shapeKeys) expect(source, `prop ${key}`).toMatch(new RegExp(`readonly ${key}\\??:`));
  });
});

describe('Fleetwarden props given as tokens (values of other constructs, resolved at deploy)', () => {
  it('accepts a token where a string key is expected and passes it through unchanged', () => {
    const stack = consumerStack();
    const zoneId = Token.asString(Lazy.string({ produce: () => 'Z0FROMOTHERSTACK' }));
    const fleet = new Fleetwarden(stack, 'Fleet', { ...minimal, hostedZoneId: zoneId });
    expect(fleet.config.hostedZoneId).toBe(zoneId);
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: { HOSTED_ZONE_ID: 'Z0FROMOTHERSTACK' } },
    });
  });

  it('still reports the other keys with their messages when a token is given', () => {
    const zoneId = Token.asString(Lazy.string({ produce: () => 'Z0FROMOTHERSTACK' }));
    const build = () =>
      new Fleetwarden(consumerStack(), 'Fleet', { ...minimal, hostedZoneId: zoneId, recordTtl: 0 });
    expect(build).toThrow(/fleetwarden\.recordTtl: /);
    expect(build).not.toThrow(/hostedZoneId/);
  });
});

describe('the Investigator role reads what `fleetwarden doctor` reads, and nothing it could change', () => {
  it("can describe lifecycle hooks and the fleet log streams, and never read a secret's value", () => {
    const stack = consumerStack();
    const fleet = new Fleetwarden(stack, 'Fleet', {
      ...minimal,
      autoScalingGroupNames: ['ci-runners'],
      github: { owner: 'acme' },
    });
    const t = Template.fromStack(stack);
    const roleId = stack.getLogicalId(fleet.audit.investigatorRole.node.defaultChild as CfnElement);
    const policies = [
      ...Object.values(t.findResources('AWS::IAM::Role')).filter((r) => r === t.toJSON().Resources[roleId]),
      ...Object.values(t.findResources('AWS::IAM::Policy')).filter((p) =>
        JSON.stringify(p.Properties.Roles).includes(roleId),
      ),
    ];
    const actions = JSON.stringify(policies).match(/"[a-z0-9-]+:[A-Za-z*]+"/g) ?? [];
    for (const a of ['autoscaling:DescribeLifecycleHooks', 'logs:DescribeLogStreams'])
      expect(actions, a).toContain(`"${a}"`);
    // the GitHub App's key acts on GitHub: read-only credentials never hold it (doctor: your own)
    expect(actions).not.toContain('"secretsmanager:GetSecretValue"');
    const mutating = actions.filter((a) => /:(Put|Delete|Create|Update|Complete|Terminate|Send)/.test(a));
    expect(mutating).toEqual([]);
  });
});
