import { App, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { runnerDrain } from '../../functions/runner-drain/definition';
import { patternOf } from '../../shared/kernel/definition';
import { readSettings } from '../../shared/kernel/settings';
import { isMutatingAction } from '../guardrails/iam-actions';
import { isPlatformAction, roleActions, sdkActionsOf } from '../testing/sdk-actions';
import type { AuditAccess } from './audit-access';
import { RunnerRemediation, type RunnerRemediationProps } from './runner-remediation';

const granted: IGrantable[] = [];
const audit: AuditAccess = { tableName: 'fleetwarden-audit', grantWrite: (g) => granted.push(g) };

function appSecret(stack: Stack): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(stack, 'App');
  Validations.of(secret).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'test fixture' });
  return secret;
}

function setup(
  props: Partial<RunnerRemediationProps> = {},
  stackProps: object = { env: { account: '123456789012', region: 'eu-west-1' } },
) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Fleetwarden', stackProps);
  const runners = new RunnerRemediation(stack, 'Runners', {
    alarmTopic: new sns.Topic(stack, 'Alarms', { enforceSSL: true }),
    audit,
    bus: new events.EventBus(stack, 'Bus'),
    autoScalingGroupNames: ['ci-runners', 'ci-runners-arm'],
    githubAppSecret: appSecret(stack),
    githubOwner: 'acme',
    ...props,
  });
  return { app, stack, runners, template: () => Template.fromStack(stack) };
}

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, unknown>;
}
const statements = (t: Template): Statement[] =>
  Object.values(t.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
const withAction = (t: Template, a: string) => statements(t).filter((s) => [s.Action].flat().includes(a));

describe('RunnerRemediation construct', () => {
  it("builds the drain's rules from runner-drain's definition (the deployed settings scope the hook rule)", () => {
    const { stack, runners, template } = setup();
    const t = template();
    const id = stack.getLogicalId(runners.drainFunction.fn.node.defaultChild as CfnElement);
    const vars = t.findResources('AWS::Lambda::Function')[id]?.Properties.Environment.Variables ?? {};
    // a token (a table name, a queue URL) stands for itself: only the literal settings scope the rules
    const env = Object.fromEntries(
      Object.entries(vars as Record<string, unknown>).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : 'token',
      ]),
    );
    const settings = readSettings(runnerDrain.settings, env);
    for (const trigger of runnerDrain.triggers) {
      if (trigger.kind !== 'events') continue;
      const p = patternOf(trigger.pattern, settings);
      const rules = t.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { source: p.source, 'detail-type': p.detailType } },
      });
      expect(Object.values(rules).map((r) => r.Properties.EventPattern)).toEqual([
        { source: p.source, 'detail-type': p.detailType, ...(p.detail ? { detail: p.detail } : {}) },
      ]);
    }
    expect(
      Object.values(t.findResources('AWS::Events::Rule')).some((r) =>
        JSON.stringify(r.Properties.EventPattern ?? {}).includes('"LifecycleHookName":["fleetwarden-drain"]'),
      ),
    ).toBe(true);
  });

  it('adds a terminate lifecycle hook (CONTINUE by default) to each runner ASG', () => {
    const t = setup().template();
    for (const name of ['ci-runners', 'ci-runners-arm']) {
      t.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
        AutoScalingGroupName: name,
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        DefaultResult: 'CONTINUE',
        HeartbeatTimeout: 300,
      });
    }
  });

  it('routes terminate lifecycle events of those ASGs to the drain queue, and in_progress jobs to job-watch', () => {
    const t = setup().template();
    t.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.autoscaling'],
        'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
        detail: { AutoScalingGroupName: ['ci-runners', 'ci-runners-arm'] },
      },
    });
    t.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: Match.anyValue(),
      EventPattern: {
        source: ['fleetwarden.github'],
        'detail-type': ['workflow_job'],
        detail: { action: ['in_progress'] },
      },
    });
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)' });
  });

  it("routes only the fleet's own terminate hook (another owner's hook on the same ASG never reaches the drain)", () => {
    const { stack, runners, template } = setup();
    const t = template();
    const rules = Object.values(t.findResources('AWS::Events::Rule')).filter((r) =>
      JSON.stringify(r.Properties.EventPattern ?? {}).includes('Instance-terminate Lifecycle Action'),
    );
    expect(rules).toHaveLength(1);
    expect(rules[0]?.Properties.EventPattern.detail).toEqual({
      AutoScalingGroupName: ['ci-runners', 'ci-runners-arm'],
      LifecycleHookName: ['fleetwarden-drain'],
    });
    const fn =
      t.findResources('AWS::Lambda::Function')[
        stack.getLogicalId(runners.drainFunction.fn.node.defaultChild as CfnElement)
      ];
    expect(fn?.Properties.Environment.Variables.LIFECYCLE_HOOK_NAME).toBe('fleetwarden-drain');
  });

  it('routes spot interruption warnings to the drain queue (the handler re-verifies the instance is in a runner ASG)', () => {
    const { stack, runners, template } = setup();
    template().hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['aws.ec2'], 'detail-type': ['EC2 Spot Instance Interruption Warning'] },
      Targets: [
        Match.objectLike({
          Arn: {
            'Fn::GetAtt': [stack.getLogicalId(runners.drainQueue.node.defaultChild as CfnElement), 'Arn'],
          },
        }),
      ],
    });
  });

  it.each([
    [undefined, 5],
    [12, 12],
  ])(
    'reserves drain concurrency (%s -> %s) and caps the queue poller at it, so throttling cannot dead-letter drains',
    (c, want) => {
      const { stack, runners, template } = setup(c === undefined ? {} : { drainConcurrency: c });
      const t = template();
      const fnId = stack.getLogicalId(runners.drainFunction.fn.node.defaultChild as CfnElement);
      expect(t.findResources('AWS::Lambda::Function')[fnId]?.Properties.ReservedConcurrentExecutions).toBe(
        want,
      );
      t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: fnId },
        ScalingConfig: { MaximumConcurrency: want },
      });
    },
  );

  it('scopes lifecycle calls to the named ASGs and grants no AWS write for deregistration', () => {
    const t = setup().template();
    const complete = withAction(t, 'autoscaling:CompleteLifecycleAction');
    expect(complete).toHaveLength(1);
    const resources = JSON.stringify(complete[0]?.Resource);
    expect(resources).toContain('autoScalingGroupName/ci-runners');
    expect(resources).toContain('autoScalingGroupName/ci-runners-arm');
    expect(resources).not.toMatch(/"\*"/);
    expect(withAction(t, 'ec2:TerminateInstances')).toEqual([]);
  });

  it('grants TerminateInstances only when opted in, only on instances of the configured ASGs (an aws: tag no user can set) that carry the fleet tag and are not exempt', () => {
    const t = setup({ allowTerminate: true, fleetTag: { key: 'team', value: 'ci' } }).template();
    const [terminate] = withAction(t, 'ec2:TerminateInstances');
    expect(terminate?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/aws:autoscaling:groupName': ['ci-runners', 'ci-runners-arm'],
        'aws:ResourceTag/team': 'ci',
      },
      StringNotEqualsIgnoreCase: { 'aws:ResourceTag/fleetwarden:exempt': 'true' },
    });
  });

  it('keeps the sweep state (rolling removal budget) in its own table: KMS, PITR, TTL, the sweep alone can use it', () => {
    const { stack, runners, template } = setup();
    const t = template();
    const tables = t.findResources('AWS::DynamoDB::Table');
    expect(Object.keys(tables)).toHaveLength(1);
    const table = Object.values(tables)[0]?.Properties;
    expect(table).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(table?.SSESpecification.KMSMasterKeyId).toBeDefined();
    const tableUsers = (fn: 'drainFunction' | 'jobWatchFunction' | 'sweepFunction') =>
      [...roleActions(stack, t, runners[fn])].filter((a) => a.startsWith('dynamodb:'));
    expect(tableUsers('sweepFunction').sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    // runner-drain: UpdateItem and Query on its own partition only (next test)
    expect(tableUsers('drainFunction')).toEqual(['dynamodb:UpdateItem', 'dynamodb:Query']);
    expect(tableUsers('jobWatchFunction')).toEqual([]);
    const sweepEnv =
      t.findResources('AWS::Lambda::Function')[
        stack.getLogicalId(runners.sweepFunction.fn.node.defaultChild as CfnElement)
      ]?.Properties.Environment.Variables;
    expect(sweepEnv).toMatchObject({
      SWEEP_STATE_TABLE: { Ref: expect.stringMatching(/SweepState/) },
      BUDGET_WINDOW_SECONDS: '3600',
      FLEET_ID: '123456789012',
    });
  });

  it("lets runner-drain keep its own state in the sweep state table: UpdateItem and Query, its partition ('drain') only", () => {
    const { stack, runners, template } = setup();
    const t = template();
    const drainDynamo = statements(t).filter((st) =>
      [st.Action].flat().some((x) => String(x).startsWith('dynamodb:')),
    );
    const mine = drainDynamo.filter((st) => [st.Action].flat().includes('dynamodb:UpdateItem'));
    const forDrain = mine.filter((st) => JSON.stringify(st.Condition ?? {}).includes('LeadingKeys'));
    expect(forDrain).toHaveLength(1);
    expect(forDrain[0]).toMatchObject({
      // Query: the drains of one instance (the scheduled look, and a drain it started)
      Action: ['dynamodb:UpdateItem', 'dynamodb:Query'],
      Resource: { 'Fn::GetAtt': [expect.stringMatching(/SweepState/), 'Arn'] },
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['drain'] } },
    });
    const drainEnv =
      t.findResources('AWS::Lambda::Function')[
        stack.getLogicalId(runners.drainFunction.fn.node.defaultChild as CfnElement)
      ]?.Properties.Environment.Variables;
    expect(drainEnv).toMatchObject({ DRAIN_STATE_TABLE: { Ref: expect.stringMatching(/SweepState/) } });
  });

  it('names the fleet with fleetId (default: the account id), so two accounts sharing a GitHub org stay apart', () => {
    const { stack, runners, template } = setup({ fleetId: 'ci-eu' });
    const env =
      template().findResources('AWS::Lambda::Function')[
        stack.getLogicalId(runners.sweepFunction.fn.node.defaultChild as CfnElement)
      ]?.Properties.Environment.Variables;
    expect(env?.FLEET_ID).toBe('ci-eu');
    expect(() => setup({ fleetId: 'has spaces,commas' })).toThrow(/fleetId must be/);
  });

  it("sends runner-drain's look every minute through the drain queue (trusted from that rule), retried within the minute and dead-lettered", () => {
    const { stack, runners, template } = setup();
    const t = template();
    const queue = stack.getLogicalId(runners.drainQueue.node.defaultChild as CfnElement);
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [queue, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 60 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
    const rules = Object.entries(t.findResources('AWS::Events::Rule')).filter(
      ([, r]) => r.Properties.ScheduleExpression === 'rate(1 minute)',
    );
    expect(rules).toHaveLength(1);
    // the queue policy names the rule: no other rule in the account may send the look
    const policies = JSON.stringify(t.findResources('AWS::SQS::QueuePolicy'));
    expect(policies).toContain(rules[0]?.[0]);
  });

  it('the sweep schedule retries delivery and dead-letters what it cannot deliver', () => {
    const t = setup().template();
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [
        Match.objectLike({
          RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 300 },
          DeadLetterConfig: { Arn: Match.anyValue() },
        }),
      ],
    });
  });

  it('every mutating action it grants is scoped (resource ARN or condition)', () => {
    for (const s of statements(setup({ allowTerminate: true }).template())) {
      for (const a of [s.Action].flat()) {
        if (isMutatingAction(a) && !a.startsWith('xray:'))
          expect(s.Resource === '*' && !s.Condition, a).toBe(false);
      }
    }
  });

  it('is safe by default: dry run, 20% breaker, no terminate', () => {
    const t = setup().template();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          DRY_RUN: 'true',
          MAX_REMOVAL_SHARE: '0.2',
          MAX_REMOVALS_PER_RUN: '100',
          ALLOW_TERMINATE: 'false',
          GITHUB_OWNER: 'acme',
        }),
      },
    });
  });

  it.each([undefined, 240, 900, 7200])(
    'a failed drain attempt is redelivered before the hook expires (heartbeat timeout %s s)',
    (hb) => {
      const { stack, runners, template } = setup(
        hb === undefined ? {} : { heartbeatTimeout: Duration.seconds(hb) },
      );
      const t = template();
      const hook = Object.values(t.findResources('AWS::AutoScaling::LifecycleHook'))[0];
      const heartbeat = hook?.Properties.HeartbeatTimeout as number;
      const queue =
        t.findResources('AWS::SQS::Queue')[
          stack.getLogicalId(runners.drainQueue.node.defaultChild as CfnElement)
        ];
      const visibility = queue?.Properties.VisibilityTimeout as number;
      const fn =
        t.findResources('AWS::Lambda::Function')[
          stack.getLogicalId(runners.drainFunction.fn.node.defaultChild as CfnElement)
        ];
      const timeout = fn?.Properties.Timeout as number;
      const retryDelay = Number(fn?.Properties.Environment.Variables.RETRY_DELAY_SECONDS);
      expect(heartbeat).toBe(hb ?? 300);
      // the event source mapping needs the message hidden for a whole invocation
      expect(visibility).toBeGreaterThanOrEqual(timeout);
      // last heartbeat -> scheduled look (retryDelay) -> that attempt fails -> redelivered after
      // the visibility timeout -> runs for up to the function timeout: all inside the heartbeat timeout
      expect(retryDelay + visibility + timeout).toBeLessThan(heartbeat);
    },
  );

  it('alarms on an open circuit, a drain deadline and a job on a leaving instance', () => {
    const t = setup().template();
    for (const metric of [
      'SweepCircuitOpen',
      'DrainDeadlineReached',
      'JobOnLeavingInstance',
      'CordonFailed',
      'SweepBudgetExhausted',
    ]) {
      t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: metric, Namespace: 'Fleetwarden' });
    }
  });

  it.each([
    [
      { autoScalingGroupNames: [] },
      'autoScalingGroupNames must name at least one Auto Scaling group, got []',
    ],
    [
      { maxRemovalShare: 0 },
      'maxRemovalShare must be >0..1 (MAX_REMOVAL_SHARE: Too small: expected number to be >0), got 0',
    ],
    [
      { maxRemovalsPerRun: 0 },
      'maxRemovalsPerRun must be 1..1000 (MAX_REMOVALS_PER_RUN: Too small: expected number to be >=1), got 0',
    ],
    [
      { drainDeadline: Duration.hours(72) },
      'drainDeadline must be 60..172800 seconds (DRAIN_DEADLINE_SECONDS: Too big: expected number to be <=172800), got 259200 s (3 days)',
    ],
    [{ heartbeatTimeout: Duration.seconds(10) }, 'heartbeatTimeout must be 240 to 7200 seconds'],
    [{ heartbeatTimeout: Duration.seconds(200) }, 'heartbeatTimeout must be 240 to 7200 seconds'],
    [{ githubOwner: 'not an org!' }, 'githubOwner must be a GitHub login, got "not an org!"'],
    [
      { bootTimeout: Duration.seconds(30) },
      'bootTimeout must be 60..86400 seconds (BOOT_TIMEOUT_SECONDS: Too small: expected number to be >=60), got 30 s',
    ],
    [{ drainConcurrency: 1 }, 'drainConcurrency must be an integer from 2 to 1000, got 1'],
    [{ drainConcurrency: 2.5 }, 'drainConcurrency must be an integer from 2 to 1000, got 2.5'],
    [
      { githubEnterprise: 'corp' },
      'give exactly one of githubOwner and githubEnterprise, got {"githubOwner":"acme","githubEnterprise":"corp"}',
    ],
    [{ githubOwner: undefined }, 'give exactly one of githubOwner and githubEnterprise, got {}'],
    [{ poolName: 'Linux' }, 'poolName must be [a-z][a-z0-9-]{0,19}'],
    [{ runnerLabels: ['a,b'] }, 'runnerLabels must be runner labels, no comma'],
    [{ githubApiUrl: 'http://ghe.example.com' }, 'githubApiUrl must be an https URL'],
  ])('refuses %o', (props, message) => {
    expect(() => setup(props as Partial<RunnerRemediationProps>)).toThrow(message);
  });

  it.each([
    ['an environment-bound stack', { env: { account: '123456789012', region: 'eu-west-1' } }],
    ['an environment-agnostic stack', {}],
  ])('passes cdk-nag AwsSolutions and the fleet checks in %s', async (_what, stackProps) => {
    const { applyGuardrails } = await import('../guardrails/guardrails');
    const { app } = setup({ allowTerminate: true }, stackProps);
    applyGuardrails(app);
    expect(() => app.synth()).not.toThrow();
  });
});

