import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { isMutatingAction } from '../guardrails/iam-actions';
import { AuditTrail, type AuditTrailProps } from './audit-trail';
import { FleetFunction } from './fleet-function';

function setup(props: Partial<AuditTrailProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Fleetwarden', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alarmTopic = new sns.Topic(stack, 'Alarms');
  const trail = new AuditTrail(stack, 'Audit', { alarmTopic, ...props });
  return { stack, trail, alarmTopic, template: () => Template.fromStack(stack) };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}

/** Every statement attached to a role (inline policies and AWS::IAM::Policy resources). */
function statementsOf(template: Template, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  const role = template.findResources('AWS::IAM::Role')[roleLogicalId];
  for (const p of role?.Properties?.Policies ?? []) out.push(...p.PolicyDocument.Statement);
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    const roles = JSON.stringify(policy.Properties.Roles);
    if (roles.includes(`"${roleLogicalId}"`)) out.push(...policy.Properties.PolicyDocument.Statement);
  }
  return out;
}

const actionsOf = (s: Statement) => [s.Action].flat();

function logicalId(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return stack.getLogicalId(construct.node.defaultChild as never);
}

describe('AuditTrail table', () => {
  it('is KMS-encrypted with a customer key, PITR, TTL on expiresAt, deletion protection, retained', () => {
    const { template } = setup();
    const t = template();
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'recordId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
      }),
    });
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      Description: Match.stringLikeRegexp('audit'),
    });
  });

  it('has the subject and pending-correlation indexes the CLI and correlator query', () => {
    const table = Object.values(setup().template().findResources('AWS::DynamoDB::Table'))[0];
    const indexes = table?.Properties.GlobalSecondaryIndexes.map(
      (i: {
        IndexName: string;
        KeySchema: { AttributeName: string }[];
        Projection: { ProjectionType: string };
      }) => [i.IndexName, i.KeySchema.map((k) => k.AttributeName), i.Projection.ProjectionType],
    );
    expect(indexes).toEqual([
      ['byInstance', ['subjectInstanceId', 'time'], 'ALL'],
      ['byRunner', ['subjectRunnerName', 'time'], 'ALL'],
      ['byRecordName', ['subjectRecordName', 'time'], 'ALL'],
      ['pendingCorrelation', ['correlationPending', 'correlateAfter'], 'ALL'],
    ]);
  });
});

describe('AuditTrail.grantWrite', () => {
  it('grants only PutItem on the table and KMS use through DynamoDB, and sets the table env var', () => {
    const { stack, trail, alarmTopic, template } = setup();
    const writer = new FleetFunction(stack, 'Writer', {
      entry: new URL('./test-fixtures/noop-handler.ts', import.meta.url).pathname,
      description: 'writes audit records',
      alarmTopic,
    });
    trail.grantWrite(writer);
    const t = template();
    const statements = statementsOf(t, logicalId(stack, writer.role));
    const granted = statements
      .flatMap(actionsOf)
      .filter((a) => a.startsWith('dynamodb:') || a.startsWith('kms:'));
    expect(granted.filter((a) => a.startsWith('dynamodb:'))).toEqual(['dynamodb:PutItem']);
    const kms = statements.find((s) => actionsOf(s).includes('kms:Encrypt'));
    expect(kms?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'writes audit records',
      Environment: {
        Variables: Match.objectLike({ AUDIT_TABLE_NAME: Match.anyValue(), AUDIT_RETENTION_DAYS: '400' }),
      },
    });
  });
});

describe('AuditTrail correlator', () => {
  it('runs audit-correlate every 5 minutes with LookupEvents, Query on the pending index and UpdateItem', () => {
    const { stack, trail, template } = setup();
    const t = template();
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
    t.hasResourceProperties('AWS::Lambda::Function', {
      ReservedConcurrentExecutions: 1,
      Timeout: 300,
      Environment: { Variables: Match.objectLike({ CORRELATE_DEADLINE_MINUTES: '360' }) },
    });
    const statements = statementsOf(t, logicalId(stack, trail.correlator.role));
    const lookup = statements.find((s) => actionsOf(s).includes('cloudtrail:LookupEvents'));
    expect(lookup?.Resource).toBe('*');
    const update = statements.find((s) => actionsOf(s).includes('dynamodb:UpdateItem'));
    expect(JSON.stringify(update?.Resource)).toContain('AuditTable');
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('dynamodb:'))).toEqual(
      expect.arrayContaining(['dynamodb:Query', 'dynamodb:UpdateItem']),
    );
    expect(statements.flatMap(actionsOf)).not.toContain('dynamodb:PutItem');
    expect(statements.flatMap(actionsOf)).not.toContain('dynamodb:DeleteItem');
  });
});

