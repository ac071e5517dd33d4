import { existsSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { SDK_CALL_TRACING_ENV } from '../../shared/observability/sdk-call-tracing-env';
import { unscopedMutations } from '../guardrails/iam-actions';
import { deadLetterQueue } from './dead-letter-queue';
import { fleetKey } from './fleet-key';
import { refuseInvalidProps } from './props-validation';
import { alarmDescription, type RunbookAnchor } from './runbook';

const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
export type FleetLogLevel = (typeof LOG_LEVELS)[number];

const RESERVED_ENV = new Set([
  '_HANDLER',
  'AWS_REGION',
  'AWS_EXECUTION_ENV',
  'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
  'AWS_LAMBDA_FUNCTION_VERSION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'LAMBDA_TASK_ROOT',
  'LAMBDA_RUNTIME_DIR',
]);

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The lock file CDK asks for (it only matters to `nodeModules` installs, which no function uses): the
 * checkout's, or package.json where npm left it out (the installed package: npm never packs it).
 */
const LOCK_FILE = [`${REPO_ROOT}package-lock.json`, `${REPO_ROOT}package.json`].find((f) => existsSync(f));
const FLEET_FUNCTION = Symbol.for('fleetwarden.FleetFunction');

/** Context key holding the default log retention (days) of every FleetFunction below a scope. */
export const LOG_RETENTION_CONTEXT = 'fleetwarden:logRetentionDays';
/** Context key turning SDK-call tracing on for every FleetFunction below a scope (`sdkCallTracing`). */
export const SDK_CALL_TRACING_CONTEXT = 'fleetwarden:sdkCallTracing';

function defaultSdkCallTracing(scope: Construct): boolean {
  const on: unknown = scope.node.tryGetContext(SDK_CALL_TRACING_CONTEXT);
  if (on === undefined) return false;
  // `-c key=true` on the command line gives a string
  if (on === true || on === 'true') return true;
  if (on === false || on === 'false') return false;
  throw new Error(`context ${SDK_CALL_TRACING_CONTEXT} must be true or false, got ${JSON.stringify(on)}`);
}

function defaultRetention(scope: Construct): logs.RetentionDays {
  const days: unknown = scope.node.tryGetContext(LOG_RETENTION_CONTEXT);
  if (days === undefined) return logs.RetentionDays.THREE_MONTHS;
  if (typeof days !== 'number' || !(Object.values(logs.RetentionDays) as unknown[]).includes(days)) {
    throw new Error(
      `context ${LOG_RETENTION_CONTEXT} must be a CloudWatch Logs retention in days, got ${JSON.stringify(days)}`,
    );
  }
  return days as logs.RetentionDays;
}

export interface FleetFunctionProps {
  /** Absolute path of the handler's TypeScript entry file; it must export `handler`. */
  readonly entry: string;
  /** What the function does, in one sentence. Shown in the console and in alarm descriptions. */
  readonly description: string;
  /** Topic that every alarm of this function notifies. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Function timeout, 1 to 900 seconds.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB, an integer from 128 to 10240.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Extra environment variables. Lambda's reserved names are refused.
   * @default - only the Powertools variables the construct sets
   */
  readonly environment?: Record<string, string>;
  /**
   * Reserved concurrency, a positive integer; use it to bound calls to rate-limited APIs.
   * @default - no reservation (the account's unreserved pool)
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * How long the function's log group keeps events. Must be finite.
   * @default - the `fleetwarden:logRetentionDays` context value (FleetStack sets it from the
   *   config's logRetentionDays), else logs.RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group when the stack is deleted.
   * @default RemovalPolicy.RETAIN (logs are evidence)
   */
  readonly logRemovalPolicy?: RemovalPolicy;
  /**
   * KMS key for the log group and the dead-letter queue.
   * @default - the stack's shared FleetKey (created on first use, rotation on)
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Retries of a failed asynchronous invocation before it goes to the dead-letter queue (0-2).
   * @default 2
   */
  readonly retryAttempts?: number;
  /**
   * Maximum age of an asynchronous event before it is sent to the dead-letter queue (60 s to 6 h).
   * @default Duration.hours(6)
   */
  readonly maxEventAge?: Duration;
  /**
   * Share of the timeout at which the "duration near timeout" alarm fires, in (0, 1].
   * @default 0.8
   */
  readonly durationAlarmThreshold?: number;
  /**
   * Application log level (Lambda advanced logging controls; Powertools Logger follows it).
   * @default 'INFO'
   */
  readonly logLevel?: FleetLogLevel;
  /**
   * An extra destination for failed asynchronous invocations (the dead-letter queue always gets them).
   * @default - none
   */
  readonly onFailure?: lambda.IDestination;
  /**
   * SDK-call tracing: an X-Ray subsegment for every AWS SDK call (the Powertools tracer's
   * `captureAWSv3Client`). The function is traced either way (Lambda ACTIVE tracing: init, duration
   * and errors of each sampled invocation), and every SDK call is in the audit record with its
   * request id (correlated with CloudTrail). On, it costs ~125 KB of bundle (aws-xray-sdk-core,
   * cls-hooked, semver, the tracer) and 39-114 ms more module init CPU (webhook-ingress and
   * dns-sync, 2026-11-30, README "Cold start"); off, esbuild leaves all of it out of the bundle.
   * @default - the `fleetwarden:sdkCallTracing` context value, else false
   */
  readonly sdkCallTracing?: boolean;
}

function validate(scope: Construct, id: string, props: FleetFunctionProps): void {
  const problems: string[] = [];
  const { entry } = props;
  if (!isAbsolute(entry)) problems.push(`entry must be an absolute path, got "${entry}"`);
  else if (!entry.endsWith('.ts')) problems.push(`entry must be a .ts file, got "${entry}"`);
  else if (!existsSync(entry)) problems.push(`entry "${entry}" does not exist`);
  if (props.description.trim() === '') problems.push('description must not be empty');
  if (props.timeout !== undefined) {
    const seconds = props.timeout.toMilliseconds() / 1000;
    if (seconds < 1 || seconds > 900)
      problems.push(`timeout must be between 1 and 900 seconds, got ${seconds}`);
  }
  const memory = props.memorySize;
  if (memory !== undefined && (!Number.isInteger(memory) || memory < 128 || memory > 10240)) {
    problems.push(`memorySize must be an integer between 128 and 10240 MB, got ${memory}`);
  }
  const reserved = props.reservedConcurrentExecutions;
  if (reserved !== undefined && (!Number.isInteger(reserved) || reserved < 1)) {
    problems.push(`reservedConcurrentExecutions must be a positive integer, got ${reserved}`);
  }
  if (props.logRetention === logs.RetentionDays.INFINITE)
    problems.push('logRetention must be finite, got INFINITE');
  const retries = props.retryAttempts;
  if (retries !== undefined && ![0, 1, 2].includes(retries)) {
    problems.push(`retryAttempts must be 0, 1 or 2, got ${retries}`);
  }
  if (props.maxEventAge !== undefined) {
    const seconds = props.maxEventAge.toSeconds();
    if (seconds < 60 || seconds > 21600)
      problems.push(`maxEventAge must be between 60 seconds and 6 hours, got ${seconds} s`);
  }
  const share = props.durationAlarmThreshold;
  if (share !== undefined && !(share > 0 && share <= 1)) {
    problems.push(`durationAlarmThreshold must be in (0, 1], got ${share}`);
  }
  if (props.logLevel !== undefined && !LOG_LEVELS.includes(props.logLevel)) {
    problems.push(`logLevel must be one of ${LOG_LEVELS.join(', ')}, got "${props.logLevel}"`);
  }
  for (const key of Object.keys(props.environment ?? {})) {
    if (RESERVED_ENV.has(key)) problems.push(`environment must not set reserved variable ${key}`);
  }
  refuseInvalidProps('FleetFunction', scope, id, problems);
}

function kebab(id: string): string {
  return id
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .toLowerCase();
}

/** An IAM statement a FleetFunction may be given. */
export interface FleetPermission {
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
}

/**
 * esbuild settings of every function: one ESM bundle with source maps, no Docker, no externals.
 * The maps ship beside the bundle (`index.mjs.map` in the asset) but are NOT loaded at run time:
 * `NODE_OPTIONS=--enable-source-maps` cost 12-22% of module init (bench/bundles.bench.ts prints both).
 * Decode a minified stack trace with the map of that deployment's asset (README, "Cold start").
 * `define` fixes SDK-call tracing at bundling (shared/observability/sdk-call-tracing.ts): off, the
 * tracer's import is dead code and the X-Ray SDK is not in the bundle.
 */
export function functionBundling(options: { sdkCallTracing: boolean }): nodejs.BundlingOptions {
  return {
    ...BUNDLING,
    define: { [`process.env.${SDK_CALL_TRACING_ENV}`]: JSON.stringify(String(options.sdkCallTracing)) },
  };
}

/**
 * Modules every function bundle gets in place of a library's (esbuild `alias`; the bench bundles
 * with the same map). A path is resolved from the project root, where aws-lambda-nodejs runs esbuild
 * (its `projectRoot`). esbuild maps `<name>/<sub>` to `<path>/<sub>` unless `<name>/<sub>` has an
 * entry of its own, so each subpath a library imports is listed; one it adds later fails the build.
 * - `@aws-lambda-powertools/jmespath`: Powertools idempotency imports it statically, but only
 *   evaluates it for the JMESPath options fleetwarden never sets (the key is the data:
 *   `dataIndexArgument`, shared/webhook/dedupe.ts; AGENTS.md): 23 KB of webhook-ingress's bundle.
 *   shared/core/no-jmespath.ts throws a ConfigError saying so if it is ever called.
 */
export const FUNCTION_ALIAS: Readonly<Record<string, string>> = {
  '@aws-lambda-powertools/jmespath': './shared/core/no-jmespath.ts',
  '@aws-lambda-powertools/jmespath/functions': './shared/core/no-jmespath.ts',
};

const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node22',
  platform: 'node',
  minify: true,
  sourceMap: true,
  sourceMapMode: nodejs.SourceMapMode.DEFAULT,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externalModules: [],
  forceDockerBundling: false,
  banner:
    "import { createRequire as __fwCreateRequire } from 'node:module';const require = __fwCreateRequire(import.meta.url);",
  // aws-lambda-nodejs has no `alias`: `--alias:<name>=<path>` once per entry
  esbuildArgs: { '--alias': Object.entries(FUNCTION_ALIAS).map(([name, path]) => `${name}=${path}`) },
};

