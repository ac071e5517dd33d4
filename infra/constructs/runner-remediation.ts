import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import { SWEEP_STATE_TABLE, SWEEP_STATE_TABLE_ENV } from '../../shared/budget/dynamodb-sweep-state';
import { GITHUB_EVENT_SOURCE, WORKFLOW_JOB_DETAIL_TYPE } from '../../shared/github/workflow-job-event';
import { DRAIN_STATE_PARTITION, DRAIN_STATE_TABLE_ENV } from '../../shared/runners/drain-state-dynamodb';
import {
  SPOT_INTERRUPTION_DETAIL_TYPE,
  TERMINATE_LIFECYCLE_DETAIL_TYPE,
} from '../../shared/runners/lifecycle-event';
import { EXEMPT_TAG } from '../../shared/runners/matching';
import type { AuditAccess } from './audit-access';
import { deadLetterQueue } from './dead-letter-queue';
import { FleetFunction } from './fleet-function';
import { fleetKey } from './fleet-key';
import { refuseInvalidProps } from './props-validation';
import { EVENT_DELIVERY, functionTarget, scheduleDelivery, TrustedQueueTarget } from './rule-targets';
import { alarmDescription, type RunbookAnchor } from './runbook';

export interface RunnerRemediationProps {
  /** Topic every alarm of the feature notifies. */
  readonly alarmTopic: sns.ITopic;
  /** Where the functions write their audit records. */
  readonly audit: AuditAccess;
  /** Bus the webhook ingress puts `fleetwarden.github` workflow_job events on. */
  readonly bus: events.IEventBus;
  /** Auto Scaling groups running the runners (terminate hooks are added to these). */
  readonly autoScalingGroupNames: readonly string[];
  /** Secret with the GitHub App credentials JSON `{appId, installationId, privateKey}`. */
  readonly githubAppSecret: secretsmanager.ISecret;
  /** Organisation (or repository owner) whose runners are managed. */
  readonly githubOwner: string;
  /**
   * Manage one repository's runners instead of the organisation's.
   * @default - organisation-level runners
   */
  readonly githubRepository?: string;
  /**
   * Decide and audit, but deregister and terminate nothing (lifecycle actions are still completed).
   * @default true
   */
  readonly dryRun?: boolean;
  /**
   * The sweep refuses a run removing more than this share of the fleet (one removal always allowed).
   * @default 0.2
   */
  readonly maxRemovalShare?: number;
  /**
   * At most this many removals (deregistrations + terminations) per sweep run; the rest wait for
   * the next run. GitHub writes are paced ~1/s, so a 5-minute run manages ~250 at most.
   * @default 100
   */
  readonly maxRemovalsPerRun?: number;
  /**
   * The sweep's rolling removal budget: removals (deregistrations + terminations) within any window
   * this long never exceed max(1, floor(maxRemovalShare x fleet runners listed)); kept across runs
   * in the sweep state table (5 minutes to 7 days).
   * @default Duration.hours(1)
   */
  readonly removalBudgetWindow?: Duration;
  /**
   * This fleet's id: runners register with the label `fleetwarden-fleet:<fleetId>`, and the sweep
   * never touches a runner labelled with another id (two accounts or fleets sharing one GitHub
   * organisation stay apart). Letters, digits, `.`, `_`, `-`, up to 64 characters.
   * @default - the stack's AWS account id
   */
  readonly fleetId?: string;
  /**
   * Let the sweep terminate fleet instances that never registered a runner: only instances of
   * `autoScalingGroupNames` (IAM: `aws:ResourceTag/aws:autoscaling:groupName`, which no user can set)
   * that carry the fleet tag and not `fleetwarden:exempt=true`.
   * @default false
   */
  readonly allowTerminate?: boolean;
  /**
   * Tag marking the fleet's runner instances (sweep scope, TerminateInstances condition).
   * @default { key: 'fleetwarden:fleet', value: 'runners' }
   */
  readonly fleetTag?: { key: string; value: string };
  /**
   * Add a terminate lifecycle hook to each ASG (skip if you manage hooks elsewhere; name it
   * `fleetwarden-drain`).
   * @default true
   */
  readonly createLifecycleHooks?: boolean;
  /**
   * Lifecycle hook heartbeat timeout (240 to 7200 s); drain heartbeats well inside it. The drain
   * looks again every heartbeat/3 and the drain queue hides a message for heartbeat/4 (at least the
   * 60 s function timeout), so one failed attempt is redelivered and finished before the hook expires
   * (retry delay + visibility + function timeout < heartbeat timeout, hence the 240 s minimum).
   * @default Duration.minutes(5)
   */
  readonly heartbeatTimeout?: Duration;
  /**
   * Concurrency reserved for runner-drain (2 to 1000); the drain queue's poller is capped at the same
   * number (SQS event source maximum concurrency), so a busy account can neither starve the drain nor
   * have its invocations throttled into the dead-letter queue while lifecycle hooks wait.
   * @default 5
   */
  readonly drainConcurrency?: number;
  /**
   * How long a busy runner may hold its terminating instance (1 minute to 48 hours).
   * @default Duration.minutes(30)
   */
  readonly drainDeadline?: Duration;
  /**
   * How often runner-sweep runs.
   * @default Duration.minutes(5)
   */
  readonly sweepSchedule?: Duration;
  /**
   * After an instance left, wait this long before deregistering its idle runner.
   * @default Duration.minutes(5)
   */
  readonly gracePeriod?: Duration;
  /**
   * A fleet instance running this long without a runner is reported (or terminated).
   * @default Duration.minutes(15)
   */
  readonly bootTimeout?: Duration;
  /**
   * Key for the drain queue.
   * @default - the stack's shared FleetKey
   */
  readonly encryptionKey?: kms.IKey;
}

