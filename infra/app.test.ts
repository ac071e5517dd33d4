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
