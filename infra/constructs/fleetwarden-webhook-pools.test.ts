import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../cli/simulate/event-pattern';
import { parseFleetConfig } from '../config';
import { FleetStack } from '../stacks/fleet-stack';
import { Fleetwarden } from './fleetwarden';
import type { FleetwardenProps } from './fleetwarden-props';

type Resource = { Type: string; Properties?: Record<string, unknown>; Metadata?: unknown };
type Synth = { Resources: Record<string, Resource>; Outputs?: Record<string, unknown> };

function synth(config: Record<string, unknown>): Synth {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FleetStack(app, 'Fleet', {
    env: { account: '123456789012', region: 'eu-west-1' },
    config: parseFleetConfig(config),
  });
  return Template.fromStack(stack).toJSON() as Synth;
}

const zone = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'fleet.example.internal' };
const shorthand = { ...zone, autoScalingGroupNames: ['ci-runners'], github: { owner: 'acme' } };

/** A function's code asset changes with every code change: never part of the pin. */
function withoutCode(r: Resource): Resource {
  if (r.Type !== 'AWS::Lambda::Function') return r;
  const { Code: _code, ...rest } = r.Properties ?? {};
  return { ...r, Properties: rest };
}

/** The webhook ingress's resources (the `Webhook` construct) and its outputs. */
function webhookPart(t: Synth) {
  const outputs = ['WebhookUrl', 'WebhookSecretName', 'EventBusName'];
  return {
    resources: Object.fromEntries(
      Object.entries(t.Resources)
        .filter(([id]) => id.startsWith('Webhook'))
        .map(([id, r]) => [id, withoutCode(r)]),
    ),
    outputs: Object.fromEntries(Object.entries(t.Outputs ?? {}).filter(([id]) => outputs.includes(id))),
  };
}

