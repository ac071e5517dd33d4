import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { REMEDIATIONS } from '../../functions/registry';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import { needsApproval } from '../../shared/kernel/definition';
import { type FleetConfig, parseFleetConfig } from '../config';
import { FleetFunction } from '../constructs/fleet-function';
import { isMutatingAction } from '../guardrails/iam-actions';
import { isPlatformAction, roleActions, sdkActionsOf } from '../testing/sdk-actions';
import { FleetStack } from './fleet-stack';

const base = {
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'fleet.example.internal',
  autoScalingGroupNames: ['ci-runners'],
  github: { owner: 'acme' },
};

function template(patch: Record<string, unknown> = {}): Template {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const config: FleetConfig = parseFleetConfig({ ...base, ...patch });
  return Template.fromStack(new FleetStack(app, 'Fleet', { config }));
}

/** Environment of the function whose description starts with `prefix`. */
function envOf(t: Template, prefix: string): Record<string, unknown> {
  const fns = t.findResources('AWS::Lambda::Function', {
    Properties: { Description: Match.stringLikeRegexp(`^${prefix}`) },
  });
  const [fn] = Object.values(fns);
  if (!fn) throw new Error(`no function described "${prefix}..."`);
  return (fn as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties
    .Environment.Variables;
}

describe('FleetStack wiring', () => {
  it('deploys the audit trail and points DNS sync at the configured zone', () => {
    const t = template();
    t.hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: true,
      GlobalSecondaryIndexes: Match.anyValue(),
    });
    const env = envOf(t, 'Keeps Route 53');
    expect(env).toMatchObject({
      HOSTED_ZONE_ID: 'Z0123456789ABCDEFGHIJ',
      ZONE_NAME: 'fleet.example.internal',
      NAME_TAG: 'fleetwarden:dns-name',
      RECORD_TTL: '60',
    });
    expect(env[AUDIT_TABLE_ENV]).toEqual({ Ref: expect.stringMatching(/^AuditAuditTable/) });
  });

  it('applies the fleet-wide dry run to DNS sync (safe by default)', () => {
    expect(envOf(template(), 'Keeps Route 53').DRY_RUN).toBe('true');
    expect(envOf(template({ dryRun: false }), 'Keeps Route 53').DRY_RUN).toBe('false');
  });

  it('passes the reverse zone through when configured', () => {
    const env = envOf(
      template({ reverseZoneId: 'Z0REVERSE', reverseZoneName: '10.in-addr.arpa' }),
      'Keeps Route 53',
    );
    expect(env).toMatchObject({ REVERSE_ZONE_ID: 'Z0REVERSE', REVERSE_ZONE_NAME: '10.in-addr.arpa' });
  });

  it('gives every function log group the configured retention', () => {
    const groups = Object.values(template({ logRetentionDays: 30 }).findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(3);
    for (const g of groups)
      expect((g as { Properties: { RetentionInDays: number } }).Properties.RetentionInDays).toBe(30);
  });

  it('lets only the configured principal assume the investigator role', () => {
    const t = template({ investigatorPrincipalArn: 'arn:aws:iam::123456789012:role/oncall' });
    t.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { AWS: 'arn:aws:iam::123456789012:role/oncall' } }),
        ]),
      },
    });
  });

  it("names every output as the README's Deploy section does (stable logical ids)", () => {
    const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
    const line = /^Stack outputs: ([\s\S]*?)\n\n/m.exec(readme)?.[1] ?? '';
    const documented = [...new Set([...line.matchAll(/`([A-Z]\w+)`/g)].map((m) => m[1]))].sort();
    expect(documented.length).toBeGreaterThan(0);
    expect(Object.keys(template().findOutputs('*')).sort()).toEqual(
      expect.arrayContaining(['AuditTableName', 'InvestigatorRoleArn']),
    );
    // every output exists with approvals configured
    const all = template({ approvals: { approvers: ['arn:aws:iam::123456789012:role/OnCall'] } });
    expect(Object.keys(all.findOutputs('*')).sort()).toEqual(documented);
  });

  it('exposes the fleet id (configured, else the account id) and hands it and the budget window to the sweep', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const env = { account: '123456789012', region: 'eu-west-1' };
    const configured = new FleetStack(app, 'A', {
      env,
      config: parseFleetConfig({ ...base, fleetId: 'prod' }),
    });
    const derived = new FleetStack(app, 'B', { env, config: parseFleetConfig(base) });
    expect(configured.fleetId).toBe('prod');
    expect(derived.fleetId).toBe('123456789012');
    const sweepEnv = (stack: FleetStack) =>
      Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')).find((f) =>
        String(f.Properties.Description).startsWith('Sweeps ghost runners'),
      )?.Properties.Environment.Variables as Record<string, unknown>;
    expect(sweepEnv(configured)).toMatchObject({ FLEET_ID: 'prod', BUDGET_WINDOW_SECONDS: '3600' });
    const windowed = new FleetStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'C', {
      env,
      config: parseFleetConfig({ ...base, removalBudgetWindow: 7200 }),
    });
    expect(sweepEnv(windowed)).toMatchObject({ FLEET_ID: '123456789012', BUDGET_WINDOW_SECONDS: '7200' });
  });

  it('gives deployments sharing a zone different DNS owner ids (regions, accounts), or the configured one', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = (id: string, account: string, region: string, patch: Record<string, unknown> = {}) =>
      new FleetStack(app, id, { env: { account, region }, config: parseFleetConfig({ ...base, ...patch }) });
    const ownerIds = (s: FleetStack) => {
      const t = Template.fromStack(s);
      return [envOf(t, 'Keeps Route 53').OWNER_ID, envOf(t, 'Compares the zone').OWNER_ID];
    };
    const eu = stack('Eu', '123456789012', 'eu-west-1');
    const us = stack('Us', '123456789012', 'us-east-1');
    const other = stack('Other', '210987654321', 'eu-west-1');
    const named = stack('Named', '123456789012', 'ap-south-1', { fleetId: 'prod' });
    // records written before ownerId existed carry owner=fleetwarden: an upgrade keeps them by saying so
    const kept = stack('Kept', '123456789012', 'eu-west-2', { ownerId: 'fleetwarden' });
    // a private zone shared by two regions or two accounts: each reconcile must know only its own markers
    expect(ownerIds(eu)).toEqual([
      'fleetwarden-123456789012-eu-west-1',
      'fleetwarden-123456789012-eu-west-1',
    ]);
    expect(ownerIds(us)).toEqual([
      'fleetwarden-123456789012-us-east-1',
      'fleetwarden-123456789012-us-east-1',
    ]);
    expect(ownerIds(other)[0]).toBe('fleetwarden-210987654321-eu-west-1');
    expect(ownerIds(named)[0]).toBe('fleetwarden-prod-ap-south-1');
    expect(eu.ownerId).toBe('fleetwarden-123456789012-eu-west-1');
    expect(ownerIds(kept)).toEqual(['fleetwarden', 'fleetwarden']);
  });

  it('derives an owner id the DNS handlers accept, from the longest fleet id and region', async () => {
    const { DNS_SETTINGS } = await import('../../shared/dns/settings');
    const fleetId = `a.b_${'c'.repeat(36)}`; // 40 characters, with "." and "_"
    const s = new FleetStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Long', {
      env: { account: '123456789012', region: 'ap-southeast-4' },
      config: parseFleetConfig({ ...base, fleetId }),
    });
    const ownerId = envOf(Template.fromStack(s), 'Keeps Route 53').OWNER_ID;
    expect(ownerId).toBe(`fleetwarden-${fleetId}-ap-southeast-4`);
    expect(DNS_SETTINGS.ownerId.schema.safeParse(ownerId).success).toBe(true);
  });

  it('hands maxJobAge to the webhook ingress (1 hour by default)', () => {
    const maxAge = (t: Template) => envOf(t, 'Receives GitHub webhooks').MAX_JOB_AGE_SECONDS;
    expect(maxAge(template())).toBe('3600');
    expect(maxAge(template({ maxJobAge: 900 }))).toBe('900');
  });

  it('publishes the outputs an operator needs', () => {
    const outputs = Object.keys(template().findOutputs('*'));
    expect(outputs).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/AuditTableName/),
        expect.stringMatching(/InvestigatorRoleArn/),
      ]),
    );
  });

  it('with github configured: webhook ingress, runner remediation and their outputs', () => {
    const t = template({ maxRemovalShare: 0.3, maxRemovalsPerRun: 40, allowTerminate: true, dryRun: false });
    t.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    expect(envOf(t, 'Sweeps ghost runners')).toMatchObject({
      GITHUB_OWNER: 'acme',
      MAX_REMOVAL_SHARE: '0.3',
      MAX_REMOVALS_PER_RUN: '40',
      ALLOW_TERMINATE: 'true',
      DRY_RUN: 'false',
      FLEET_TAG_KEY: 'fleetwarden:fleet',
    });
    t.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { AutoScalingGroupName: 'ci-runners' });
    const outputs = Object.keys(t.findOutputs('*'));
    for (const name of ['WebhookUrl', 'WebhookSecretName', 'GitHubAppSecretName', 'EventBusName']) {
      expect(
        outputs.some((o) => o.includes(name)),
        name,
      ).toBe(true);
    }
  });

  it('without github: no webhook, no runner functions (DNS and audit only)', () => {
    const t = template({ github: undefined, autoScalingGroupNames: [] });
    t.resourceCountIs('AWS::Lambda::Url', 0);
    t.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
  });

  it('with github.webhookOnly and no runner ASGs: webhook ingress only', () => {
    const t = template({ autoScalingGroupNames: [], github: { owner: 'acme', webhookOnly: true } });
    t.resourceCountIs('AWS::Lambda::Url', 1);
    t.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
  });
});

