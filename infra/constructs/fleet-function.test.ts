import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  FleetFunction,
  type FleetFunctionProps,
  FUNCTION_BUNDLING,
  SDK_CALL_TRACING_CONTEXT,
} from './fleet-function';

const entry = fileURLToPath(new URL('./test-fixtures/noop-handler.ts', import.meta.url));

function setup(overrides: Partial<FleetFunctionProps> = {}, bundle = false, context = {}) {
  const app = new App({ context: bundle ? context : { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  const alarmTopic = new sns.Topic(stack, 'Alarms');
  const ff = new FleetFunction(stack, 'Sync', {
    entry,
    description: 'keeps DNS in step',
    alarmTopic,
    ...overrides,
  });
  return { app, stack, ff, alarmTopic, template: () => Template.fromStack(stack) };
}

describe('FleetFunction defaults', () => {
  let template: Template;
  beforeEach(() => {
    template = setup().template();
  });

  it('is nodejs22.x on arm64 with active tracing, JSON logs, 30 s and 256 MB', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: Match.objectLike({
        LogFormat: 'JSON',
        ApplicationLogLevel: 'INFO',
        SystemLogLevel: 'INFO',
      }),
      Timeout: 30,
      MemorySize: 256,
      Description: 'keeps DNS in step',
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'sync',
          POWERTOOLS_METRICS_NAMESPACE: 'Fleetwarden',
        }),
      },
    });
  });

  it('runs without --enable-source-maps (12-22% of module init, bench/bundles.bench.ts); the maps ship beside the bundle for decoding', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    expect(fn?.Properties?.Environment?.Variables?.NODE_OPTIONS).toBeUndefined();
    expect(FUNCTION_BUNDLING.sourceMap).toBe(true);
    expect(FUNCTION_BUNDLING.sourceMapMode).toBe(nodejs.SourceMapMode.DEFAULT);
  });

  it('records its handler entry (repo-relative) in the function metadata for the simulator', () => {
    template.hasResource('AWS::Lambda::Function', {
      Metadata: Match.objectLike({ 'fleetwarden:entry': 'infra/constructs/test-fixtures/noop-handler.ts' }),
    });
  });

  it('has no reserved concurrency unless asked', () => {
    const fn = Object.values(template.findResources('AWS::Lambda::Function'))[0];
    expect(fn?.Properties?.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('logs to an explicit, KMS-encrypted log group kept for three months', () => {
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', {
      RetentionInDays: 90,
      KmsKeyId: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('FleetKey'), 'Arn'] }),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: Match.objectLike({
        LogGroup: Match.objectLike({ Ref: Match.stringLikeRegexp('SyncLogGroup') }),
      }),
    });
  });

  it('keeps its log group when the stack is deleted or the group replaced (logs are evidence)', () => {
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('creates one rotating stack key whose policy lets CloudWatch Logs use it for log groups only', () => {
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'logs.eu-west-1.amazonaws.com' },
            Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': Match.anyValue() } },
          }),
        ]),
      },
    });
    const policy = JSON.stringify(
      Object.values(template.findResources('AWS::KMS::Key'))[0]?.Properties.KeyPolicy,
    );
    expect(policy).toContain(':logs:eu-west-1:123456789012:log-group:*');
  });

  it('sends failed async invocations to an encrypted, SSL-only DLQ after 2 retries within 6 h', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('FleetKey'), 'Arn'] }),
      MessageRetentionPeriod: 1209600,
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      DeadLetterConfig: {
        TargetArn: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('SyncDeadLetter'), 'Arn'] }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 21600,
    });
  });

  it('alarms on errors, throttles, DLQ depth and duration near the timeout, to the topic', () => {
    const alarms = template.findResources('AWS::CloudWatch::Alarm');
    const byMetric = Object.fromEntries(
      Object.values(alarms).map((a) => [a.Properties.MetricName, a.Properties]),
    );
    expect(Object.keys(byMetric).sort()).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'Duration',
      'Errors',
      'Throttles',
    ]);
    expect(byMetric.Duration.Threshold).toBe(24_000);
    expect(byMetric.Duration.Statistic).toBe('Maximum');
    expect(byMetric.Errors.Threshold).toBe(1);
    for (const alarm of Object.values(byMetric) as Array<Record<string, unknown>>) {
      expect(alarm.AlarmActions).toHaveLength(1);
      expect(JSON.stringify(alarm.AlarmActions)).toContain('Alarms');
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it('has a role with no managed policies: only its log group and X-Ray', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
      }),
      ManagedPolicyArns: Match.absent(),
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const actions = policies.flatMap((p) =>
      p.Properties.PolicyDocument.Statement.flatMap((s: { Action: string | string[] }) => [s.Action].flat()),
    );
    expect(new Set(actions)).toEqual(
      new Set([
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'sqs:SendMessage',
        'kms:GenerateDataKey',
        'kms:Decrypt',
      ]),
    );
  });
});

