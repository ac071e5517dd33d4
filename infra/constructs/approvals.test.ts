import { fileURLToPath } from 'node:url';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { isMutatingAction } from '../guardrails/iam-actions';
import { Approvals, type ApprovalsProps } from './approvals';
import { FleetFunction } from './fleet-function';

const APPROVERS = [
  'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*',
  'arn:aws:iam::210987654321:user/alice',
  'arn:aws:sts::210987654321:assumed-role/Breakglass/bob',
];

function setup(props: Partial<ApprovalsProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Fleet', { env: { account: '123456789012', region: 'eu-west-1' } });
  const approvals = new Approvals(stack, 'Approvals', {
    approvers: APPROVERS,
    notifyEmails: ['oncall@example.com'],
    ...props,
  });
  const proposer = new FleetFunction(stack, 'Proposer', {
    entry: fileURLToPath(new URL('../../functions/orphaned-volumes/index.ts', import.meta.url)),
    description: 'proposes',
    alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true }),
  });
  approvals.grantPropose(proposer);
  return { app, stack, approvals, proposer, t: Template.fromStack(stack) };
}

type Statement = {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};
const actionsOf = (s: Statement) => [s.Action].flat();
const id = (stack: Stack, c: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(c.node.defaultChild as never);

/** Every identity statement in the template, with the logical ids of the roles it is attached to. */
function identityStatements(t: Template): Array<{ roles: string[]; s: Statement }> {
  const out: Array<{ roles: string[]; s: Statement }> = [];
  for (const [rid, role] of Object.entries(t.findResources('AWS::IAM::Role')))
    for (const p of role.Properties.Policies ?? [])
      for (const s of p.PolicyDocument.Statement) out.push({ roles: [rid], s });
  for (const p of Object.values(t.findResources('AWS::IAM::Policy'))) {
    const roles = (p.Properties.Roles ?? []).map((r: { Ref: string }) => r.Ref);
    for (const s of p.Properties.PolicyDocument.Statement) out.push({ roles, s });
  }
  return out;
}

describe('Approvals: the approval flow’s tables, topic and Approver role', () => {
  it('proposals table: id, GSIs byKey and byStatus, the fleet key, PITR, retained', () => {
    const { t } = setup();
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byKey',
            KeySchema: [
              { AttributeName: 'key', KeyType: 'HASH' },
              { AttributeName: 'createdAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'byStatus',
            KeySchema: [
              { AttributeName: 'status', KeyType: 'HASH' },
              { AttributeName: 'createdAt', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      }),
    });
  });

  it('decisions table: proposalId + approver, the fleet key, PITR, retained', () => {
    const { t, stack } = setup();
    const key = stack.getLogicalId(stack.node.findChild('FleetKey').node.defaultChild as never);
    t.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [
          { AttributeName: 'proposalId', KeyType: 'HASH' },
          { AttributeName: 'approver', KeyType: 'RANGE' },
        ],
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: {
          SSEEnabled: true,
          SSEType: 'KMS',
          KMSMasterKeyId: { 'Fn::GetAtt': [key, 'Arn'] },
        },
      }),
    });
    // both tables with the fleet key
    const tables = Object.values(t.findResources('AWS::DynamoDB::Table'));
    expect(tables.map((r) => r.Properties.SSESpecification.KMSMasterKeyId)).toEqual([
      { 'Fn::GetAtt': [key, 'Arn'] },
      { 'Fn::GetAtt': [key, 'Arn'] },
    ]);
  });

  it("decisions table's resource policy denies every item write to any principal but the Approver role", () => {
    const { t, approvals, stack } = setup();
    const table = t.findResources('AWS::DynamoDB::Table', {
      Properties: { KeySchema: Match.arrayWith([{ AttributeName: 'proposalId', KeyType: 'HASH' }]) },
    });
    const [decisions] = Object.values(table);
    const [deny, ...rest] = (decisions?.Properties.ResourcePolicy.PolicyDocument.Statement ??
      []) as Statement[];
    expect(rest).toEqual([]);
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Resource: '*' });
    expect(actionsOf(deny as Statement).sort()).toEqual(
      [
        'dynamodb:BatchWriteItem',
        'dynamodb:DeleteItem',
        'dynamodb:PartiQLDelete',
        'dynamodb:PartiQLInsert',
        'dynamodb:PartiQLUpdate',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    const roleArn = stack.resolve(approvals.approverRoleArn);
    expect(deny?.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': roleArn } });
    // the ARN written in the policy is the role's own (fixed name), not a reference (no cycle)
    const role = t.findResources('AWS::IAM::Role', {
      Properties: { RoleName: 'fleetwarden-approver-Fleet-eu-west-1' },
    });
    expect(Object.keys(role)).toEqual([id(stack, approvals.approverRole)]);
    expect(JSON.stringify(roleArn)).toContain(approvals.approverRoleName);
    expect(JSON.stringify(roleArn)).not.toContain('GetAtt');
  });

  it('only the Approver role has a write action on the decisions table (no function role, nothing else)', () => {
    const { t, stack, approvals, proposer } = setup();
    const decisions = id(stack, approvals.decisionsTable);
    const writers = identityStatements(t).filter(
      ({ s }) =>
        s.Effect === 'Allow' &&
        JSON.stringify(s.Resource ?? '*').match(new RegExp(`"${decisions}"|^"\\*"$`)) &&
        actionsOf(s).some((a) => (a.startsWith('dynamodb:') || a === '*') && isMutatingAction(a)),
    );
    expect(writers.flatMap((w) => w.roles)).toEqual([id(stack, approvals.approverRole)]);
    expect(writers.flatMap(({ s }) => actionsOf(s)).filter(isMutatingAction)).toEqual(['dynamodb:PutItem']);
    // the proposing function reads decisions, nothing more
    const fnOnDecisions = identityStatements(t)
      .filter(
        ({ roles, s }) =>
          roles.includes(id(stack, proposer.role)) && JSON.stringify(s.Resource).includes(decisions),
      )
      .flatMap(({ s }) => actionsOf(s));
    expect(fnOnDecisions.sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
  });

  it("the Approver role's trust names only the configured principals (their accounts, their ARNs) and needs a source identity", () => {
    const { t, stack, approvals } = setup();
    const role = t.toJSON().Resources[id(stack, approvals.approverRole)];
    expect(role.Properties.MaxSessionDuration).toBe(3600);
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Principal: {
          AWS: ['arn:aws:iam::123456789012:root', 'arn:aws:iam::210987654321:root'],
        },
        Condition: {
          ArnLike: {
            'aws:PrincipalArn': [
              APPROVERS[0],
              APPROVERS[1],
              // IAM sees a role session's aws:PrincipalArn as its role; the fleet checks the session
              'arn:aws:iam::210987654321:role/Breakglass',
            ],
          },
          Null: { 'sts:SourceIdentity': 'false' },
        },
      },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('the Approver role reads proposals and puts decisions, with the key through DynamoDB only', () => {
    const { t, stack, approvals } = setup();
    const statements = identityStatements(t)
      .filter(({ roles }) => roles.includes(id(stack, approvals.approverRole)))
      .map(({ s }) => s);
    const proposals = id(stack, approvals.proposalsTable);
    const decisions = id(stack, approvals.decisionsTable);
    const on = (table: string) =>
      statements
        .filter((s) => JSON.stringify(s.Resource).includes(`"${table}"`))
        .flatMap(actionsOf)
        .sort();
    expect(on(proposals)).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(on(decisions)).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query']);
    const kms = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 'dynamodb.eu-west-1.amazonaws.com' },
    });
    const all = statements.flatMap(actionsOf);
    expect(all.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('kms:'))).toEqual([]);
  });

  it('the proposal topic is encrypted with the fleet key, refuses plain HTTP and mails the configured addresses', () => {
    const { t } = setup({ notifyEmails: ['oncall@example.com', 'lead@example.com'] });
    t.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const subs = Object.values(t.findResources('AWS::SNS::Subscription')).map((s) => s.Properties);
    expect(subs.map((s) => [s.Protocol, s.Endpoint])).toEqual([
      ['email', 'oncall@example.com'],
      ['email', 'lead@example.com'],
    ]);
  });

  it('grantPropose: the settings in the environment, proposals read/write, decisions read, publish, the key', () => {
    const { t, stack, approvals, proposer } = setup({
      required: 2,
      twoPerson: false,
      expiry: Duration.hours(2),
    });
    const fn = t.toJSON().Resources[id(stack, proposer.fn)];
    const env = fn.Properties.Environment.Variables;
    expect(env).toMatchObject({
      APPROVERS: APPROVERS.join(','),
      APPROVALS_REQUIRED: '2',
      APPROVAL_TWO_PERSON: 'false',
      PROPOSAL_EXPIRY: '7200',
    });
    expect(env.PROPOSALS_TABLE).toEqual({ Ref: id(stack, approvals.proposalsTable) });
    expect(env.DECISIONS_TABLE).toEqual({ Ref: id(stack, approvals.decisionsTable) });
    expect(env.PROPOSAL_TOPIC_ARN).toEqual({ Ref: id(stack, approvals.topic) });
    expect(env.APPROVER_ROLE_ARN).toEqual(stack.resolve(approvals.approverRoleArn));
    const statements = identityStatements(t)
      .filter(({ roles }) => roles.includes(id(stack, proposer.role)))
      .map(({ s }) => s);
    const on = (logical: string) =>
      statements
        .filter((s) => JSON.stringify(s.Resource).includes(`"${logical}"`))
        .flatMap(actionsOf)
        .sort();
    expect(on(id(stack, approvals.proposalsTable))).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    const queries = statements.filter((s) => actionsOf(s).includes('dynamodb:Query'));
    expect(JSON.stringify(queries)).toContain('/index/byKey');
    expect(JSON.stringify(queries)).toContain('/index/byStatus');
    expect(on(id(stack, approvals.topic))).toEqual(['sns:Publish']);
  });

  it('publishes the outputs an approver needs', () => {
    const { t } = setup();
    const outputs = Object.keys(t.toJSON().Outputs);
    for (const name of ['ApproverRoleArn', 'ProposalsTableName', 'DecisionsTableName', 'ProposalTopicArn'])
      expect(
        outputs.some((o) => o.includes(name)),
        name,
      ).toBe(true);
  });

  it('refuses bad props before building anything, every problem with its value', () => {
    expect(() =>
      setup({
        approvers: ['arn:aws:iam::*:role/OnCall', 'OnCall'],
        required: 6,
        expiry: Duration.minutes(1),
        notifyEmails: ['oncall'],
        approverRoleName: 'a'.repeat(65),
      }),
    ).toThrow(
      /Approvals Fleet\/Approvals: approvers\[0\] must be an IAM principal ARN pattern .*got "arn:aws:iam::\*:role\/OnCall"; approvers\[1\] .*got "OnCall"; required must be an integer from 1 to 5, got 6; expiry must be 300 to 604800 seconds, got 60; notifyEmails\[0\] must be an email address, got "oncall"; approverRoleName must be 1 to 64 characters/,
    );
    expect(() => setup({ approvers: [] })).toThrow(/approvers must name at least one principal, got \[\]/);
  });

  it('passes cdk-nag AwsSolutions and the fleet checks', async () => {
    const { applyGuardrails } = await import('../guardrails/guardrails');
    const { app } = setup();
    applyGuardrails(app);
    expect(() => app.synth()).not.toThrow();
  });
});