describe('FleetStack deploys registry remediations opted in by name (config.remediations)', () => {
  it('deploys one from its definition, with the fleet-wide settings it declares', () => {
    const t = template({
      dryRun: false,
      fleetTag: { key: 'team', value: 'ci' },
      remediations: { 'orphaned-volumes': { gracePeriod: 86_400 } },
    });
    const env = envOf(t, 'Snapshots EBS volumes left');
    expect(env).toMatchObject({
      DRY_RUN: 'false',
      FLEET_TAG_KEY: 'team',
      FLEET_TAG_VALUE: 'ci',
      AUTO_SCALING_GROUP_NAMES: 'ci-runners',
      GRACE_PERIOD_SECONDS: '86400',
    });
    expect(env[AUDIT_TABLE_ENV]).toBeDefined();
  });

  it('deploys none of them unless named', () => {
    const t = template();
    expect(
      Object.keys(
        t.findResources('AWS::Lambda::Function', {
          Properties: { Description: Match.stringLikeRegexp('^Snapshots EBS volumes') },
        }),
      ),
    ).toEqual([]);
  });

  it('refuses an unknown remediation, naming the nearest', () => {
    expect(() => template({ remediations: { 'orphan-volumes': {} } })).toThrow(
      /remediations: unknown remediation "orphan-volumes" \(did you mean "orphaned-volumes"\?/,
    );
  });

  it('refuses an unknown setting, naming the nearest, and a bad value with its bound', () => {
    expect(() => template({ remediations: { 'orphaned-volumes': { gracePeriods: 1 } } })).toThrow(
      /orphaned-volumes: unknown setting "gracePeriods" \(did you mean "gracePeriod"\?/,
    );
    expect(() => template({ remediations: { 'orphaned-volumes': { gracePeriod: 5 } } })).toThrow(
      /gracePeriod \(GRACE_PERIOD_SECONDS\)=5/,
    );
  });

  it('refuses a function a feature deploys even when that feature is off (its checks would be skipped)', () => {
    const runnersOff = { autoScalingGroupNames: [], github: { owner: 'acme', webhookOnly: true } };
    expect(() => template({ ...runnersOff, remediations: { 'runner-drain': {} } })).toThrow(
      /"runner-drain" is deployed by its feature: configure it with its own keys/,
    );
  });

  it('refuses orphaned-volumes without runner ASGs: a fleet tag alone is not ownership', () => {
    const runnersOff = { autoScalingGroupNames: [], github: { owner: 'acme', webhookOnly: true } };
    expect(() => template({ ...runnersOff, remediations: { 'orphaned-volumes': {} } })).toThrow(
      /autoScalingGroupNames \(AUTO_SCALING_GROUP_NAMES\)=\[\]/,
    );
  });

  it('refuses overriding a fleet-wide scoping key per remediation', () => {
    expect(() =>
      template({ remediations: { 'orphaned-volumes': { autoScalingGroupNames: ['someone-elses'] } } }),
    ).toThrow(/remediations\.orphaned-volumes\.autoScalingGroupNames: set the fleet-wide key instead/);
  });

  it('runs an opted-in remediation one at a time (reserved concurrency 1)', () => {
    const t = template({ remediations: { 'orphaned-volumes': {} } });
    const fns = t.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^Snapshots EBS volumes') },
    });
    expect(
      Object.values(fns).map(
        (f) =>
          (f as { Properties: { ReservedConcurrentExecutions?: number } }).Properties
            .ReservedConcurrentExecutions,
      ),
    ).toEqual([1]);
  });

  it('refuses a function its feature already configures', () => {
    expect(() => template({ remediations: { 'runner-sweep': {} } })).toThrow(
      /"runner-sweep" is deployed by its feature: configure it with its own keys/,
    );
  });
});

