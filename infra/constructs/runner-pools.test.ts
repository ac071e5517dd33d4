import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../cli/simulate/event-pattern';
import { buildApp } from '../app';
import { parseFleetConfig } from '../config';
import { FleetStack } from '../stacks/fleet-stack';

const shorthand = {
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'fleet.example.internal',
  autoScalingGroupNames: ['ci-runners', 'ci-runners-arm'],
  github: { owner: 'acme', repository: 'ci' },
  fleetTag: { key: 'team', value: 'ci' },
  maxRemovalShare: 0.3,
  maxRemovalsPerRun: 50,
  allowTerminate: true,
};

function synth(config: Record<string, unknown>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FleetStack(app, 'Fleet', {
    env: { account: '123456789012', region: 'eu-west-1' },
    config: parseFleetConfig(config),
  });
  return Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    Outputs?: Record<string, unknown>;
  };
}

/** A function's code asset changes with every code change: never part of the pin. */
function withoutCode(r: { Type: string; Properties?: Record<string, unknown> }) {
  if (r.Type !== 'AWS::Lambda::Function') return r;
  const { Code: _code, ...rest } = r.Properties ?? {};
  return { ...r, Properties: rest };
}

/** The runner remediation's resources (the `Runners` construct, the App secret) and their outputs. */
function runnerPart(t: ReturnType<typeof synth>) {
  const mine = (id: string) => id.startsWith('Runners') || id.startsWith('GitHubAppSecret');
  return {
    resources: Object.fromEntries(
      Object.entries(t.Resources)
        .filter(([id]) => mine(id))
        .map(([id, r]) => [id, withoutCode(r)]),
    ),
    outputs: Object.fromEntries(Object.entries(t.Outputs ?? {}).filter(([id]) => mine(id))),
  };
}

describe('the shorthand (github + autoScalingGroupNames + fleetTag + sweep keys) is the pool "default"', () => {
  it("keeps today's runner template exactly: same logical ids, same properties (no resource replaced on upgrade)", () => {
    // recorded from main before pools (commit 818a209); a change here replaces or changes a deployed resource
    const today = JSON.parse(
      readFileSync(new URL('test-fixtures/shorthand-runners.template.json', import.meta.url), 'utf8'),
    );
    expect(runnerPart(synth(shorthand))).toEqual(today);
  });
});

const zone = { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'fleet.example.internal' };
const twoPools = {
  ...zone,
  pools: [
    {
      name: 'default',
      github: { owner: 'acme' },
      autoScalingGroupNames: ['linux-runners'],
      labels: ['linux'],
    },
    {
      name: 'gpu',
      github: { owner: 'acme' },
      autoScalingGroupNames: ['gpu-runners'],
      labels: ['gpu'],
      maxRemovalShare: 0.5,
    },
    {
      name: 'ghes',
      github: { enterprise: 'corp', apiUrl: 'https://ghe.example.com/api/v3' },
      autoScalingGroupNames: ['ghes-runners'],
      fleetTag: { key: 'team', value: 'ghes' },
    },
  ],
};

