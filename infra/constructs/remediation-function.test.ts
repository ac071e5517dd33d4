import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AttributeType, Table } from 'aws-cdk-lib/aws-dynamodb';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { arnPattern, type RemediationSpec } from '../../shared/kernel/definition';
import { setting } from '../../shared/kernel/settings';
import type { AuditAccess } from './audit-access';
import { RemediationFunction, remediationPermissions } from './remediation-function';

const granted: IGrantable[] = [];
const audit: AuditAccess = { tableName: 'fleetwarden-audit', grantWrite: (g) => granted.push(g) };
const entry = fileURLToPath(new URL('./test-fixtures/noop-handler.ts', import.meta.url));

const settings = {
  auditTable: setting.string('AUDIT_TABLE_NAME', { doc: 'audit table' }),
  fleetTagKey: setting.string('FLEET_TAG_KEY', { doc: 'fleet tag key', default: 'fleetwarden:fleet' }),
  fleetTagValue: setting.string('FLEET_TAG_VALUE', { doc: 'fleet tag value', default: 'runners' }),
  graceDays: setting.integer('GRACE_DAYS', { doc: 'grace', default: 7, min: 1, max: 90 }),
  dryRun: setting.boolean('DRY_RUN', { doc: 'dry run', default: true }),
};
type S = typeof settings;

const spec: RemediationSpec<S, 'delete'> & { entry: string } = {
  name: 'volume-cleaner',
  summary: 'Deletes what nobody uses.',
  entry,
  triggers: [
    { kind: 'schedule', minutes: 60 },
    {
      kind: 'events',
      id: 'TerminatedRule',
      bus: 'default',
      pattern: {
        source: ['aws.ec2'],
        detailType: ['EC2 Instance State-change Notification'],
        detail: { state: ['terminated'] },
      },
      delivery: 'queue',
    },
  ],
  settings,
  actions: {
    delete: {
      audit: 'volume.delete',
      does: 'delete the volume',
      reversible: false,
      weight: 1,
      calls: ['EC2.DeleteVolume'],
      iam: (s) => [
        {
          actions: ['ec2:DeleteVolume'],
          resources: [arnPattern('ec2', 'volume/*')],
          conditions: { StringEquals: { [`aws:ResourceTag/${s.fleetTagKey}`]: s.fleetTagValue } },
        },
      ],
    },
  },
  reads: () => [{ actions: ['ec2:DescribeVolumes'], resources: ['*'] }],
};

function setup(values: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alarmTopic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
  const rf = new RemediationFunction(stack, 'VolumeCleaner', {
    definition: spec,
    alarmTopic,
    audit,
    settings: { fleetTagValue: 'web', ...values },
  });
  return { rf, t: Template.fromStack(stack) };
}