/** The bundling of a function with the defaults (SDK-call tracing off); the benches bundle with it. */
export const FUNCTION_BUNDLING: nodejs.BundlingOptions = functionBundling({ sdkCallTracing: false });

/**
 * The one way fleetwarden builds a Lambda function: local esbuild bundling to ESM with source maps
 * (shipped, not loaded at run time),
 * nodejs22.x on arm64, an explicit encrypted log group with retention, JSON logs, active tracing
 * (X-Ray subsegments per SDK call only with `sdkCallTracing`), an encrypted dead-letter queue for asynchronous failures, alarms to the fleet's topic, and a role
 * with no managed policies that gains permissions only through `allow()` or resource grants.
 */
export class FleetFunction extends Construct implements iam.IGrantable {
  /** True when `x` is a FleetFunction (works across module copies). */
  static isFleetFunction(x: unknown): x is FleetFunction {
    return typeof x === 'object' && x !== null && FLEET_FUNCTION in x;
  }

  /** The FleetFunction a construct belongs to, if any (used by the guardrails). */
  static owning(construct: IConstruct): FleetFunction | undefined {
    for (let node: IConstruct | undefined = construct; node; node = node.node.scope) {
      if (FleetFunction.isFleetFunction(node)) return node;
    }
    return undefined;
  }