describe('FleetFunction settings', () => {
  it('honours every setting', () => {
    const { stack, template } = setup({
      timeout: Duration.seconds(120),
      memorySize: 1024,
      reservedConcurrentExecutions: 2,
      logRetention: logs.RetentionDays.ONE_YEAR,
      retryAttempts: 0,
      maxEventAge: Duration.minutes(5),
      durationAlarmThreshold: 0.5,
      logLevel: 'DEBUG',
      environment: { ZONE: 'Z1' },
    });
    void stack;
    const t = template();
    t.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 120,
      MemorySize: 1024,
      ReservedConcurrentExecutions: 2,
      LoggingConfig: Match.objectLike({ ApplicationLogLevel: 'DEBUG' }),
      Environment: { Variables: Match.objectLike({ ZONE: 'Z1' }) },
    });
    t.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
    });
    t.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Duration', Threshold: 60_000 });
  });

  it('deletes the log group with the stack when asked, and sends failures to an extra destination', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S');
    const extra = new sqs.Queue(stack, 'Extra', { enforceSSL: true });
    new FleetFunction(stack, 'F', {
      entry,
      description: 'd',
      alarmTopic: new sns.Topic(stack, 'T'),
      logRemovalPolicy: RemovalPolicy.DESTROY,
      onFailure: new destinations.SqsDestination(extra),
    });
    const t = Template.fromStack(stack);
    t.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete' });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Extra'), 'Arn'] } },
      },
    });
  });

  it('uses a given key instead of the stack key', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'S');
    const key = new kms.Key(stack, 'MyKey');
    new FleetFunction(stack, 'F', {
      entry,
      description: 'd',
      alarmTopic: new sns.Topic(stack, 'T'),
      encryptionKey: key,
    });
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::KMS::Key', 1);
    t.hasResourceProperties('AWS::Logs::LogGroup', {
      KmsKeyId: Match.objectLike({ 'Fn::GetAtt': [Match.stringLikeRegexp('MyKey'), 'Arn'] }),
    });
  });

  it('shares one stack key between functions', () => {
    const { stack, alarmTopic, template } = setup();
    new FleetFunction(stack, 'Other', { entry, description: 'other', alarmTopic });
    template().resourceCountIs('AWS::KMS::Key', 1);
  });

  it('adds IAM statements only through allow()', () => {
    const { ff, template } = setup();
    ff.allow({
      actions: ['route53:ChangeResourceRecordSets'],
      resources: ['arn:aws:route53:::hostedzone/Z1'],
    });
    ff.allow({
      actions: ['ec2:TerminateInstances'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:ResourceTag/fleet': 'runners' } },
    });
    template().hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'route53:ChangeResourceRecordSets',
            Resource: 'arn:aws:route53:::hostedzone/Z1',
          }),
          Match.objectLike({
            Action: 'ec2:TerminateInstances',
            Resource: '*',
            Condition: { StringEquals: { 'aws:ResourceTag/fleet': 'runners' } },
          }),
        ]),
      },
    });
  });

  it('refuses a mutating action on "*" without a condition, and action wildcards', () => {
    const { ff } = setup();
    expect(() => ff.allow({ actions: ['ec2:TerminateInstances'], resources: ['*'] })).toThrow(
      /mutating action\(s\) ec2:TerminateInstances on "\*" need a condition/,
    );
    expect(() => ff.allow({ actions: ['s3:*'], resources: ['arn:aws:s3:::b/*'] })).toThrow(
      /action wildcard "s3:\*"/,
    );
    expect(() => ff.allow({ actions: [], resources: ['*'] })).toThrow(/at least one action/);
    expect(() => ff.allow({ actions: ['ec2:DescribeInstances'], resources: [] })).toThrow(
      /at least one resource/,
    );
    expect(() => ff.allow({ actions: ['ec2:DescribeInstances'], resources: ['*'] })).not.toThrow();
  });

  it('exposes the role as grant principal and allows extra environment', () => {
    const { ff, template } = setup();
    ff.addEnvironment('TABLE', 'audit');
    expect(ff.grantPrincipal).toBe(ff.role);
    template().hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ TABLE: 'audit' }) },
    });
  });

  it('bundles locally with esbuild to ESM with a source map', () => {
    const { app } = setup({}, true);
    const assembly = app.synth();
    const bundleDirs = readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(assembly.directory, d))
      .filter((d) => existsSync(join(d, 'index.mjs')));
    expect(bundleDirs).toHaveLength(1);
    const dir = bundleDirs[0] as string;
    expect(readdirSync(dir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
    expect(readFileSync(join(dir, 'index.mjs'), 'utf8')).toMatch(/export\s*\{/);
  });

  describe('SDK-call tracing (X-Ray subsegment per AWS call) is an opt-in left out of the bundle', () => {
    const sdkEntry = fileURLToPath(new URL('./test-fixtures/sdk-client-handler.ts', import.meta.url));
    /** The bundled index.mjs of a function synthesized with `overrides` (and `context` on the app). */
    function bundled(overrides: Partial<FleetFunctionProps>, context: Record<string, unknown> = {}) {
      const app = new App({ context });
      const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
      new FleetFunction(stack, 'Sync', {
        entry: sdkEntry,
        description: 'keeps DNS in step',
        alarmTopic: new sns.Topic(stack, 'Alarms'),
        ...overrides,
      });
      const assembly = app.synth();
      const dir = readdirSync(assembly.directory)
        .map((d) => join(assembly.directory, d))
        .find((d) => d.includes('asset.') && existsSync(join(d, 'index.mjs')));
      return readFileSync(join(dir as string, 'index.mjs'), 'utf8');
    }
    // a string only the X-Ray SDK (aws-xray-sdk-core) holds, and the tracer's method
    const XRAY_SDK = 'AWS_XRAY_DAEMON_ADDRESS';

    it('is off by default: the bundle holds neither the X-Ray SDK nor the Powertools tracer, tracing stays ACTIVE', () => {
      const code = bundled({});
      expect(code.includes(XRAY_SDK), XRAY_SDK).toBe(false);
      expect(code.includes('captureAWSv3Client'), 'captureAWSv3Client').toBe(false);
      const { template } = setup();
      template().hasResourceProperties('AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' } });
    });

    it('sdkCallTracing: true bundles the tracer and hands it every client', () => {
      const code = bundled({ sdkCallTracing: true });
      expect(code.includes(XRAY_SDK), XRAY_SDK).toBe(true);
      expect(code.includes('captureAWSv3Client'), 'captureAWSv3Client').toBe(true);
    });

    it('defaults to the fleetwarden:sdkCallTracing context value', () => {
      expect(bundled({}, { [SDK_CALL_TRACING_CONTEXT]: true }).includes(XRAY_SDK), XRAY_SDK).toBe(true);
      // `cdk synth -c fleetwarden:sdkCallTracing=true` passes a string
      expect(() => setup({}, false, { [SDK_CALL_TRACING_CONTEXT]: 'true' })).not.toThrow();
      expect(() => setup({}, false, { [SDK_CALL_TRACING_CONTEXT]: 'yes' })).toThrow(/must be true or false/);
    });
  });

  describe('JMESPath is left out of every bundle (FUNCTION_ALIAS), Powertools idempotency still works, error names survive', () => {
    const dedupeEntry = fileURLToPath(new URL('./test-fixtures/dedupe-handler.ts', import.meta.url));
    let bundle: string | undefined;
    /** The fixture bundled once (seconds on 2 cores) for both checks below. */
    const bundledDedupe = () => {
      bundle ??= bundledFile(dedupeEntry);
      return bundle;
    };
    /** Runs `exported()` of the bundled fixture in a fresh node and returns what it printed. */
    function runBundled(exported: string): unknown {
      const script = `const m = await import(${JSON.stringify(pathToFileURL(bundledDedupe()).href)});process.stdout.write(JSON.stringify(await m.${exported}()));`;
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
        env: { PATH: process.env.PATH ?? '', AWS_LAMBDA_FUNCTION_NAME: 'fleetwarden-WebhookIngress' },
        stdio: ['ignore', 'pipe', 'pipe'], // Powertools warns on stderr that no Lambda context was registered
        encoding: 'utf8',
      });
      return JSON.parse(out);
    }
    /** The index.mjs FleetFunction's own bundling (aws-lambda-nodejs, local esbuild) made of `file`. */
    function bundledFile(file: string): string {
      const app = new App();
      const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
      new FleetFunction(stack, 'Ingress', {
        entry: file,
        description: 'dedupes deliveries',
        alarmTopic: new sns.Topic(stack, 'Alarms'),
      });
      const assembly = app.synth();
      const dir = readdirSync(assembly.directory)
        .map((d) => join(assembly.directory, d))
        .find((d) => d.includes('asset.') && existsSync(join(d, 'index.mjs')));
      return join(dir as string, 'index.mjs');
    }

    it('a delivery through the bundled deduper: published, then duplicate by id, by body; a failed publish retried', () => {
      const run = runBundled('handler') as { outcomes: string[]; published: number; keys: string[] };
      expect(run.outcomes).toEqual([
        'published',
        'duplicate by delivery-id',
        'duplicate by body-digest',
        'failed: PublishError: PutEvents refused 1 of 1 entries after 1 attempts: ThrottlingException',
        'published',
      ]);
      expect(run.published).toBe(2);
      // the keys shared/webhook/dedupe.test.ts pins: a delivery keeps its record across the change
      expect(run.keys.slice(0, 2)).toEqual([
        'fleetwarden-WebhookIngress#EZ3V9kT6WgSMgzk8Fx6nPg==',
        'fleetwarden-WebhookIngress#Mk+lXspAH9xfo8WCPiSQdg==',
      ]);
      // a string only @aws-lambda-powertools/jmespath holds (its parser's error)
      const code = readFileSync(bundledDedupe(), 'utf8');
      expect(code.includes('Bad jmespath expression'), 'JMESPath in the bundle').toBe(false);
    });

    it('errors keep their class names in the minified bundle: name, String(err), first line of the stack', () => {
      // logs (Powertools serialises error.name), audit records (`${name}: ${message}`) and DLQ'd
      // failures show these to whoever is on call; esbuild's minify renames every class
      const seen = runBundled('errors') as { name: string; message: string; string: string; stack: string }[];
      const names = ['ConfigError', 'InvalidAuditRecordError', 'ThrottledError', 'JmesPathNotBundledError'];
      expect(seen.map((e) => e.name)).toEqual(names);
      seen.forEach((e, i) => {
        expect(e.string).toBe(`${names[i]}: ${e.message}`);
        expect(e.stack).toBe(`${names[i]}: ${e.message}`);
      });
    });
  });

  it('is recognised as a FleetFunction by the guardrails', () => {
    const { ff } = setup();
    expect(FleetFunction.isFleetFunction(ff)).toBe(true);
    expect(FleetFunction.isFleetFunction(ff.fn)).toBe(false);
    expect(FleetFunction.owning(ff.fn.node.defaultChild as never)).toBe(ff);
  });
});

