import { fileURLToPath } from 'node:url';
import { Duration, Lazy, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
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
import { runnerDrain } from '../../functions/runner-drain/definition';
import { runnerJobWatch } from '../../functions/runner-job-watch/definition';
import { runnerSweep } from '../../functions/runner-sweep/definition';
import { LIFECYCLE_HOOK_NAME } from '../../shared/autoscaling/lifecycle-hook-name';
import { SWEEP_STATE_TABLE } from '../../shared/budget/dynamodb-sweep-state';
import type { TriggerSpec } from '../../shared/kernel/definition';
import { type SettingsOf, settingsEnv } from '../../shared/kernel/settings';
import { DRAIN_STATE_PARTITION } from '../../shared/runners/drain-state-dynamodb';
import { POOL_SETTINGS } from '../../shared/runners/pool';
import type { AuditAccess } from './audit-access';
import { deadLetterQueue } from './dead-letter-queue';
import { FleetFunction } from './fleet-function';
import { fleetKey } from './fleet-key';
import { defaultOf, durationProblems, eventPattern, scheduleOf, settingProblems } from './from-definition';
import { refuseInvalidProps } from './props-validation';
import { remediationPermissions } from './remediation-function';
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
  /**
   * Organisation (or repository owner) whose runners are managed; give it or `githubEnterprise`.
   * @default - none: enterprise runners (`githubEnterprise`)
   */
  readonly githubOwner?: string;
  /**
   * Enterprise whose enterprise-level runners are managed (instead of `githubOwner`'s).
   * @default - organisation or repository runners of `githubOwner`
   */
  readonly githubEnterprise?: string;
  /**
   * GitHub Enterprise Server REST base, e.g. `https://ghe.example.com/api/v3`.
   * @default - https://api.github.com
   */
  readonly githubApiUrl?: string;
  /**
   * The runner pool these functions serve (README "Several runner pools"): their audit records
   * name it, and job-watch takes only the workflow_job events the ingress published for it
   * (`detail.pool`; the pool `default` also those without a pool).
   * @default - the shorthand's single pool: every workflow_job event on the bus, records as before pools
   */
  readonly poolName?: string;
  /**
   * Labels every runner of the pool carries besides the fleet label: drain, sweep and job-watch
   * never touch a runner without all of them.
   * @default - none: no restriction beyond the fleet's own rules
   */
  readonly runnerLabels?: readonly string[];
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

export { LIFECYCLE_HOOK_NAME };

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

const FLEET_ID = /^[A-Za-z0-9._-]{1,64}$/;
const DRAIN = runnerDrain.settings;
const SWEEP = runnerSweep.settings;
const POOL = POOL_SETTINGS;

/** The pool's settings every runner function carries (none for the shorthand's: its env as before pools). */
function poolValues(p: RunnerRemediationProps): SettingsOf<typeof POOL> {
  return {
    poolName: p.poolName,
    runnerLabels: p.runnerLabels?.length ? p.runnerLabels : undefined,
    githubApiUrl: p.githubApiUrl,
    githubEnterprise: p.githubEnterprise,
  };
}

function validate(scope: Construct, id: string, p: RunnerRemediationProps): void {
  const problems: string[] = [];
  if (p.autoScalingGroupNames.length === 0)
    problems.push('autoScalingGroupNames must name at least one Auto Scaling group, got []');
  for (const n of p.autoScalingGroupNames)
    if (!ASG_NAME.test(n)) problems.push(`autoScalingGroupNames has an invalid name "${n}"`);
  if (p.githubOwner !== undefined && !GITHUB_LOGIN.test(p.githubOwner))
    problems.push(`githubOwner must be a GitHub login, got "${p.githubOwner}"`);
  if ((p.githubOwner === undefined) === (p.githubEnterprise === undefined))
    problems.push(
      `give exactly one of githubOwner and githubEnterprise, got ${JSON.stringify({ githubOwner: p.githubOwner, githubEnterprise: p.githubEnterprise })}`,
    );
  problems.push(...settingProblems('poolName', POOL.poolName, p.poolName));
  problems.push(...settingProblems('runnerLabels', POOL.runnerLabels, p.runnerLabels));
  problems.push(...settingProblems('githubApiUrl', POOL.githubApiUrl, p.githubApiUrl));
  problems.push(...settingProblems('maxRemovalShare', SWEEP.maxRemovalShare, p.maxRemovalShare));
  problems.push(...settingProblems('maxRemovalsPerRun', SWEEP.maxRemovalsPerRun, p.maxRemovalsPerRun));
  // stricter than FLEET_ID's own check: it is part of a runner label (the simulator renders it from a token)
  if (p.fleetId !== undefined && !Token.isUnresolved(p.fleetId) && !FLEET_ID.test(p.fleetId))
    problems.push(
      `fleetId must be 1 to 64 letters, digits, ".", "_" or "-" (it is part of a runner label), got "${p.fleetId}"`,
    );
  problems.push(...durationProblems('drainDeadline', DRAIN.deadlineSeconds, p.drainDeadline));
  problems.push(...durationProblems('removalBudgetWindow', SWEEP.budgetWindow, p.removalBudgetWindow));
  problems.push(...durationProblems('gracePeriod', SWEEP.gracePeriod, p.gracePeriod));
  problems.push(...durationProblems('bootTimeout', SWEEP.bootTimeout, p.bootTimeout));
  const hb = p.heartbeatTimeout?.toSeconds();
  if (hb !== undefined && (hb < MIN_HEARTBEAT_SECONDS || hb > 7200))
    problems.push(
      `heartbeatTimeout must be ${MIN_HEARTBEAT_SECONDS} to 7200 seconds (a failed drain attempt must be redelivered and finished before the hook expires: heartbeat/3 retry delay + queue visibility + ${DRAIN_TIMEOUT.toSeconds()} s function timeout), got ${hb}`,
    );
  const dc = p.drainConcurrency;
  if (dc !== undefined && !(Number.isInteger(dc) && dc >= 2 && dc <= 1000))
    problems.push(`drainConcurrency must be an integer from 2 to 1000, got ${dc}`);
  const every = p.sweepSchedule?.toSeconds();
  if (every !== undefined && (every < 60 || every > 86_400))
    problems.push(`sweepSchedule must be 1 minute to 24 hours, got ${every} s`);
  refuseInvalidProps('RunnerRemediation', scope, id, problems);
}

/** What the feature's parts share while the construct builds them. */
interface Context {
  readonly props: RunnerRemediationProps;
  readonly stack: Stack;
  readonly key: kms.IKey;
  readonly fleetTag: { key: string; value: string };
  readonly names: string[];
  readonly heartbeat: Duration;
  readonly timings: ReturnType<typeof drainTimings>;
  readonly drainConcurrency: number;
  readonly github: Record<string, string>;
}

/** runner-sweep's setting values, from the props or the settings' defaults. */
function sweepValuesOf(c: Context, stateTableName: string): SettingsOf<typeof SWEEP> {
  const { props } = c;
  return {
    auditTable: props.audit.tableName,
    sweepStateTable: stateTableName,
    fleetTagKey: c.fleetTag.key,
    fleetTagValue: c.fleetTag.value,
    fleetId: props.fleetId ?? c.stack.account,
    gracePeriod: props.gracePeriod?.toSeconds() ?? defaultOf(SWEEP.gracePeriod),
    bootTimeout: props.bootTimeout?.toSeconds() ?? defaultOf(SWEEP.bootTimeout),
    allowTerminate: props.allowTerminate ?? defaultOf(SWEEP.allowTerminate),
    maxRemovalShare: props.maxRemovalShare ?? defaultOf(SWEEP.maxRemovalShare),
    maxRemovalsPerRun: props.maxRemovalsPerRun ?? defaultOf(SWEEP.maxRemovalsPerRun),
    budgetWindow: props.removalBudgetWindow?.toSeconds() ?? defaultOf(SWEEP.budgetWindow),
    // set by Lambda itself, never written
    region: undefined,
    dryRun: props.dryRun ?? defaultOf(SWEEP.dryRun),
    autoScalingGroupNames: c.names,
    ...poolValues(props),
  };
}

/** The fleet key for DynamoDB's use on the grantee's behalf (the state table is encrypted with it). */
function grantKeyViaDynamoDb(c: Context, grantee: FleetFunction): void {
  iam.Grant.addToPrincipal({
    grantee,
    actions: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'],
    resourceArns: [c.key.keyArn],
    conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${c.stack.region}.amazonaws.com` } },
  });
}

/** cdk-nag: each group's ARN has a wildcard group id (it exists only once the group does). */
function acknowledgeGroupArns(c: Context, fn: FleetFunction): void {
  const lit = (v: string, token: string) => (Token.isUnresolved(v) ? token : v);
  const { stack } = c;
  for (const n of c.names) {
    const arn = `arn:${lit(stack.partition, '<AWS::Partition>')}:autoscaling:${lit(stack.region, '<AWS::Region>')}:${lit(stack.account, '<AWS::AccountId>')}:autoScalingGroup:*:autoScalingGroupName/${n}`;
    Validations.of(fn.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${arn}]`,
      reason: `An ASG ARN embeds a group id (UUID) that only exists once the group does; the name part pins the statement to "${n}" (Service Authorization Reference: autoScalingGroup resource type).`,
    });
  }
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
    const heartbeat = props.heartbeatTimeout ?? Duration.minutes(5);
    const c: Context = {
      props,
      stack: Stack.of(this),
      key: props.encryptionKey ?? fleetKey(this),
      fleetTag: props.fleetTag ?? DEFAULT_FLEET_TAG,
      names: [...props.autoScalingGroupNames],
      heartbeat,
      timings: drainTimings(heartbeat.toSeconds()),
      drainConcurrency: props.drainConcurrency ?? 5,
      // the GitHub App the registry adapter reads (shared/github/registry-from-env.ts): the construct's resource
      github: {
        GITHUB_APP_SECRET_ARN: props.githubAppSecret.secretArn,
        ...(props.githubOwner ? { GITHUB_OWNER: props.githubOwner } : {}),
        ...(props.githubRepository ? { GITHUB_REPOSITORY: props.githubRepository } : {}),
      },
    };
    // ---- drain: terminate lifecycle hook -> queue -> runner-drain (re-enqueues itself while busy)
    const { queue, dlq } = this.drainQueues(c);
    this.drainQueue = queue;
    this.drainDeadLetterQueue = dlq;
    // the sweep state table is created after the drain (its place in the template is kept): its name, lazily
    const stateTableName = Lazy.string({ produce: () => this.sweepStateTable.tableName });
    this.drainFunction = this.addDrain(c, stateTableName);
    // ---- sweep: scheduled, every page, through the breaker and the rolling removal budget
    this.sweepStateTable = this.addStateTable(c);
    this.sweepFunction = this.addSweep(c);
    // ---- job watch: workflow_job in_progress on the fleet bus
    this.jobWatchFunction = this.addJobWatch(c);
  }

  /** An alarm at >= 1 to the alarm topic, with its runbook section. */
  private alarm(
    c: Context,
    name: string,
    metric: cloudwatch.IMetric,
    description: string,
    runbook: RunbookAnchor,
  ) {
    const a = new cloudwatch.Alarm(this, name, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: alarmDescription(description, runbook),
    });
    a.addAlarmAction(new cwActions.SnsAction(c.props.alarmTopic));
  }

  /** The GitHub App secret and the audit table, which every function of the feature uses. */
  private readRunners(c: Context, ff: FleetFunction): void {
    c.props.githubAppSecret.grantRead(ff);
    c.props.audit.grantWrite(ff);
  }

  /** The drain queue and its dead-letter queue (alarmed). */
  private drainQueues(c: Context): { queue: sqs.Queue; dlq: sqs.Queue } {
    const dlq = deadLetterQueue(this, 'DrainDeadLetter', {
      key: c.key,
      of: 'the drain queue (and of its EventBridge target)',
    });
    const queue = new sqs.Queue(this, 'DrainQueue', {
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: c.key,
      enforceSSL: true,
      // well below the heartbeat timeout: a failed attempt must come back before the hook expires
      visibilityTimeout: Duration.seconds(c.timings.visibilitySeconds),
      deadLetterQueue: { queue: dlq, maxReceiveCount: 5 },
    });
    this.alarm(
      c,
      'DrainDeadLetterAlarm',
      dlq.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      'fleetwarden runner-drain: lifecycle events that could not be drained are in the dead-letter queue (their instances were released by the hook timeout)',
      'drain-queue-dead-letters',
    );
    return { queue, dlq };
  }

  /** runner-drain: its rules, the lifecycle hooks, the function, its grants and alarms. */
  private addDrain(c: Context, stateTableName: string): FleetFunction {
    const { props } = c;
    const values: SettingsOf<typeof DRAIN> = {
      auditTable: props.audit.tableName,
      stateTable: stateTableName,
      queueUrl: this.drainQueue.queueUrl,
      autoScalingGroupNames: c.names,
      lifecycleHookName: LIFECYCLE_HOOK_NAME,
      deadlineSeconds: props.drainDeadline?.toSeconds() ?? defaultOf(DRAIN.deadlineSeconds),
      // look again well inside the heartbeat timeout
      retryDelaySeconds: c.timings.retryDelaySeconds,
      dryRun: props.dryRun ?? defaultOf(DRAIN.dryRun),
      ...poolValues(props),
    };
    // the rules runner-drain declares (the hook rule scoped to the groups and the fleet's own hook;
    // the spot warning names only the instance, so the drain re-verifies its group)
    const target = () =>
      new TrustedQueueTarget(this.drainQueue, {
        deadLetterQueue: this.drainDeadLetterQueue,
        ...EVENT_DELIVERY,
      });
    this.addRules(runnerDrain.triggers, values, () => [target()]);
    this.addDrainLook();
    if (props.createLifecycleHooks ?? true) this.addLifecycleHooks(c);
    const fn = new FleetFunction(this, 'RunnerDrain', {
      entry: fileURLToPath(new URL('../../functions/runner-drain/index.ts', import.meta.url)),
      description:
        'Drains terminating runner instances: deregisters idle runners, holds busy ones, completes the lifecycle action',
      alarmTopic: props.alarmTopic,
      timeout: DRAIN_TIMEOUT,
      encryptionKey: c.key,
      reservedConcurrentExecutions: c.drainConcurrency,
      environment: { ...settingsEnv(DRAIN, values), ...c.github },
    });
    fn.fn.addEventSource(
      new SqsEventSource(this.drainQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        // never more pollers than reserved executions: a throttled invocation would count a receive
        maxConcurrency: c.drainConcurrency,
      }),
    );
    fn.allow({ actions: ['sqs:SendMessage'], resources: [this.drainQueue.queueArn] });
    // its declared reads and lifecycle calls (heartbeat, complete), scoped to the groups
    for (const p of remediationPermissions(runnerDrain, values, this)) fn.allow(p);
    this.readRunners(c, fn);
    acknowledgeGroupArns(c, fn);
    this.alarm(
      c,
      'DrainDeadlineAlarm',
      fn.customMetric('DrainDeadlineReached'),
      'fleetwarden runner-drain: a runner was still busy at the drain deadline; its instance was released and the job will fail',
      'drain-deadline-reached',
    );
    this.alarm(
      c,
      'CordonFailedAlarm',
      fn.customMetric('CordonFailed'),
      "fleetwarden runner-drain: could not take a busy runner's custom labels away (GitHub App needs Self-hosted runners: write); it may pick up new jobs until its instance is released; read the runner.cordon audit record",
      'cordon-failed',
    );
    return fn;
  }

  /**
   * runner-drain's scheduled look (its definition's schedule, every minute: inside the hook's
   * heartbeat timeout) through the drain queue like its events: a tick is retried within its period
   * and dead-lettered, and only this rule may send it (TrustedQueueTarget).
   */
  private addDrainLook(): void {
    const every = Duration.minutes(scheduleOf(runnerDrain.triggers));
    new events.Rule(this, 'DrainLookSchedule', {
      description:
        'fleetwarden runner-drain: look for terminating runner instances whose lifecycle event was lost',
      schedule: events.Schedule.rate(every),
      targets: [
        new TrustedQueueTarget(this.drainQueue, {
          deadLetterQueue: this.drainDeadLetterQueue,
          ...scheduleDelivery(every),
        }),
      ],
    });
  }

  /** A terminate lifecycle hook named for the fleet on each runner group (CONTINUE when it runs out). */
  private addLifecycleHooks(c: Context): void {
    c.names.forEach((name, i) => {
      new autoscaling.CfnLifecycleHook(this, `TerminateHook${i}`, {
        autoScalingGroupName: name,
        lifecycleHookName: LIFECYCLE_HOOK_NAME,
        lifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeout: c.heartbeat.toSeconds(),
        // if fleetwarden is down, instances still terminate when the heartbeat runs out
        defaultResult: 'CONTINUE',
      });
    });
  }

  /** The sweep state table; runner-drain may UpdateItem its own partition (`drain`) only. */
  private addStateTable(c: Context): dynamodb.Table {
    const table = new dynamodb.Table(this, 'SweepState', {
      partitionKey: { name: SWEEP_STATE_TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: SWEEP_STATE_TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: c.key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: SWEEP_STATE_TABLE.ttlAttribute,
      // rebuildable state (a new table starts with an unspent budget and no sightings)
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // runner-drain keeps its own state per lifecycle action here (first look, last look, runners
    // seen, an absence seen once), never in its queue messages: UpdateItem on its own partition
    // only, and Query there (the drains of one instance: the scheduled look)
    iam.Grant.addToPrincipal({
      grantee: this.drainFunction,
      actions: ['dynamodb:UpdateItem', 'dynamodb:Query'],
      resourceArns: [table.tableArn],
      conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [DRAIN_STATE_PARTITION] } },
    });
    grantKeyViaDynamoDb(c, this.drainFunction);
    return table;
  }

  /** runner-sweep: the function on its schedule, the state table's calls, its declared IAM, alarms. */
  private addSweep(c: Context): FleetFunction {
    const { props } = c;
    const values = sweepValuesOf(c, this.sweepStateTable.tableName);
    const fn = new FleetFunction(this, 'RunnerSweep', {
      entry: fileURLToPath(new URL('../../functions/runner-sweep/index.ts', import.meta.url)),
      description: 'Sweeps ghost runners and never-registered instances through a circuit breaker',
      alarmTopic: props.alarmTopic,
      timeout: Duration.minutes(5),
      encryptionKey: c.key,
      // one sweep at a time: overlapping runs would judge from each other's half-applied plans
      reservedConcurrentExecutions: 1,
      retryAttempts: 0,
      environment: { ...settingsEnv(SWEEP, values), ...c.github },
    });
    const schedule = props.sweepSchedule ?? Duration.minutes(scheduleOf(runnerSweep.triggers));
    new events.Rule(this, 'SweepSchedule', {
      description: 'fleetwarden runner-sweep schedule',
      schedule: events.Schedule.rate(schedule),
      targets: [functionTarget(fn, scheduleDelivery(schedule))],
    });
    this.readRunners(c, fn);
    // the state table: exactly the calls DynamoDbSweepState makes, for the sweep alone
    this.sweepStateTable.grant(
      fn,
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    );
    grantKeyViaDynamoDb(c, fn);
    // its declared reads (EC2, Auto Scaling, warm pools: no resource-level permissions) and, only
    // when allowTerminate opts in, TerminateInstances conditioned on the groups' aws:autoscaling:groupName
    // tag (no user can write an aws: tag), the fleet tag, and no fleetwarden:exempt=true
    for (const p of remediationPermissions(runnerSweep, values, this)) fn.allow(p);
    this.alarm(
      c,
      'SweepCircuitOpenAlarm',
      fn.customMetric('SweepCircuitOpen'),
      'fleetwarden runner-sweep: the circuit breaker refused a run (listing failed, came back empty, too many removals, or the rolling removal budget is spent); read the runner.sweep audit record',
      'sweep-circuit-open',
    );
    this.alarm(
      c,
      'SweepBudgetExhaustedAlarm',
      fn.customMetric('SweepBudgetExhausted'),
      'fleetwarden runner-sweep: the rolling removal budget is spent and a run wanting to remove more was refused (a misreporting inventory, or a real wave of ghosts); read the runner.sweep audit records of the last hour',
      'sweep-budget-exhausted',
    );
    return fn;
  }

  /** runner-job-watch: the function on the fleet bus's workflow_job rule, its declared reads, its alarm. */
  private addJobWatch(c: Context): FleetFunction {
    const { props } = c;
    const values: SettingsOf<typeof runnerJobWatch.settings> = {
      auditTable: props.audit.tableName,
      fleetTagKey: c.fleetTag.key,
      fleetTagValue: c.fleetTag.value,
      ...poolValues(props),
    };
    const fn = new FleetFunction(this, 'RunnerJobWatch', {
      entry: fileURLToPath(new URL('../../functions/runner-job-watch/index.ts', import.meta.url)),
      description: 'Reports jobs that start on runners whose instance is leaving',
      alarmTopic: props.alarmTopic,
      timeout: Duration.seconds(30),
      encryptionKey: c.key,
      environment: { ...settingsEnv(runnerJobWatch.settings, values), ...c.github },
    });
    this.addRules(runnerJobWatch.triggers, values, () => [functionTarget(fn, EVENT_DELIVERY)], {
      bus: props.bus,
    });
    for (const p of remediationPermissions(runnerJobWatch, values, this)) fn.allow(p);
    this.readRunners(c, fn);
    this.alarm(
      c,
      'JobOnLeavingInstanceAlarm',
      fn.customMetric('JobOnLeavingInstance'),
      'fleetwarden: a job started on a runner whose instance is leaving; read the runner.job-on-leaving-instance audit record',
      'job-on-a-leaving-instance',
    );
    return fn;
  }

  /** The event rules a definition declares (construct ids from the definition), to `targets`. */
  private addRules<S>(
    triggers: readonly TriggerSpec<S>[],
    values: S,
    targets: () => events.IRuleTarget[],
    o: { bus?: events.IEventBus } = {},
  ): void {
    for (const t of triggers) {
      if (t.kind !== 'events') continue;
      new events.Rule(this, t.id, {
        description: RULE_DESCRIPTIONS[t.id] ?? `fleetwarden: ${t.id}`,
        ...(t.bus === 'github' ? { eventBus: o.bus } : {}),
        eventPattern: eventPattern(t.pattern, values),
        targets: targets(),
      });
    }
  }
}

const DEFAULT_FLEET_TAG = { key: 'fleetwarden:fleet', value: 'runners' };

/** What each rule is for (the rule's description in the console). */
const RULE_DESCRIPTIONS: Readonly<Record<string, string>> = {
  TerminateHookRule: "fleetwarden runner-drain: the fleet's own terminate lifecycle hook on the runner ASGs",
  SpotInterruptionRule:
    'fleetwarden runner-drain: spot interruption warnings (cordon the runner of a fleet instance early)',
  JobStartedRule: 'fleetwarden runner-job-watch: workflow jobs that started',
};