  /** CloudFormation metadata key on the function resource: the handler entry, relative to the repo root. */
  static readonly ENTRY_METADATA_KEY = 'fleetwarden:entry';

  readonly fn: nodejs.NodejsFunction;
  /** POWERTOOLS_SERVICE_NAME: the `service` dimension of the function's custom metrics. */
  readonly serviceName: string;
  /** The handler entry, relative to the repository root (`functions/<name>/handler.ts`). */
  readonly entry: string;
  /** What the function does, in one sentence (the props' description). */
  readonly description: string;
  readonly timeout: Duration;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
  readonly deadLetterQueue: sqs.Queue;
  readonly alarms: cloudwatch.Alarm[];
  readonly grantPrincipal: iam.IPrincipal;

  constructor(scope: Construct, id: string, props: FleetFunctionProps) {
    validate(scope, id, props);
    super(scope, id);
    Object.defineProperty(this, FLEET_FUNCTION, { value: true });

    const key = props.encryptionKey ?? fleetKey(this);
    this.serviceName = kebab(id);
    this.entry = relative(REPO_ROOT, props.entry).split(sep).join('/');
    this.description = props.description;
    this.timeout = props.timeout ?? Duration.seconds(30);

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `fleetwarden ${this.serviceName}: ${props.description}`.slice(0, 1000),
    });
    this.grantPrincipal = this.role;

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? defaultRetention(this),
      encryptionKey: key,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    this.deadLetterQueue = deadLetterQueue(this, 'DeadLetter', { key, of: 'a Lambda function' });
    this.fn = this.bundledFunction(props);
    this.grantRuntimeNeeds(key);
    this.alarms = this.standardAlarms(props);
  }

  /** The Lambda function itself: an esbuild ESM bundle on nodejs22.x arm64, JSON logs, active tracing. */
  private bundledFunction(props: FleetFunctionProps): nodejs.NodejsFunction {
    const fn = new nodejs.NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      timeout: this.timeout,
      memorySize: props.memorySize ?? 256,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel[props.logLevel ?? 'INFO'],
      systemLogLevelV2: lambda.SystemLogLevel.INFO,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: props.retryAttempts ?? 2,
      maxEventAge: props.maxEventAge ?? Duration.hours(6),
      onFailure: props.onFailure,
      projectRoot: REPO_ROOT,
      depsLockFilePath: LOCK_FILE,
      environment: {
        POWERTOOLS_SERVICE_NAME: this.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: 'Fleetwarden',
        ...props.environment,
      },
      bundling: functionBundling({ sdkCallTracing: props.sdkCallTracing ?? defaultSdkCallTracing(this) }),
    });
    // The simulator and the integ tests map a deployed function back to its handler module by this.
    (fn.node.defaultChild as lambda.CfnFunction).addMetadata(FleetFunction.ENTRY_METADATA_KEY, this.entry);
    return fn;
  }

  /**
   * With an explicit log group and no managed policy, the role must be given its own log group
   * (and nothing else), and the key operations the encrypted DLQ needs for Lambda to deliver to it.
   */
  private grantRuntimeNeeds(key: kms.IKey): void {
    this.logGroup.grantWrite(this.role);
    key.grant(this.role, 'kms:GenerateDataKey', 'kms:Decrypt'); // SQS SSE-KMS producer minimum

    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        "nodejs22.x is the fleet's pinned Lambda runtime; moving to a newer one is a deliberate change to FleetFunction made with its tests, not a side effect of a cdk-nag update.",
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only X-Ray PutTraceSegments/PutTelemetryRecords (added for active tracing) and explicit allow() statements with conditions use "*"; X-Ray supports no resource-level permissions. The Fleetwarden IAM rule checks the rest.',
    });
  }

  /** Errors, throttles, dead letters and duration near the timeout, each to the alarm topic. */
  private standardAlarms(props: FleetFunctionProps): cloudwatch.Alarm[] {
    const topicAction = new cwActions.SnsAction(props.alarmTopic);
    const alarm = (
      name: string,
      metric: cloudwatch.IMetric,
      threshold: number,
      what: string,
      runbook: RunbookAnchor,
    ) => this.alarm(topicAction, { name, metric, threshold, what, runbook });
    const period = Duration.minutes(5);
    const nearTimeout = props.durationAlarmThreshold ?? 0.8;
    return [
      alarm(
        'ErrorsAlarm',
        this.fn.metricErrors({ period, statistic: 'Sum' }),
        1,
        'invocations failed',
        'function-errors',
      ),
      alarm(
        'ThrottlesAlarm',
        this.fn.metricThrottles({ period, statistic: 'Sum' }),
        1,
        'invocations throttled',
        'function-throttles',
      ),
      alarm(
        'DeadLetterAlarm',
        this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        1,
        'failed events are waiting in the dead-letter queue',
        'function-dead-letters',
      ),
      alarm(
        'DurationAlarm',
        this.fn.metricDuration({ period, statistic: 'Maximum' }),
        Math.round(this.timeout.toMilliseconds() * nearTimeout),
        `an invocation came within ${Math.round((1 - nearTimeout) * 100)}% of the timeout`,
        'function-duration-near-timeout',
      ),
    ];
  }

  private alarm(
    topicAction: cwActions.SnsAction,
    spec: {
      name: string;
      metric: cloudwatch.IMetric;
      threshold: number;
      what: string;
      runbook: RunbookAnchor;
    },
  ): cloudwatch.Alarm {
    const a = new cloudwatch.Alarm(this, spec.name, {
      metric: spec.metric,
      threshold: spec.threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: alarmDescription(
        `fleetwarden ${this.serviceName} (${this.description.replace(/\.$/, '')}): ${spec.what}`,
        spec.runbook,
      ),
    });
    a.addAlarmAction(topicAction);
    a.addOkAction(topicAction);
    return a;
  }

  /** A custom metric the handler emits with Powertools Metrics (namespace Fleetwarden, service dimension). */
  customMetric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: 'Fleetwarden',
      metricName,
      dimensionsMap: { service: this.serviceName },
      statistic: 'Sum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * Grant an IAM statement to the function's role. Refuses action wildcards, empty lists, and any
   * mutating action on "*" without a condition (scope mutations to ARNs or tag/condition keys).
   */
  allow(permission: FleetPermission): void {
    const where = `FleetFunction ${this.node.path}.allow`;
    if (permission.actions.length === 0) throw new Error(`${where}: needs at least one action`);
    if (permission.resources.length === 0) throw new Error(`${where}: needs at least one resource`);
    for (const action of permission.actions) {
      if (action.includes('*'))
        throw new Error(`${where}: action wildcard "${action}" is not allowed; name the actions`);
    }
    const hasCondition = permission.conditions !== undefined && Object.keys(permission.conditions).length > 0;
    if (permission.resources.includes('*') && !hasCondition) {
      const mutations = unscopedMutations(permission.actions);
      if (mutations.length > 0) {
        throw new Error(
          `${where}: mutating action(s) ${mutations.join(', ')} on "*" need a condition (tag or condition key) or resource ARNs`,
        );
      }
    }
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: permission.actions,
        resources: permission.resources,
        conditions: permission.conditions,
      }),
    );
  }

  addEnvironment(key: string, value: string): void {
    if (RESERVED_ENV.has(key))
      throw new Error(`FleetFunction ${this.node.path}: environment must not set reserved variable ${key}`);
    this.fn.addEnvironment(key, value);
  }

  /** The stack this function lives in (convenience for ARNs in allow()). */
  get stack(): Stack {
    return Stack.of(this);
  }
}