const envOf = (r: Resource) =>
  ((r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;
const functionsOf = (t: Synth, entry: string) =>
  Object.entries(t.Resources).filter(
    ([, r]) =>
      r.Type === 'AWS::Lambda::Function' &&
      JSON.stringify(r.Metadata ?? {}).includes(`functions/${entry}/index.ts`),
  );

describe('the shorthand (no pools) keeps its webhook ingress', () => {
  it("synthesizes today's webhook ingress exactly: same logical ids, same properties, same outputs", () => {
    const fixture = new URL('test-fixtures/shorthand-webhook.template.json', import.meta.url);
    // recorded from main before the pools were joined to the ingress (commit 72092ee)
    expect(webhookPart(synth(shorthand))).toEqual(JSON.parse(readFileSync(fixture, 'utf8')));
  });
});

const twoPools = {
  ...zone,
  pools: [
    { name: 'linux', github: { owner: 'acme' }, autoScalingGroupNames: ['linux-runners'] },
    {
      name: 'ghes',
      github: { owner: 'corp', apiUrl: 'https://ghe.example.com/api/v3' },
      autoScalingGroupNames: ['ghes-runners'],
      webhookSecretName: 'fleetwarden/ghes-webhook',
    },
  ],
};

describe('a fleet of pools: every pool served by the one webhook ingress', () => {
  const t = synth(twoPools);
  const [[ingressId, ingress] = ['', { Type: '' }]] = functionsOf(t, 'webhook-ingress');
  const secrets = Object.entries(t.Resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret');
  const linuxSecret = secrets.find(([id]) => id.startsWith('WebhookSecretLinux'))?.[0];

  it('names both pools in WEBHOOK_POOLS with their hosts and secret ARNs', () => {
    expect(linuxSecret).toBeDefined();
    const pools = envOf(ingress).WEBHOOK_POOLS as { 'Fn::Join': [string, unknown[]] };
    const parts = JSON.stringify(pools);
    expect(parts).toContain('\\"pool\\":\\"linux\\",\\"host\\":\\"github.com\\",\\"secretArn\\":\\"');
    expect(parts).toContain('\\"pool\\":\\"ghes\\",\\"host\\":\\"ghe.example.com\\",\\"secretArn\\":\\"');
    expect(parts).toContain(JSON.stringify({ Ref: linuxSecret }));
    expect(parts).toContain('secret:fleetwarden/ghes-webhook');
    expect(envOf(ingress)).not.toHaveProperty('WEBHOOK_SECRET_ARN');
    expect(Object.keys(t.Outputs ?? {})).toEqual(
      expect.arrayContaining(['WebhookSecretNameLinux', 'WebhookSecretNameGhes']),
    );
  });

  it("grants the ingress read on both pools' secrets and no other", () => {
    const role =
      (ingress.Properties?.Role as { 'Fn::GetAtt': [string] } | undefined)?.['Fn::GetAtt'][0] ?? '<none>';
    const reads = Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(role))
      .flatMap(
        (r) =>
          (
            r.Properties?.PolicyDocument as
              | { Statement: { Action: unknown; Resource: unknown }[] }
              | undefined
          )?.Statement ?? [],
      )
      .filter((s) => JSON.stringify(s.Action).includes('secretsmanager:'));
    expect(ingressId).not.toBe('');
    expect(reads.map((s) => s.Action)).toEqual(['secretsmanager:GetSecretValue']);
    const resources = reads.flatMap((s) => [s.Resource].flat());
    expect(resources).toHaveLength(2);
    expect(resources).toContainEqual({ Ref: linuxSecret });
    expect(JSON.stringify(resources)).toContain('secret:fleetwarden/ghes-webhook-??????');
    // the default pool's generated secret is not made when no pool is named default
    expect(secrets.map(([id]) => id).filter((id) => id.startsWith('WebhookWebhookSecret'))).toEqual([]);
  });

  it("routes each pool's workflow_job events to its own job-watch (detail.pool)", () => {
    const rules = functionsOf(t, 'runner-job-watch').map(([id]) => {
      const rule = Object.values(t.Resources).find(
        (r) => r.Type === 'AWS::Events::Rule' && JSON.stringify(r.Properties?.Targets).includes(id),
      );
      return rule?.Properties?.EventPattern as Record<string, never>;
    });
    expect(rules).toHaveLength(2);
    const event = (pool: string, host: string) => ({
      source: 'fleetwarden.github',
      'detail-type': 'workflow_job',
      detail: { action: 'in_progress', pool, host },
    });
    const takers = (e: ReturnType<typeof event>) =>
      rules
        .filter((p) => matchesPattern(p, e))
        .map((p) => JSON.stringify((p as unknown as { detail: { pool: unknown } }).detail.pool));
    expect(takers(event('linux', 'github.com'))).toEqual(['["linux"]']);
    expect(takers(event('ghes', 'ghe.example.com'))).toEqual(['["ghes"]']);
  });
});

describe('an enterprise pool (no owner)', () => {
  it('synthesizes, and its drain, sweep and job-watch read GITHUB_ENTERPRISE and GITHUB_API_URL', () => {
    const t = synth({
      ...zone,
      pools: [
        {
          name: 'ghes',
          github: { enterprise: 'corp', apiUrl: 'https://ghe.example.com/api/v3' },
          autoScalingGroupNames: ['ghes-runners'],
        },
      ],
    });
    for (const entry of ['runner-drain', 'runner-sweep', 'runner-job-watch']) {
      const envs = functionsOf(t, entry).map(([, r]) => envOf(r));
      expect(envs, entry).toHaveLength(1);
      expect(envs[0], entry).toMatchObject({
        GITHUB_ENTERPRISE: 'corp',
        GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      });
      expect(envs[0], entry).not.toHaveProperty('GITHUB_OWNER');
    }
    const pools = JSON.stringify(envOf(functionsOf(t, 'webhook-ingress')[0]?.[1] as Resource).WEBHOOK_POOLS);
    expect(pools).toContain('\\"pool\\":\\"ghes\\",\\"host\\":\\"ghe.example.com\\"');
  });
});

describe('the webhookSecret prop beside pools', () => {
  it('is refused when no pool is named default (it would serve no pool)', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
    const webhookSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Given', 'given');
    expect(
      () => new Fleetwarden(stack, 'Fleet', { ...twoPools, webhookSecret } as unknown as FleetwardenProps),
    ).toThrow(/webhookSecret is the secret of the pool named default; pools has none \(linux, ghes\)/);
  });
});