type Resources = ReturnType<typeof synth>['Resources'];
const envOf = (r: Resources[string]) =>
  ((r.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;
/** The runner functions by entry: [logical id, environment] of each. */
function runnerFunctions(t: ReturnType<typeof synth>, entry: string) {
  return Object.entries(t.Resources)
    .filter(
      ([, r]) =>
        r.Type === 'AWS::Lambda::Function' &&
        JSON.stringify((r as { Metadata?: unknown }).Metadata ?? {}).includes(`functions/${entry}/index.ts`),
    )
    .map(([id, r]) => [id, envOf(r)] as const);
}

describe('several runner pools', () => {
  const t = synth(twoPools);

  it("builds drain, sweep and job-watch once per pool, each with the pool's scope, groups, tag, labels and breaker", () => {
    const sweeps = runnerFunctions(t, 'runner-sweep');
    expect(sweeps.map(([, e]) => e.POOL_NAME).sort()).toEqual(['default', 'ghes', 'gpu']);
    const gpu = sweeps.find(([, e]) => e.POOL_NAME === 'gpu')?.[1];
    expect(gpu).toMatchObject({
      RUNNER_LABELS: 'gpu',
      AUTO_SCALING_GROUP_NAMES: 'gpu-runners',
      FLEET_TAG_KEY: 'fleetwarden:fleet',
      FLEET_TAG_VALUE: 'gpu',
      MAX_REMOVAL_SHARE: '0.5',
      GITHUB_OWNER: 'acme',
    });
    const ghes = sweeps.find(([, e]) => e.POOL_NAME === 'ghes')?.[1];
    expect(ghes).toMatchObject({
      GITHUB_API_URL: 'https://ghe.example.com/api/v3',
      GITHUB_ENTERPRISE: 'corp',
      FLEET_TAG_KEY: 'team',
      FLEET_TAG_VALUE: 'ghes',
    });
    expect(ghes).not.toHaveProperty('GITHUB_OWNER');
    expect(
      runnerFunctions(t, 'runner-drain')
        .map(([, e]) => e.POOL_NAME)
        .sort(),
    ).toEqual(['default', 'ghes', 'gpu']);
    expect(
      runnerFunctions(t, 'runner-job-watch')
        .map(([, e]) => e.RUNNER_LABELS ?? '')
        .sort(),
    ).toEqual(['', 'gpu', 'linux']);
  });

  it('gives each pool its own GitHub App secret and its own breaker budget (its own sweep state table)', () => {
    const sweeps = runnerFunctions(t, 'runner-sweep');
    const tables = new Set(sweeps.map(([, e]) => JSON.stringify(e.SWEEP_STATE_TABLE)));
    const secrets = new Set(sweeps.map(([, e]) => JSON.stringify(e.GITHUB_APP_SECRET_ARN)));
    expect(tables.size).toBe(3);
    expect(secrets.size).toBe(3);
    expect(
      Object.keys(t.Resources).filter(
        (id) => t.Resources[id]?.Type === 'AWS::DynamoDB::Table' && id.includes('SweepState'),
      ),
    ).toHaveLength(3);
  });

  it('keeps the ids of the shorthand for the pool named default; another pool gets its own', () => {
    const ids = runnerFunctions(t, 'runner-sweep').map(([id]) => id);
    expect(ids).toContain('RunnersRunnerSweepFunction2A7548E6');
    expect(ids.filter((id) => id !== 'RunnersRunnerSweepFunction2A7548E6')).toHaveLength(2);
    expect(Object.keys(t.Outputs ?? {})).toEqual(
      expect.arrayContaining(['GitHubAppSecretName', 'GitHubAppSecretNameGpu', 'GitHubAppSecretNameGhes']),
    );
  });

  it("routes each workflow_job event to its pool's job-watch only (detail.pool); pool default also takes old events", () => {
    const rules = Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => r.Properties?.EventPattern as Record<string, never> | undefined)
      .filter((p) => JSON.stringify(p ?? {}).includes('in_progress')) as Record<string, never>[];
    expect(rules).toHaveLength(3);
    const event = (pool?: string) => ({
      source: 'fleetwarden.github',
      'detail-type': 'workflow_job',
      detail: { action: 'in_progress', ...(pool ? { pool, host: 'github.com' } : {}) },
    });
    const takers = (e: ReturnType<typeof event>) =>
      rules
        .filter((p) => matchesPattern(p, e))
        .map((p) => JSON.stringify((p as unknown as { detail: { pool: unknown } }).detail.pool));
    expect(takers(event('gpu'))).toEqual(['["gpu"]']);
    expect(takers(event('ghes'))).toEqual(['["ghes"]']);
    expect(takers(event('default'))).toEqual(['["default",{"exists":false}]']);
    expect(takers(event())).toEqual(['["default",{"exists":false}]']);
    expect(takers(event('other'))).toEqual([]);
  });

  it("the shorthand's job-watch rule takes every workflow_job event, as before pools", () => {
    const [rule] = Object.values(synth(shorthand).Resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => r.Properties?.EventPattern as Record<string, never>)
      .filter((p) => JSON.stringify(p ?? {}).includes('in_progress'));
    expect(rule).toBeDefined();
    const e = {
      source: 'fleetwarden.github',
      'detail-type': 'workflow_job',
      detail: { action: 'in_progress' },
    };
    expect(matchesPattern(rule as Record<string, never>, e)).toBe(true);
  });
});

describe('a fleet of several pools passes the guardrails', () => {
  it('synthesizes with zero guardrail findings (cdk-nag and the Fleetwarden pack)', () => {
    const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
      context: Record<string, unknown>;
    };
    const app = new App({
      context: { ...cdkJson.context, fleetwarden: twoPools, 'aws:cdk:bundling-stacks': [] },
    });
    expect(
      buildApp(app)
        .synth()
        .stacks.map((s) => s.stackName),
    ).toEqual(['Fleetwarden']);
  });
});