const ASG_NAME = /^[\w\-.:@+=]{1,255}$/u;
const GITHUB_LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/;
const FLEET_ID = /^[A-Za-z0-9._-]{1,64}$/;
export const LIFECYCLE_HOOK_NAME = 'fleetwarden-drain';
const DRAIN_TIMEOUT = Duration.seconds(60);
const MIN_HEARTBEAT_SECONDS = 240;

/** Drain timings derived from the hook's heartbeat timeout (see `heartbeatTimeout`). */
export function drainTimings(heartbeatSeconds: number): {
  retryDelaySeconds: number;
  visibilitySeconds: number;
} {
  return {
    retryDelaySeconds: Math.max(10, Math.min(900, Math.floor(heartbeatSeconds / 3))),
    // at least the function timeout (Lambda's SQS event source requires it), well below the heartbeat
    visibilitySeconds: Math.max(DRAIN_TIMEOUT.toSeconds(), Math.min(900, Math.floor(heartbeatSeconds / 4))),
  };
}

function validate(scope: Construct, id: string, p: RunnerRemediationProps): void {
  const problems: string[] = [];
  if (p.autoScalingGroupNames.length === 0)
    problems.push('autoScalingGroupNames must name at least one Auto Scaling group, got []');
  for (const n of p.autoScalingGroupNames)
    if (!ASG_NAME.test(n)) problems.push(`autoScalingGroupNames has an invalid name "${n}"`);
  if (!GITHUB_LOGIN.test(p.githubOwner))
    problems.push(`githubOwner must be a GitHub login, got "${p.githubOwner}"`);
  const share = p.maxRemovalShare;
  if (share !== undefined && !(share > 0 && share <= 1))
    problems.push(`maxRemovalShare must be > 0 and <= 1, got ${share}`);
  const cap = p.maxRemovalsPerRun;
  if (cap !== undefined && !(Number.isInteger(cap) && cap >= 1 && cap <= 1000))
    problems.push(`maxRemovalsPerRun must be an integer from 1 to 1000, got ${cap}`);
  const deadline = p.drainDeadline?.toSeconds();
  if (deadline !== undefined && (deadline < 60 || deadline > 48 * 3600))
    problems.push(
      `drainDeadline must be 1 minute to 48 hours, got ${p.drainDeadline?.toHours({ integral: false })} hours`,
    );
  const hb = p.heartbeatTimeout?.toSeconds();
  if (hb !== undefined && (hb < MIN_HEARTBEAT_SECONDS || hb > 7200))
    problems.push(
      `heartbeatTimeout must be ${MIN_HEARTBEAT_SECONDS} to 7200 seconds (a failed drain attempt must be redelivered and finished before the hook expires: heartbeat/3 retry delay + queue visibility + ${DRAIN_TIMEOUT.toSeconds()} s function timeout), got ${hb}`,
    );
  if (p.fleetId !== undefined && !Token.isUnresolved(p.fleetId) && !FLEET_ID.test(p.fleetId))
    problems.push(
      `fleetId must be 1 to 64 letters, digits, ".", "_" or "-" (it is part of a runner label), got "${p.fleetId}"`,
    );
  const window = p.removalBudgetWindow?.toSeconds();
  if (window !== undefined && (window < 300 || window > 604_800))
    problems.push(`removalBudgetWindow must be 5 minutes to 7 days, got ${window} s`);
  const dc = p.drainConcurrency;
  if (dc !== undefined && !(Number.isInteger(dc) && dc >= 2 && dc <= 1000))
    problems.push(`drainConcurrency must be an integer from 2 to 1000, got ${dc}`);
  const every = p.sweepSchedule?.toSeconds();
  if (every !== undefined && (every < 60 || every > 86_400))
    problems.push(`sweepSchedule must be 1 minute to 24 hours, got ${every} s`);
  refuseInvalidProps('RunnerRemediation', scope, id, problems);
}