const APPROVALS = {
  approvers: ['arn:aws:iam::123456789012:role/OnCall', 'arn:aws:iam::210987654321:user/alice'],
  notify: { emails: ['oncall@example.com'] },
};

type IamStatement = { Effect: string; Action: string | string[]; Resource?: unknown };
/** Every Allow statement of the template's identity policies, with the roles it is attached to. */
function allowStatements(t: Template): Array<{ roles: string[]; s: IamStatement }> {
  const out: Array<{ roles: string[]; s: IamStatement }> = [];
  for (const [rid, role] of Object.entries(t.findResources('AWS::IAM::Role')))
    for (const p of role.Properties.Policies ?? [])
      for (const s of p.PolicyDocument.Statement) out.push({ roles: [rid], s });
  for (const p of Object.values(t.findResources('AWS::IAM::Policy')))
    for (const s of p.Properties.PolicyDocument.Statement)
      out.push({ roles: (p.Properties.Roles ?? []).map((r: { Ref: string }) => r.Ref), s });
  return out.filter(({ s }) => s.Effect === 'Allow');
}

describe('FleetStack with approvals (issue 12)', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FleetStack(app, 'Fleet', {
    config: parseFleetConfig({
      ...base,
      allowTerminate: true,
      remediations: { 'orphaned-volumes': {} },
      approvals: APPROVALS,
    }),
  });
  const t = Template.fromStack(stack);
  const approvals = stack.approvals;
  const logical = (c: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(c.node.defaultChild as never);
  const fleetFunctions = stack.node.findAll().filter(FleetFunction.isFleetFunction);
  const gated = (ff: FleetFunction) =>
    needsApproval(REMEDIATIONS.find((d) => d.entry === ff.entry) ?? { actions: {} });

  it('builds the approval flow and publishes its outputs', () => {
    expect(approvals).toBeDefined();
    const outputs = Object.keys(t.findOutputs('*'));
    for (const name of ['ApproverRoleArn', 'ProposalsTableName', 'DecisionsTableName', 'ProposalTopicArn'])
      expect(outputs).toContain(name);
  });

  it('hands the approval settings to every function with a gated action, and to no other', () => {
    const envOfFn = (ff: FleetFunction) =>
      t.toJSON().Resources[logical(ff.fn)].Properties.Environment.Variables;
    const withSettings = fleetFunctions.filter((ff) => 'APPROVERS' in envOfFn(ff)).map((ff) => ff.entry);
    expect(withSettings.sort()).toEqual(
      fleetFunctions
        .filter(gated)
        .map((ff) => ff.entry)
        .sort(),
    );
    expect(withSettings).toContain('functions/orphaned-volumes/index.ts');
    const env = envOf(t, 'Snapshots EBS volumes left');
    expect(env).toMatchObject({
      APPROVERS: APPROVALS.approvers.join(','),
      APPROVALS_REQUIRED: '1',
      APPROVAL_TWO_PERSON: 'true',
      PROPOSAL_EXPIRY: '86400',
    });
    expect(env.PROPOSALS_TABLE).toEqual({ Ref: logical(approvals?.proposalsTable as never) });
  });

  it("deploys approvals-expire (the flow's own bookkeeping) with the proposals table, only with approvals", () => {
    const env = envOf(t, 'Moves open approval proposals');
    expect(env.PROPOSALS_TABLE).toEqual({ Ref: logical(approvals?.proposalsTable as never) });
    const expire = fleetFunctions.find((ff) => ff.entry === 'functions/approvals-expire/index.ts');
    const updates = allowStatements(t).filter(
      ({ roles, s }) =>
        expire && roles.includes(logical(expire.role)) && [s.Action].flat().includes('dynamodb:UpdateItem'),
    );
    expect(JSON.stringify(updates.map((u) => u.s.Resource))).toContain(
      logical(approvals?.proposalsTable as never),
    );
    const plain = template({ remediations: { 'orphaned-volumes': {} } });
    expect(
      Object.values(plain.findResources('AWS::Lambda::Function')).map((f) => f.Properties.Description),
    ).not.toContainEqual(expect.stringMatching(/^Moves open approval proposals/));
  });

  it('no function role can write a decision: only the Approver role has a write action on the decisions table', () => {
    const decisions = logical(approvals?.decisionsTable as never);
    const writers = allowStatements(t).filter(
      ({ s }) =>
        [s.Action]
          .flat()
          .some((a) => (a.startsWith('dynamodb:') || a.includes('*')) && isMutatingAction(a)) &&
        (JSON.stringify(s.Resource).includes(`"${decisions}"`) || JSON.stringify(s.Resource) === '"*"'),
    );
    expect([...new Set(writers.flatMap((w) => w.roles))]).toEqual([
      logical(approvals?.approverRole as never),
    ]);
    const functionRoles = new Set(fleetFunctions.map((ff) => logical(ff.role)));
    for (const { roles, s } of allowStatements(t))
      if (roles.some((r) => functionRoles.has(r)) && JSON.stringify(s.Resource).includes(`"${decisions}"`))
        expect([s.Action].flat().filter(isMutatingAction), JSON.stringify(s)).toEqual([]);
  });

  it("the decisions table's resource policy denies item writes to all but the Approver role", () => {
    const table = t.toJSON().Resources[logical(approvals?.decisionsTable as never)];
    const [deny] = table.Properties.ResourcePolicy.PolicyDocument.Statement;
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' } });
    expect(deny.Action).toEqual(
      expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:BatchWriteItem']),
    );
    expect(deny.Condition.ArnNotEquals['aws:PrincipalArn']).toEqual(
      stack.resolve(approvals?.approverRoleArn),
    );
  });

  it("the Investigator never reads a secret's value (the GitHub App key acts on GitHub)", () => {
    const investigator = logical(stack.audit.investigatorRole);
    const reads = allowStatements(t)
      .filter(({ roles }) => roles.includes(investigator))
      .flatMap(({ s }) => [s.Action].flat())
      .filter((a) => /^secretsmanager:(GetSecretValue|\*)$|^secretsmanager:Get/.test(a));
    expect(reads).toEqual([]);
  });

  it('the Investigator (read-only CLI) reads proposals and decisions, and writes neither', () => {
    const investigator = logical(stack.audit.investigatorRole);
    const tables = [approvals?.proposalsTable, approvals?.decisionsTable].map((x) => logical(x as never));
    const on = allowStatements(t).filter(
      ({ roles, s }) =>
        roles.includes(investigator) && tables.some((x) => JSON.stringify(s.Resource).includes(`"${x}"`)),
    );
    expect([...new Set(on.flatMap(({ s }) => [s.Action].flat()))].sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
  });

  it('passes cdk-nag AwsSolutions and the fleet checks', async () => {
    const { applyGuardrails } = await import('../guardrails/guardrails');
    const guarded = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    new FleetStack(guarded, 'Fleet', {
      config: parseFleetConfig({ ...base, remediations: { 'orphaned-volumes': {} }, approvals: APPROVALS }),
    });
    applyGuardrails(guarded);
    expect(() => guarded.synth()).not.toThrow();
  });

  it('without approvals: no approval infrastructure and no function gets the settings', () => {
    const plain = template({ remediations: { 'orphaned-volumes': {} } });
    expect(Object.keys(plain.findOutputs('*'))).not.toContain('ApproverRoleArn');
    expect(envOf(plain, 'Snapshots EBS volumes left')).not.toHaveProperty('PROPOSALS_TABLE');
    plain.resourceCountIs('AWS::SNS::Topic', 1);
  });
});

describe('FleetStack IAM matches the SDK calls of every function', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FleetStack(app, 'Fleet', {
    config: parseFleetConfig({
      ...base,
      reverseZoneId: 'Z0REVERSE0123456789AB',
      reverseZoneName: '10.in-addr.arpa',
      allowTerminate: true,
      remediations: { 'orphaned-volumes': {} },
      // the gated functions' calls to the approval flow (proposals, decisions, the topic) too
      approvals: APPROVALS,
    }),
  });
  const t = Template.fromStack(stack);
  const functions = stack.node
    .findAll()
    .filter(FleetFunction.isFleetFunction)
    .map((ff) => {
      const cfn = ff.fn.node.defaultChild as lambda.CfnFunction;
      const entry = cfn.getMetadata(FleetFunction.ENTRY_METADATA_KEY) as string;
      return [entry, ff] as const;
    });

  it('deploys every function directory', () => {
    expect(functions.map(([entry]) => entry).sort()).toEqual(
      readdirSync(fileURLToPath(new URL('../../functions/', import.meta.url)), { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .map((name) => `functions/${name}/index.ts`)
        .sort(),
    );
  });

  // DynamoDB is left out on both sides: the audit table and the webhook's idempotency table are
  // reached through AuditAccess and Powertools, whose grants their own construct tests pin.
  const ours = (a: string) => !isPlatformAction(a) && !a.startsWith('dynamodb:');
  it.each(functions)('%s: its role grants exactly the AWS operations its code calls', (entry, ff) => {
    const called = [...sdkActionsOf(entry)].filter(ours).sort();
    const granted = [...roleActions(stack, t, ff)].filter(ours).sort();
    expect(granted).toEqual(called);
  });
});

type Resource = { Type: string; Properties: Record<string, unknown> };
type Statement = {
  Effect: string;
  Principal?: { Service?: unknown };
  Condition?: Record<string, Record<string, unknown>>;
};
const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '123456789012',
};
/** Evaluate Fn::Join / Ref / Fn::GetAtt to a string (pseudo parameters fixed, other refs by logical id). */
function evaluate(expr: unknown): string {
  if (typeof expr === 'string') return expr;
  const e = expr as Record<string, unknown>;
  if (typeof e.Ref === 'string') return PSEUDO[e.Ref] ?? `ref:${e.Ref}`;
  if (Array.isArray(e['Fn::GetAtt'])) return `getatt:${(e['Fn::GetAtt'] as string[]).join('.')}`;
  if (Array.isArray(e['Fn::Join'])) {
    const [sep, parts] = e['Fn::Join'] as [string, unknown[]];
    return parts.map(evaluate).join(sep);
  }
  throw new Error(`cannot evaluate ${JSON.stringify(expr)}`);
}
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
const byType = (t: Template, type: string) =>
  Object.entries(t.toJSON().Resources as Record<string, Resource>).filter(([, r]) => r.Type === type);
const fromEventBridge = (s: Statement) =>
  s.Effect === 'Allow' && s.Principal?.Service === 'events.amazonaws.com';

describe('FleetStack delivery plumbing and trust boundary (every rule, the whole template)', () => {
  const t = template({ allowTerminate: true, alarmEmail: 'oncall@example.com' });
  const rules = byType(t, 'AWS::Events::Rule');
  type Target = { Arn: unknown; RetryPolicy?: Record<string, number>; DeadLetterConfig?: { Arn: unknown } };
  const targetsOf = (r: Resource) => r.Properties.Targets as Target[];

  it('covers the schedules and the event rules', () => {
    expect(rules.map(([id]) => id).join(' ')).toMatch(/SweepSchedule/);
    expect(rules.map(([id]) => id).join(' ')).toMatch(/ReconcileSchedule/);
    expect(rules.map(([id]) => id).join(' ')).toMatch(/CorrelateSchedule/);
    expect(rules.map(([id]) => id).join(' ')).toMatch(/JobStartedRule/);
  });

  it('every rule target has a retry policy and an encrypted, alarmed dead-letter queue', () => {
    const alarmedQueues = byType(t, 'AWS::CloudWatch::Alarm').flatMap(([, a]) =>
      ((a.Properties.Dimensions as { Name: string; Value: unknown }[] | undefined) ?? [])
        .filter((d) => d.Name === 'QueueName')
        .map((d) => evaluate(d.Value)),
    );
    const queues = Object.fromEntries(byType(t, 'AWS::SQS::Queue'));
    for (const [id, rule] of rules) {
      for (const target of targetsOf(rule)) {
        expect(target.RetryPolicy, id).toEqual({
          MaximumRetryAttempts: expect.any(Number),
          MaximumEventAgeInSeconds: expect.any(Number),
        });
        expect(target.DeadLetterConfig, id).toBeDefined();
        const dlq = evaluate(target.DeadLetterConfig?.Arn).replace(/^getatt:(.*)\.Arn$/, '$1');
        expect(queues[dlq]?.Properties.KmsMasterKeyId, `${id} DLQ ${dlq} encrypted`).toBeDefined();
        expect(alarmedQueues, `${id} DLQ ${dlq} alarmed`).toContain(`getatt:${dlq}.QueueName`);
      }
    }
  });

  it('a queue policy lets EventBridge send only from the rules that target that queue', () => {
    const policies = byType(t, 'AWS::SQS::QueuePolicy');
    let checked = 0;
    for (const [id, policy] of policies) {
      const queue = evaluate(asList(policy.Properties.Queues)[0]).replace(/^ref:/, '');
      const expected = rules
        .filter(([, r]) =>
          targetsOf(r).some((x) =>
            [x.Arn, x.DeadLetterConfig?.Arn].some((a) => a && evaluate(a) === `getatt:${queue}.Arn`),
          ),
        )
        .map(([ruleId]) => `getatt:${ruleId}.Arn`)
        .sort();
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      const allowed = new Set<string>();
      for (const s of statements.filter(fromEventBridge)) {
        checked++;
        expect(Object.keys(s.Condition ?? {}), id).toEqual(['ArnEquals']);
        for (const arn of asList(s.Condition?.ArnEquals?.['aws:SourceArn'])) allowed.add(evaluate(arn));
      }
      // exactly the rules that deliver to this queue (as target or as target DLQ), none besides
      expect([...allowed].sort(), id).toEqual(expected);
    }
    expect(checked).toBeGreaterThanOrEqual(rules.length);
  });

  it("the fleet key lets EventBridge use it only for the fleet's own rules (exact ARNs)", () => {
    const expected = rules
      .map(([id, r]) => {
        const name = r.Properties.Name;
        expect(typeof name, `${id} has a fixed name`).toBe('string');
        const bus = r.Properties.EventBusName ? `${evaluate(r.Properties.EventBusName)}/` : '';
        return `arn:aws:events:eu-west-1:123456789012:rule/${bus}${name}`;
      })
      .sort();
    const keyStatements = byType(t, 'AWS::KMS::Key').flatMap(
      ([, k]) => (k.Properties.KeyPolicy as { Statement: Statement[] }).Statement,
    );
    const forEvents = keyStatements.filter(fromEventBridge);
    expect(forEvents.length).toBeGreaterThan(0);
    for (const s of forEvents) {
      expect(Object.keys(s.Condition ?? {})).toEqual(['ArnEquals']);
      expect(asList(s.Condition?.ArnEquals?.['aws:SourceArn']).map(evaluate).sort()).toEqual(expected);
    }
  });
});

/** GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to hyphens. */
const anchorOf = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

describe('FleetStack on-call views: runbooks and dashboard (github configured: every function)', () => {
  const t = template({ allowTerminate: true });
  const runbooks = readFileSync(fileURLToPath(new URL('../../docs/runbooks.md', import.meta.url)), 'utf8');
  const anchors = new Set([...runbooks.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1] ?? '')));
  const alarms = byType(t, 'AWS::CloudWatch::Alarm');

  it.each(alarms)('alarm %s links to its section of docs/runbooks.md', (_id, alarm) => {
    const description = String(alarm.Properties.AlarmDescription ?? '');
    expect(description.length).toBeLessThanOrEqual(1024);
    const anchor = /Runbook: docs\/runbooks\.md#([a-z0-9_-]+)$/.exec(description)?.[1];
    expect(anchor, description).toBeDefined();
    expect([...anchors], `no heading for #${anchor}`).toContain(anchor);
  });

  it('has one dashboard with a health widget for every function', () => {
    const dashboards = byType(t, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.parse(evaluate(dashboards[0]?.[1].Properties.DashboardBody)) as {
      widgets: { properties: { title?: string; metrics?: unknown[][] } }[];
    };
    const functions = byType(t, 'AWS::Lambda::Function').map(([id]) => id);
    expect(functions.length).toBe(7);
    for (const fn of functions) {
      const invocations = body.widgets.filter((w) =>
        (w.properties.metrics ?? []).some(
          (m) => m.includes('Invocations') && m.includes('FunctionName') && m.includes(`ref:${fn}`),
        ),
      );
      expect(invocations, `${fn} invocations`).toHaveLength(1);
    }
  });
});