// ---- every SDK operation a function's adapters call is granted, and nothing more -----------------

describe('RunnerRemediation IAM matches the SDK calls of each function', () => {
  it.each([
    ['drainFunction', 'functions/runner-drain/index.ts'],
    ['sweepFunction', 'functions/runner-sweep/index.ts'],
    ['jobWatchFunction', 'functions/runner-job-watch/index.ts'],
  ] as const)('%s: its role grants exactly the operations %s calls', (prop, entry) => {
    const { stack, runners, template } = setup({ allowTerminate: true });
    // no approval flow in this stack: the approval wiring's calls are granted by the Approvals
    // construct when one is deployed (FleetStack's IAM test covers them)
    const called = sdkActionsOf(entry, { skip: ['shared/approvals/wiring.ts'] });
    expect(called.size, `no SDK calls found for ${entry}`).toBeGreaterThan(0);
    const granted = [...roleActions(stack, template(), runners[prop])].filter((a) => !isPlatformAction(a));
    expect(granted.sort()).toEqual([...called].sort());
  });

  it('the sweep can list its ASGs (DescribeAutoScalingGroups) and terminates only when opted in', () => {
    const { stack, runners, template } = setup();
    const actions = roleActions(stack, template(), runners.sweepFunction);
    expect(actions).toContain('autoscaling:DescribeAutoScalingGroups');
    expect(actions).not.toContain('ec2:TerminateInstances');
  });

  it('the sweep and the drain read their ASGs warm pools (DescribeWarmPool, read-only, no resource-level permissions)', () => {
    const { stack, runners, template } = setup();
    expect(roleActions(stack, template(), runners.sweepFunction)).toContain('autoscaling:DescribeWarmPool');
    expect(roleActions(stack, template(), runners.jobWatchFunction)).not.toContain(
      'autoscaling:DescribeWarmPool',
    );
    // the drain's look: a scale-in back into the warm pool waits on the hook there (Warmed:Pending:Wait)
    expect(roleActions(stack, template(), runners.drainFunction)).toContain('autoscaling:DescribeWarmPool');
  });
});