describe('Investigator role', () => {
  /** kms:Decrypt is classed "Write" by IAM but changes nothing; allowed only through DynamoDB. */
  const READ_ONLY_EXCEPTIONS = new Set(['kms:Decrypt']);

  it('allows no write action at all (every Allow action is a read verb)', () => {
    const { stack, trail, template } = setup();
    const statements = statementsOf(template(), logicalId(stack, trail.investigatorRole));
    const allowed = statements.filter((s) => s.Effect === 'Allow').flatMap(actionsOf);
    expect(allowed.length).toBeGreaterThan(0);
    const writes = allowed.filter((a) => isMutatingAction(a) && !READ_ONLY_EXCEPTIONS.has(a));
    expect(writes).toEqual([]);
    for (const s of statements.filter((st) => actionsOf(st).includes('kms:Decrypt'))) {
      expect(s.Condition).toEqual({ StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' } });
    }
  });

  it('has exactly the read actions the CLI commands use', () => {
    const { stack, trail, template } = setup();
    const allowed = statementsOf(template(), logicalId(stack, trail.investigatorRole))
      .flatMap(actionsOf)
      .sort();
    expect(allowed).toEqual([
      'autoscaling:DescribeLifecycleHooks', // fleetwarden doctor
      'cloudformation:DescribeStacks', // fleetwarden doctor: the stack's outputs
      'cloudtrail:LookupEvents',
      'cloudwatch:DescribeAlarms', // fleetwarden doctor: alarms in ALARM
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'ec2:DescribeSnapshots',
      'ec2:DescribeVolumes',
      'ec2:GetEbsEncryptionByDefault',
      'kms:Decrypt',
      'logs:DescribeLogGroups',
      'logs:DescribeLogStreams', // fleetwarden doctor: the correlator's last run
      'sqs:GetQueueAttributes',
      'sqs:ListQueues',
    ]);
  });

  it("reads (doctor) only its own stack's outputs and the account's alarms (a listing CloudWatch cannot narrow)", () => {
    const { stack, trail, template } = setup();
    const statements = statementsOf(template(), logicalId(stack, trail.investigatorRole));
    const on = (action: string) => statements.filter((st) => actionsOf(st).includes(action));
    expect(on('cloudformation:DescribeStacks').map((st) => [actionsOf(st), st.Resource])).toEqual([
      [['cloudformation:DescribeStacks'], { Ref: 'AWS::StackId' }],
    ]);
    const alarms = on('cloudwatch:DescribeAlarms');
    expect(alarms.map(actionsOf)).toEqual([['cloudwatch:DescribeAlarms']]);
    expect(JSON.stringify(alarms[0]?.Resource)).toContain(':cloudwatch:*:123456789012:alarm:*');
  });

  it('queries only the subject indexes timeline reads (not the base table, not the pending index)', () => {
    const { stack, trail, template } = setup();
    const statements = statementsOf(template(), logicalId(stack, trail.investigatorRole));
    const dynamo = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('dynamodb:')));
    const query = dynamo.filter((st) => actionsOf(st).includes('dynamodb:Query'));
    expect(query.map(actionsOf)).toEqual([['dynamodb:Query']]);
    const resources = [query[0]?.Resource].flat().map((r) => JSON.stringify(r));
    expect(resources.map((r) => /\/index\/([A-Za-z]+)/.exec(r)?.[1])).toEqual([
      'byInstance',
      'byRunner',
      'byRecordName',
    ]);
    // DescribeTable (posture) and GetItem of one record by id (mcp explain) are the only actions on the table itself
    const onTable = dynamo.filter((st) =>
      [st.Resource].flat().some((r) => !JSON.stringify(r).includes('/index/')),
    );
    expect(onTable.flatMap(actionsOf).sort()).toEqual(['dynamodb:DescribeTable', 'dynamodb:GetItem']);
  });

  it('is assumable by the account (IAM policies decide who) unless a principal is given', () => {
    const t = setup().template();
    t.hasResourceProperties('AWS::IAM::Role', {
      Description: Match.stringLikeRegexp('read-only'),
      MaxSessionDuration: 3600,
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Principal: {
              AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::123456789012:root']] },
            },
          }),
        ],
      },
    });
    const custom = setup({
      investigatorPrincipal: new iam.ArnPrincipal('arn:aws:iam::123456789012:role/OnCall'),
    }).template();
    custom.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [Match.objectLike({ Principal: { AWS: 'arn:aws:iam::123456789012:role/OnCall' } })],
      },
    });
  });
});

describe('AuditTrail props validation', () => {
  it.each([
    [{ retentionDays: 0 }, 'retentionDays must be an integer from 1 to 3650, got 0'],
    [
      { correlationSchedule: Duration.seconds(30) },
      'correlationSchedule must be 1 to 60 minutes, got 0.5 min',
    ],
    [
      { correlationDeadline: Duration.minutes(5) },
      'correlationDeadline must be 10..128160 minutes (CORRELATE_DEADLINE_MINUTES: Too small: expected number to be >=10), got 5 min',
    ],
  ])('refuses %o', (props, message) => {
    expect(() => setup(props as Partial<AuditTrailProps>)).toThrow(message);
  });
});

describe('AuditTrail guardrails', () => {
  it.each([
    ['an environment-bound stack', { env: { account: '123456789012', region: 'eu-west-1' } }],
    ['an environment-agnostic stack', {}],
  ])('passes cdk-nag AwsSolutions and the fleet checks in %s', async (_what, stackProps) => {
    const { applyGuardrails } = await import('../guardrails/guardrails');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Fleetwarden', stackProps);
    new AuditTrail(stack, 'Audit', { alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true }) });
    applyGuardrails(app);
    expect(() => app.synth()).not.toThrow();
  });
});