describe('FleetFunction validation', () => {
  const cases: Array<[string, Partial<FleetFunctionProps>, RegExp]> = [
    [
      'relative entry',
      { entry: 'functions/x/handler.ts' },
      /entry must be an absolute path, got "functions\/x\/handler.ts"/,
    ],
    ['missing entry', { entry: '/nope/handler.ts' }, /entry "\/nope\/handler.ts" does not exist/],
    [
      'non-TypeScript entry',
      { entry: fileURLToPath(new URL('../../package.json', import.meta.url)) },
      /entry must be a \.ts file/,
    ],
    ['empty description', { description: '  ' }, /description must not be empty/],
    [
      'timeout too long',
      { timeout: Duration.minutes(16) },
      /timeout must be between 1 and 900 seconds, got 960/,
    ],
    [
      'timeout too short',
      { timeout: Duration.millis(500) },
      /timeout must be between 1 and 900 seconds, got 0.5/,
    ],
    [
      'memory too small',
      { memorySize: 64 },
      /memorySize must be an integer between 128 and 10240 MB, got 64/,
    ],
    [
      'fractional memory',
      { memorySize: 256.5 },
      /memorySize must be an integer between 128 and 10240 MB, got 256.5/,
    ],
    [
      'zero concurrency',
      { reservedConcurrentExecutions: 0 },
      /reservedConcurrentExecutions must be a positive integer, got 0/,
    ],
    [
      'infinite retention',
      { logRetention: logs.RetentionDays.INFINITE },
      /logRetention must be finite, got INFINITE/,
    ],
    ['too many retries', { retryAttempts: 3 }, /retryAttempts must be 0, 1 or 2, got 3/],
    [
      'event age too short',
      { maxEventAge: Duration.seconds(30) },
      /maxEventAge must be between 60 seconds and 6 hours, got 30 s/,
    ],
    [
      'alarm threshold above 1',
      { durationAlarmThreshold: 1.5 },
      /durationAlarmThreshold must be in \(0, 1\], got 1.5/,
    ],
    [
      'bad log level',
      { logLevel: 'LOUD' as never },
      /logLevel must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL, got "LOUD"/,
    ],
    [
      'reserved env var',
      { environment: { AWS_REGION: 'x' } },
      /environment must not set reserved variable AWS_REGION/,
    ],
  ];
  it.each(cases)('refuses %s', (_name, overrides, message) => {
    expect(() => setup(overrides)).toThrow(message);
  });

  it('names the construct path in the message', () => {
    expect(() => setup({ memorySize: 64 })).toThrow(/FleetFunction TestStack\/Sync: /);
  });
});

describe('FleetFunction custom metrics', () => {
  it('names the Powertools namespace and the service dimension the handler publishes under', async () => {
    const { App, Stack } = await import('aws-cdk-lib');
    const sns = await import('aws-cdk-lib/aws-sns');
    const { FleetFunction } = await import('./fleet-function');
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'M');
    const ff = new FleetFunction(stack, 'RunnerSweep', {
      entry: new URL('./test-fixtures/noop-handler.ts', import.meta.url).pathname,
      description: 'metric test',
      alarmTopic: new sns.Topic(stack, 'T'),
    });
    const m = ff.customMetric('SweepCircuitOpen');
    expect(m.namespace).toBe('Fleetwarden');
    expect(m.dimensions).toEqual({ service: 'runner-sweep' });
    expect(ff.serviceName).toBe('runner-sweep');
  });
});
