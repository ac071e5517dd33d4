import { readFileSync } from 'node:fs';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { buildApp } from './app';
import { EXAMPLE_HOSTED_ZONE_ID } from './config';

const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
  context: Record<string, unknown>;
};

function app(extra: Record<string, unknown> = {}): App {
  return new App({
    context: { ...cdkJson.context, ...extra, 'aws:cdk:bundling-stacks': [] },
  });
}

describe('fleetwarden app', () => {
  it('synthesizes the committed cdk.json configuration with zero guardrail findings', () => {
    const assembly = buildApp(app()).synth();
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['Fleetwarden']);
  });

  it('synthesizes with zero findings for a concrete account and region too (literal partition)', () => {
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
    process.env.CDK_DEFAULT_REGION = 'eu-west-1';
    try {
      const assembly = buildApp(app()).synth();
      expect(assembly.getStackByName('Fleetwarden').environment).toMatchObject({ region: 'eu-west-1' });
    } finally {
      for (const [k, v] of [
        ['CDK_DEFAULT_ACCOUNT', saved.account],
        ['CDK_DEFAULT_REGION', saved.region],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('fails synthesis when a Lambda is not a FleetFunction', () => {
    const built = buildApp(app());
    const stack = built.node.findChild('Fleetwarden') as Stack;
    new lambda.Function(stack, 'Rogue', {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => 1'),
      logGroup: new logs.LogGroup(stack, 'RogueLogs', { retention: logs.RetentionDays.ONE_DAY }),
    });
    let message = '';
    try {
      built.synth();
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('Fleetwarden-LambdaIsFleetFunction');
    expect(message).toContain('Fleetwarden/Rogue/Resource');
    expect(message).toContain('AwsSolutions-IAM4');
  });

  it('refuses invalid configuration before building anything', () => {
    expect(() => buildApp(app({ fleetwarden: { hostedZoneId: 'nope' } }))).toThrow(
      /fleetwarden\.hostedZoneId: .*got "nope"/,
    );
  });

  it('takes the configuration as the JSON string `cdk deploy -c fleetwarden=...` passes', () => {
    const config = { ...(cdkJson.context.fleetwarden as object), hostedZoneId: 'Z0123456789ABC' };
    const assembly = buildApp(app({ fleetwarden: JSON.stringify(config) }), { refuseExample: true }).synth();
    expect(assembly.stacks.map((s) => s.stackName)).toEqual(['Fleetwarden']);
  });

  it("refuses to deploy cdk.json's placeholder zone, pointing to README's Configuration", () => {
    expect((cdkJson.context.fleetwarden as { hostedZoneId: string }).hostedZoneId).toBe(
      EXAMPLE_HOSTED_ZONE_ID,
    );
    expect(() => buildApp(app(), { refuseExample: true })).toThrow(
      /fleetwarden\.hostedZoneId is the example placeholder Z0EXAMPLE00000000000 from cdk\.json: .*README\.md#configuration/s,
    );
  });

  it('synthesizes the example configuration when asked to explicitly (npm run synth)', () => {
    for (const flag of [true, 'true']) {
      const built = buildApp(app({ 'fleetwarden:example': flag }), { refuseExample: true });
      expect(built.synth().stacks.map((s) => s.stackName)).toEqual(['Fleetwarden']);
    }
  });

  it('npm run synth passes the documented example flag', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.synth).toContain('-c fleetwarden:example=true');
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('fleetwarden:example');
  });
});

describe('fleetwarden app with spokes', () => {
  const spokesConfig = {
    ...(cdkJson.context.fleetwarden as object),
    fleetId: 'prod',
    spokes: [
      { account: '222222222222', regions: ['eu-west-1', 'us-east-1'] },
      { account: '333333333333', regions: ['eu-west-1'] },
    ],
  };
  const withEnv = <T>(env: Record<string, string | undefined>, f: () => T): T => {
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    try {
      return f();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };

  it('synthesizes one spoke stack per account and region besides the hub, roles once per account', () => {
    const assembly = withEnv({ CDK_DEFAULT_ACCOUNT: '111111111111', CDK_DEFAULT_REGION: 'eu-west-1' }, () =>
      buildApp(app({ fleetwarden: spokesConfig })).synth(),
    );
    expect(assembly.stacks.map((s) => s.stackName).sort()).toEqual([
      'Fleetwarden',
      'Fleetwarden-Spoke-222222222222-eu-west-1',
      'Fleetwarden-Spoke-222222222222-us-east-1',
      'Fleetwarden-Spoke-333333333333-eu-west-1',
    ]);
    const spoke = assembly.getStackByName('Fleetwarden-Spoke-222222222222-us-east-1');
    expect(spoke.environment).toMatchObject({ account: '222222222222', region: 'us-east-1' });
    const roleNames = (name: string) =>
      Object.values(
        assembly.getStackByName(name).template.Resources as Record<
          string,
          { Type: string; Properties: { RoleName?: string } }
        >,
      )
        .filter((r) => r.Type === 'AWS::IAM::Role')
        .map((r) => r.Properties.RoleName)
        .filter(Boolean);
    expect(roleNames('Fleetwarden-Spoke-222222222222-eu-west-1')).toEqual([
      'fleetwarden-spoke-prod',
      'fleetwarden-trail-prod',
    ]);
    expect(roleNames('Fleetwarden-Spoke-222222222222-us-east-1')).toEqual([]);
    // trusted by the hub's own function roles: CloudFormation names them after the hub stack
    expect(
      JSON.stringify(assembly.getStackByName('Fleetwarden-Spoke-333333333333-eu-west-1').template),
    ).toContain(':iam::111111111111:role/Fleetwarden-*');
  });

  it("needs the hub's account and region (the spokes trust and forward to them)", () => {
    expect(() =>
      withEnv({ CDK_DEFAULT_ACCOUNT: undefined, CDK_DEFAULT_REGION: undefined }, () =>
        buildApp(app({ fleetwarden: spokesConfig })),
      ),
    ).toThrow(/spokes need the hub's account and region/);
  });
});