describe('RemediationFunction: infrastructure derived from a definition', () => {
  it('passes cdk-nag AwsSolutions and the fleet checks: an ARN wildcard scoped by a condition is acknowledged, naming it', async () => {
    const { applyGuardrails } = await import('../guardrails/guardrails');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Fleet');
    const alarmTopic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
    const rf = new RemediationFunction(stack, 'VolumeCleaner', {
      definition: spec,
      alarmTopic,
      audit,
      settings: {},
    });
    applyGuardrails(app);
    expect(() => app.synth()).not.toThrow();
    const acks = JSON.stringify(rf.function.role.node.metadata);
    expect(acks).toContain(
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:volume/*]',
    );
    expect(acks).toContain('aws:ResourceTag/fleetwarden:fleet');
  });

  it('writes the settings into the environment, the audit table included', () => {
    const { t } = setup();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'Deletes what nobody uses.',
      Environment: {
        Variables: Match.objectLike({
          AUDIT_TABLE_NAME: 'fleetwarden-audit',
          FLEET_TAG_VALUE: 'web',
          FLEET_TAG_KEY: 'fleetwarden:fleet',
          GRACE_DAYS: '7',
          DRY_RUN: 'true',
        }),
      },
    });
  });

  it('grants exactly the declared reads and actions, scoped by the settings', () => {
    const { t } = setup();
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>,
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: 'ec2:DeleteVolume',
        Condition: { StringEquals: { 'aws:ResourceTag/fleetwarden:fleet': 'web' } },
        Resource: { 'Fn::Sub': arnPattern('ec2', 'volume/*') },
      }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({ Action: 'ec2:DescribeVolumes', Resource: '*' }),
    );
    expect(granted.length).toBeGreaterThan(0);
  });

  it('renders a declared resource naming a deploy-time token (a table name) without Fn::Sub around a join', () => {
    const stack = new Stack();
    const table = new Table(stack, 'T', { partitionKey: { name: 'id', type: AttributeType.STRING } });
    const [p] = remediationPermissions(
      {
        ...spec,
        reads: () => [
          {
            actions: ['dynamodb:Query'],
            resources: [`${arnPattern('dynamodb', 'table/')}${table.tableName}/index/x`],
          },
        ],
        actions: {},
      } as never,
      {} as never,
    );
    const rendered = JSON.stringify(stack.resolve(p?.resources[0]));
    expect(rendered).not.toContain('Fn::Sub');
    expect(rendered).toContain('AWS::Partition');
    expect(rendered).toContain('/index/x');
  });

  it('builds each trigger: a schedule, and a rule into a trusted, dead-lettered queue', () => {
    const { t, rf } = setup();
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ec2'],
        'detail-type': ['EC2 Instance State-change Notification'],
        detail: { state: ['terminated'] },
      },
    });
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Condition: { ArnEquals: { 'aws:SourceArn': Match.anyValue() } } }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(rf.queue).toBeDefined();
    expect(rf.deadLetterQueue).toBeDefined();
  });

  it('builds a rule whose pattern is a function of the settings from the deployed values', () => {
    const scoped: RemediationSpec<S, 'delete'> & { entry: string } = {
      ...spec,
      triggers: [
        {
          kind: 'events',
          id: 'TaggedRule',
          bus: 'default',
          pattern: (s) => ({ source: ['aws.tag'], detail: { 'changed-tag-keys': [s.fleetTagKey] } }),
          delivery: 'direct',
        },
      ],
    };
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'eu-west-1' } });
    const alarmTopic = new sns.Topic(stack, 'Alarms', { enforceSSL: true });
    new RemediationFunction(stack, 'Scoped', {
      definition: scoped,
      alarmTopic,
      audit,
      settings: { fleetTagKey: 'team:fleet' },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.tag'], detail: { 'changed-tag-keys': ['team:fleet'] } },
    });
  });

  it('refuses a setting value its declaration refuses, naming the setting and the value', () => {
    expect(() => setup({ graceDays: 0 })).toThrow(/graceDays \(GRACE_DAYS\)=0/);
    expect(() => setup({ graceDays: 0 })).toThrow(/VolumeCleaner/);
  });

  it('writes ARN patterns with the pseudo parameters of the stack', () => {
    const d = '$';
    expect(arnPattern('ec2', 'volume/*')).toBe(
      `arn:${d}{AWS::Partition}:ec2:${d}{AWS::Region}:${d}{AWS::AccountId}:volume/*`,
    );
    expect(arnPattern('route53', 'hostedzone/Z1', { global: true })).toMatch(/:route53:::hostedzone\/Z1$/);
  });

  it('derives the same statements for the template test to compare with the calls', () => {
    const perms = remediationPermissions(spec, {
      auditTable: 'a',
      fleetTagKey: 'k',
      fleetTagValue: 'v',
      graceDays: 7,
      dryRun: true,
    });
    expect(perms.flatMap((p) => p.actions)).toEqual(['ec2:DescribeVolumes', 'ec2:DeleteVolume']);
  });
});