/**
 * No ghost runners, no killed jobs: a terminate lifecycle hook drains each runner instance
 * (runner-drain), a schedule sweeps orphans through a circuit breaker (runner-sweep), and jobs that
 * start on leaving instances are caught (runner-job-watch). Deregistration is a GitHub call and
 * needs no AWS write; lifecycle calls are scoped to the named ASGs; TerminateInstances exists only
 * when opted in, conditioned on the ASGs' aws:autoscaling:groupName tag (and the fleet tag, and no
 * fleetwarden:exempt=true). The sweep's rolling removal budget lives in its own table.
 */
export class RunnerRemediation extends Construct {
  readonly drainQueue: sqs.Queue;
  readonly drainDeadLetterQueue: sqs.Queue;
  readonly drainFunction: FleetFunction;
  readonly sweepFunction: FleetFunction;
  readonly jobWatchFunction: FleetFunction;
  /**
   * runner-sweep's state (rolling removal budget, first sightings), and runner-drain's own state
   * per lifecycle action in partition `drain` (the drain can only UpdateItem there).
   */
  readonly sweepStateTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: RunnerRemediationProps) {
    validate(scope, id, props);
    super(scope, id);
    const stack = Stack.of(this);
    const key = props.encryptionKey ?? fleetKey(this);
    const fleetTag = props.fleetTag ?? { key: 'fleetwarden:fleet', value: 'runners' };
    const names = [...props.autoScalingGroupNames];
    const heartbeat = props.heartbeatTimeout ?? Duration.minutes(5);
    const timings = drainTimings(heartbeat.toSeconds());
    const drainConcurrency = props.drainConcurrency ?? 5;
    const entry = (name: string) =>
      fileURLToPath(new URL(`../../functions/${name}/handler.ts`, import.meta.url));
    const common: Record<string, string> = {
      [AUDIT_TABLE_ENV]: props.audit.tableName,
      GITHUB_APP_SECRET_ARN: props.githubAppSecret.secretArn,
      GITHUB_OWNER: props.githubOwner,
      ...(props.githubRepository ? { GITHUB_REPOSITORY: props.githubRepository } : {}),
      FLEET_TAG_KEY: fleetTag.key,
      FLEET_TAG_VALUE: fleetTag.value,
      DRY_RUN: String(props.dryRun ?? true),
    };
    const alarm = (name: string, metric: cloudwatch.IMetric, description: string, runbook: RunbookAnchor) => {
      const a = new cloudwatch.Alarm(this, name, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: alarmDescription(description, runbook),
      });
      a.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    };
    const readRunners = (ff: FleetFunction) => {
      props.githubAppSecret.grantRead(ff);
      props.audit.grantWrite(ff);
    };

    // ---- drain: terminate lifecycle hook -> queue -> runner-drain (re-enqueues itself while busy)
    this.drainDeadLetterQueue = deadLetterQueue(this, 'DrainDeadLetter', {
      key,
      of: 'the drain queue (and of its EventBridge target)',
    });
    this.drainQueue = new sqs.Queue(this, 'DrainQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      // well below the heartbeat timeout: a failed attempt must come back before the hook expires
      visibilityTimeout: Duration.seconds(timings.visibilitySeconds),
      deadLetterQueue: { queue: this.drainDeadLetterQueue, maxReceiveCount: 5 },
    });
    alarm(
      'DrainDeadLetterAlarm',
      this.drainDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      'fleetwarden runner-drain: lifecycle events that could not be drained are in the dead-letter queue (their instances were released by the hook timeout)',
      'drain-queue-dead-letters',
    );
    const drainTarget = () =>
      new TrustedQueueTarget(this.drainQueue, {
        deadLetterQueue: this.drainDeadLetterQueue,
        ...EVENT_DELIVERY,
      });
    new events.Rule(this, 'TerminateHookRule', {
      description: "fleetwarden runner-drain: the fleet's own terminate lifecycle hook on the runner ASGs",
      eventPattern: {
        source: ['aws.autoscaling'],
        detailType: [TERMINATE_LIFECYCLE_DETAIL_TYPE],
        // other owners' terminate hooks on the same groups (log shippers, LB deregistration) are not ours
        detail: { AutoScalingGroupName: names, LifecycleHookName: [LIFECYCLE_HOOK_NAME] },
      },
      targets: [drainTarget()],
    });
    // The warning names only the instance: no pattern can scope it to the runner ASGs, so
    // runner-drain re-verifies (DescribeAutoScalingInstances) and refuses any other instance.
    new events.Rule(this, 'SpotInterruptionRule', {
      description:
        'fleetwarden runner-drain: spot interruption warnings (cordon the runner of a fleet instance early)',
      eventPattern: { source: ['aws.ec2'], detailType: [SPOT_INTERRUPTION_DETAIL_TYPE] },
      targets: [drainTarget()],
    });
    if (props.createLifecycleHooks ?? true) {
      names.forEach((name, i) => {
        new autoscaling.CfnLifecycleHook(this, `TerminateHook${i}`, {
          autoScalingGroupName: name,
          lifecycleHookName: LIFECYCLE_HOOK_NAME,
          lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          heartbeatTimeout: heartbeat.toSeconds(),
          // if fleetwarden is down, instances still terminate when the heartbeat runs out
          defaultResult: 'CONTINUE',
        });
      });
    }
    this.drainFunction = new FleetFunction(this, 'RunnerDrain', {
      entry: fileURLToPath(new URL('../../functions/runner-drain/index.ts', import.meta.url)),
      description:
        'Drains terminating runner instances: deregisters idle runners, holds busy ones, completes the lifecycle action',
      alarmTopic: props.alarmTopic,
      timeout: DRAIN_TIMEOUT,
      encryptionKey: key,
      reservedConcurrentExecutions: drainConcurrency,
      environment: {
        ...common,
        DRAIN_QUEUE_URL: this.drainQueue.queueUrl,
        AUTO_SCALING_GROUP_NAMES: names.join(','),
        LIFECYCLE_HOOK_NAME,
        DRAIN_DEADLINE_SECONDS: String((props.drainDeadline ?? Duration.minutes(30)).toSeconds()),
        // look again well inside the heartbeat timeout
        RETRY_DELAY_SECONDS: String(timings.retryDelaySeconds),
      },
    });
    this.drainFunction.fn.addEventSource(
      new SqsEventSource(this.drainQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        // never more pollers than reserved executions: a throttled invocation would count a receive
        maxConcurrency: drainConcurrency,
      }),
    );
    this.drainFunction.allow({ actions: ['sqs:SendMessage'], resources: [this.drainQueue.queueArn] });
    this.drainFunction.allow({
      actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      resources: names.map(
        (n) =>
          `arn:${stack.partition}:autoscaling:${stack.region}:${stack.account}:autoScalingGroup:*:autoScalingGroupName/${n}`,
      ),
    });
    // read-only, no resource-level permissions: the drain re-verifies every message against what
    // Auto Scaling reports (instance state, the hook's timeouts, the termination's start)
    this.drainFunction.allow({
      actions: [
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:DescribeScalingActivities',
      ],
      resources: ['*'],
    });
    readRunners(this.drainFunction);
    const lit = (v: string, token: string) => (Token.isUnresolved(v) ? token : v);
    for (const n of names) {
      const arn = `arn:${lit(stack.partition, '<AWS::Partition>')}:autoscaling:${lit(stack.region, '<AWS::Region>')}:${lit(stack.account, '<AWS::AccountId>')}:autoScalingGroup:*:autoScalingGroupName/${n}`;
      Validations.of(this.drainFunction.role).acknowledge({
        id: `AwsSolutions-IAM5[Resource::${arn}]`,
        reason: `An ASG ARN embeds a group id (UUID) that only exists once the group does; the name part pins the statement to "${n}" (Service Authorization Reference: autoScalingGroup resource type).`,
      });
    }
    alarm(
      'DrainDeadlineAlarm',
      this.drainFunction.customMetric('DrainDeadlineReached'),
      'fleetwarden runner-drain: a runner was still busy at the drain deadline; its instance was released and the job will fail',
      'drain-deadline-reached',
    );

    alarm(
      'CordonFailedAlarm',
      this.drainFunction.customMetric('CordonFailed'),
      "fleetwarden runner-drain: could not take a busy runner's custom labels away (GitHub App needs Self-hosted runners: write); it may pick up new jobs until its instance is released; read the runner.cordon audit record",
      'cordon-failed',
    );

    // ---- sweep: scheduled, every page, through the breaker and the rolling removal budget
    this.sweepStateTable = new dynamodb.Table(this, 'SweepState', {
      partitionKey: { name: SWEEP_STATE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SWEEP_STATE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: SWEEP_STATE_TABLE.ttlAttribute,
      // rebuildable state (a new table starts with an unspent budget and no sightings)
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // runner-drain keeps its own state per lifecycle action here (first look, runners seen, an
    // absence seen once), never in its queue messages: UpdateItem on its own partition only
    this.drainFunction.fn.addEnvironment(DRAIN_STATE_TABLE_ENV, this.sweepStateTable.tableName);
    iam.Grant.addToPrincipal({
      grantee: this.drainFunction,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.sweepStateTable.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [DRAIN_STATE_PARTITION] } },
    });
    iam.Grant.addToPrincipal({
      grantee: this.drainFunction,
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      resourceArns: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
    });
    const schedule = props.sweepSchedule ?? Duration.minutes(5);
    this.sweepFunction = new FleetFunction(this, 'RunnerSweep', {
      entry: fileURLToPath(new URL('../../functions/runner-sweep/index.ts', import.meta.url)),
      description: 'Sweeps ghost runners and never-registered instances through a circuit breaker',
      alarmTopic: props.alarmTopic,
      timeout: Duration.minutes(5),
      encryptionKey: key,
      // one sweep at a time: overlapping runs would judge from each other's half-applied plans
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      environment: {
        ...common,
        [SWEEP_STATE_TABLE_ENV]: this.sweepStateTable.tableName,
        FLEET_ID: props.fleetId ?? stack.account,
        GRACE_PERIOD_SECONDS: String((props.gracePeriod ?? Duration.minutes(5)).toSeconds()),
        BOOT_TIMEOUT_SECONDS: String((props.bootTimeout ?? Duration.minutes(15)).toSeconds()),
        ALLOW_TERMINATE: String(props.allowTerminate ?? false),
        MAX_REMOVAL_SHARE: String(props.maxRemovalShare ?? 0.2),
        MAX_REMOVALS_PER_RUN: String(props.maxRemovalsPerRun ?? 100),
        BUDGET_WINDOW_SECONDS: String((props.removalBudgetWindow ?? Duration.hours(1)).toSeconds()),
        AUTO_SCALING_GROUP_NAMES: names.join(','),
      },
    });
    new events.Rule(this, 'SweepSchedule', {
      description: 'fleetwarden runner-sweep schedule',
      schedule: events.Schedule.rate(schedule),
      targets: [functionTarget(this.sweepFunction, scheduleDelivery(schedule))],
    });
    readRunners(this.sweepFunction);
    // the state table: exactly the calls DynamoDbSweepState makes, for the sweep alone
    this.sweepStateTable.grant(
      this.sweepFunction,
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    );
    iam.Grant.addToPrincipal({
      grantee: this.sweepFunction,
      actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
      resourceArns: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${stack.region}.amazonaws.com` } },
    });
    if (props.allowTerminate) {
      // aws:autoscaling:groupName is set by Auto Scaling and no user can write an aws: tag: only
      // instances of the configured ASGs; the fleet tag must also be there (both must hold), and an
      // instance tagged fleetwarden:exempt=true is never terminated (a missing tag passes)
      this.sweepFunction.allow({
        actions: ['ec2:TerminateInstances'],
        resources: ['*'],
        conditions: {
          StringEquals: {
            'aws:ResourceTag/aws:autoscaling:groupName': names,
            [`aws:ResourceTag/${fleetTag.key}`]: fleetTag.value,
          },
          StringNotEqualsIgnoreCase: { [`aws:ResourceTag/${EXEMPT_TAG}`]: 'true' },
        },
      });
    }
    alarm(
      'SweepCircuitOpenAlarm',
      this.sweepFunction.customMetric('SweepCircuitOpen'),
      'fleetwarden runner-sweep: the circuit breaker refused a run (listing failed, came back empty, too many removals, or the rolling removal budget is spent); read the runner.sweep audit record',
      'sweep-circuit-open',
    );
    alarm(
      'SweepBudgetExhaustedAlarm',
      this.sweepFunction.customMetric('SweepBudgetExhausted'),
      'fleetwarden runner-sweep: the rolling removal budget is spent and a run wanting to remove more was refused (a misreporting inventory, or a real wave of ghosts); read the runner.sweep audit records of the last hour',
      'sweep-budget-exhausted',
    );

    // ---- job watch: workflow_job in_progress on the fleet bus
    this.jobWatchFunction = new FleetFunction(this, 'RunnerJobWatch', {
      entry: fileURLToPath(new URL('../../functions/runner-job-watch/index.ts', import.meta.url)),
      description: 'Reports jobs that start on runners whose instance is leaving',
      alarmTopic: props.alarmTopic,
      timeout: Duration.seconds(30),
      encryptionKey: key,
      environment: common,
    });
    new events.Rule(this, 'JobStartedRule', {
      description: 'fleetwarden runner-job-watch: workflow jobs that started',
      eventBus: props.bus,
      eventPattern: {
        source: [GITHUB_EVENT_SOURCE],
        detailType: [WORKFLOW_JOB_DETAIL_TYPE],
        detail: { action: ['in_progress'] },
      },
      targets: [functionTarget(this.jobWatchFunction, EVENT_DELIVERY)],
    });
    readRunners(this.jobWatchFunction);
    alarm(
      'JobOnLeavingInstanceAlarm',
      this.jobWatchFunction.customMetric('JobOnLeavingInstance'),
      'fleetwarden: a job started on a runner whose instance is leaving; read the runner.job-on-leaving-instance audit record',
      'job-on-a-leaving-instance',
    );

    // read-only calls that support no resource-level permissions: EC2 state, and the ASG lifecycle
    // state of fleet instances (the sweep lists its groups' Terminating* instances in one call)
    for (const ff of [this.sweepFunction, this.jobWatchFunction]) {
      ff.allow({
        actions: [
          'ec2:DescribeInstances',
          'autoscaling:DescribeAutoScalingInstances',
          'autoscaling:DescribeAutoScalingGroups',
        ],
        resources: ['*'],
      });
    }
    // the sweep reads its groups' warm pools (a stopped instance parked there comes back): read-only,
    // and DescribeWarmPool supports no resource-level permissions (like every Auto Scaling Describe*)
    this.sweepFunction.allow({ actions: ['autoscaling:DescribeWarmPool'], resources: ['*'] });
  }
}
