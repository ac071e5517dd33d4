import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { webhookIngress } from '../../functions/webhook-ingress/definition';
import { DEFAULT_POOL, DEFAULT_WEBHOOK_HOST } from '../../shared/github/workflow-job-event';
import { type SettingsOf, settingsEnv } from '../../shared/kernel/settings';
import { POOL_NAME, type WebhookPool } from '../../shared/webhook/pools';
import { FleetFunction } from './fleet-function';
import { fleetKey } from './fleet-key';
import { defaultOf, durationProblems, settingProblems } from './from-definition';
import { refuseInvalidProps } from './props-validation';
import { remediationPermissions } from './remediation-function';
import { alarmDescription } from './runbook';

/** A runner pool whose webhooks come in through the ingress. */
export interface WebhookIngressPool {
  /** The pool's name (`[a-z][a-z0-9-]{0,19}`), published as the event's `pool`. */
  readonly name: string;
  /**
   * The host of the pool's GitHub, as its deliveries name it in X-GitHub-Enterprise-Host (a GHES's
   * hostname); `github.com` for github.com (no such header).
   * @default 'github.com'
   */
  readonly host?: string;
  /**
   * The secret its webhooks are signed with (its own: no two pools may share one).
   * @default - pool `default`: `webhookSecret`, else the generated secret of today's single pool
   * (same logical id); another pool: a generated secret of its own
   */
  readonly webhookSecret?: secretsmanager.ISecret;
}

/** A pool as the ingress serves it: its secret resolved. */
export interface WebhookIngressPoolOut {
  readonly name: string;
  readonly host: string;
  readonly webhookSecret: secretsmanager.ISecret;
}

export interface WebhookIngressProps {
  /** Topic the function's alarms notify. */
  readonly alarmTopic: sns.ITopic;
  /**
   * Bus the normalized `fleetwarden.github` events go to.
   * @default - a new custom event bus
   */
  readonly bus?: events.IEventBus;
  /**
   * Secret holding the webhook secret (the same value is entered in GitHub's webhook settings).
   * @default - a generated 64-character secret, encrypted with the fleet key
   */
  readonly webhookSecret?: secretsmanager.ISecret;
  /**
   * The runner pools served, each with its host and webhook secret; a delivery belongs to the pool
   * whose secret verifies it (README, "GitHub Enterprise Server").
   * @default - one pool, `default`, on github.com, with `webhookSecret`
   */
  readonly pools?: readonly WebhookIngressPool[];
  /**
   * Larger webhook bodies are refused with 413 (1024 to 6291456 bytes; Function URLs cap at 6 MB).
   * @default 1048576 (workflow_job payloads are a few KB)
   */
  readonly maxBodyBytes?: number;
  /**
   * How long a delivery id (and a signed body's digest) is remembered for deduplication (1 hour to
   * 30 days); at least `maxJobAge`, so a body replayed after its record expires is already stale.
   * @default Duration.days(3) (GitHub allows redelivery for 3 days)
   */
  readonly idempotencyTtl?: Duration;
  /**
   * A workflow_job delivery whose action happened longer ago than this (by the job's own signed
   * timestamps: created_at, started_at or completed_at) is ignored as stale, so a captured body
   * replayed later is not published again (1 minute to 3 days). A delivery redelivered by hand after
   * this long is ignored too: raise it before redelivering old deliveries. At most `idempotencyTtl`.
   * @default Duration.hours(1)
   */
  readonly maxJobAge?: Duration;
  /**
   * Key for the secret and the idempotency table.
   * @default - the stack's shared FleetKey
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Reserved concurrency of the ingress function: a flood at the public URL cannot take the
   * account's concurrency, and other functions cannot starve the ingress. Requests beyond it get
   * 429 and GitHub does not redeliver by itself (redeliver from the hook's page or API within 3 days).
   * @default 50
   */
  readonly reservedConcurrency?: number;
}

const S = webhookIngress.settings;
const DEFAULT_IDEMPOTENCY_TTL = Duration.seconds(defaultOf(S.dedupeTtlSeconds));
const DEFAULT_MAX_JOB_AGE = Duration.seconds(defaultOf(S.maxJobAgeSeconds));

function validate(scope: Construct, id: string, p: WebhookIngressProps): void {
  const problems: string[] = [];
  problems.push(...settingProblems('maxBodyBytes', S.maxBodyBytes, p.maxBodyBytes));
  problems.push(...durationProblems('idempotencyTtl', S.dedupeTtlSeconds, p.idempotencyTtl));
  problems.push(...durationProblems('maxJobAge', S.maxJobAgeSeconds, p.maxJobAge));
  // a body replayed after its digest's dedupe record expired must already be stale
  const effectiveTtl = p.idempotencyTtl ?? DEFAULT_IDEMPOTENCY_TTL;
  const effectiveAge = p.maxJobAge ?? DEFAULT_MAX_JOB_AGE;
  if (effectiveAge.toSeconds() > effectiveTtl.toSeconds())
    problems.push(
      `maxJobAge (${effectiveAge.toHumanString()}) must not exceed idempotencyTtl (${effectiveTtl.toHumanString()}): a captured body replayed after its dedupe record expires would be published again`,
    );
  problems.push(...poolProblems(p));
  const rc = p.reservedConcurrency;
  if (rc !== undefined && !(Number.isInteger(rc) && rc >= 1 && rc <= 1000))
    problems.push(`reservedConcurrency must be an integer from 1 to 1000, got ${rc}`);
  refuseInvalidProps('WebhookIngress', scope, id, problems);
}

const HOSTNAME = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

function poolProblems(p: WebhookIngressProps): string[] {
  if (p.pools === undefined) return [];
  if (p.pools.length === 0) return ['pools must name at least one pool'];
  const problems: string[] = [];
  const names = new Set<string>();
  const secrets = new Map<secretsmanager.ISecret, string>();
  for (const pool of p.pools) {
    if (!POOL_NAME.test(pool.name)) problems.push(`pool name "${pool.name}" must be [a-z][a-z0-9-]{0,19}`);
    if (names.has(pool.name)) problems.push(`pool "${pool.name}" is listed twice`);
    names.add(pool.name);
    if (pool.host !== undefined && !HOSTNAME.test(pool.host.toLowerCase()))
      problems.push(`pool ${pool.name}: host "${pool.host}" must be a hostname (ghe.example.com), not a URL`);
    const other = pool.webhookSecret && secrets.get(pool.webhookSecret);
    if (other) problems.push(`pools ${other} and ${pool.name} share a webhook secret: give each its own`);
    if (pool.webhookSecret) secrets.set(pool.webhookSecret, pool.name);
    if (pool.name === DEFAULT_POOL && pool.webhookSecret && p.webhookSecret)
      problems.push('set one of webhookSecret and pools[default].webhookSecret, not both');
  }
  return problems;
}

/**
 * GitHub webhooks in, normalized events out: a Function URL in front of webhook-ingress
 * (signature check, size limit, dedupe on X-GitHub-Delivery and on the signed body's digest in a
 * Powertools idempotency table, stale jobs ignored) that puts `fleetwarden.github` / `workflow_job`
 * events on the fleet's bus.
 */
export class WebhookIngress extends Construct {
  readonly bus: events.IEventBus;
  /** The default pool's secret (the first pool's when there is no `default`). */
  readonly webhookSecret: secretsmanager.ISecret;
  /** The pools served, each with its secret. */
  readonly pools: readonly WebhookIngressPoolOut[];
  readonly function: FleetFunction;
  readonly functionUrl: lambda.FunctionUrl;
  readonly idempotencyTable: dynamodb.Table;

  constructor(scope: Construct, id: string, props: WebhookIngressProps) {
    validate(scope, id, props);
    super(scope, id);
    const key = props.encryptionKey ?? fleetKey(this);

    this.bus =
      props.bus ??
      new events.EventBus(this, 'WebhookBus', { description: 'fleetwarden: normalized GitHub events' });
    this.pools = (props.pools ?? [{ name: DEFAULT_POOL }]).map((p) => ({
      name: p.name,
      host: (p.host ?? DEFAULT_WEBHOOK_HOST).toLowerCase(),
      webhookSecret: p.webhookSecret ?? this.secretOf(p.name, props, key),
    }));
    const first = this.pools.find((p) => p.name === DEFAULT_POOL) ?? this.pools[0];
    this.webhookSecret = (first as WebhookIngressPoolOut).webhookSecret;

    this.idempotencyTable = new dynamodb.Table(this, 'Deliveries', {
      partitionKey: { name: 'id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      timeToLiveAttribute: 'expiration',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // only delivery ids for dedupe: nothing to keep when the stack goes
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // today's single pool keeps today's environment (WEBHOOK_SECRET_ARN): its template is unchanged
    const single =
      this.pools.length === 1 && first?.name === DEFAULT_POOL && first.host === DEFAULT_WEBHOOK_HOST;
    const values: Partial<SettingsOf<typeof S>> = {
      ...(single
        ? { secretArn: this.webhookSecret.secretArn }
        : {
            pools: this.pools.map(
              (p): WebhookPool => ({ pool: p.name, host: p.host, secretArn: p.webhookSecret.secretArn }),
            ),
          }),
      eventBusName: this.bus.eventBusName,
      idempotencyTable: this.idempotencyTable.tableName,
      maxBodyBytes: props.maxBodyBytes ?? defaultOf(S.maxBodyBytes),
      dedupeTtlSeconds: (props.idempotencyTtl ?? DEFAULT_IDEMPOTENCY_TTL).toSeconds(),
      maxJobAgeSeconds: (props.maxJobAge ?? DEFAULT_MAX_JOB_AGE).toSeconds(),
    };
    this.function = new FleetFunction(this, 'Function', {
      entry: fileURLToPath(new URL('../../functions/webhook-ingress/index.ts', import.meta.url)),
      description:
        'Receives GitHub webhooks: verifies signatures, dedupes deliveries, publishes to the fleet bus',
      alarmTopic: props.alarmTopic,
      // GitHub gives up after 10 s: fail (5xx, redeliverable) well before it does, so a slow
      // dependency never leaves GitHub guessing while the publish happens after all
      timeout: Duration.seconds(5),
      reservedConcurrentExecutions: props.reservedConcurrency ?? 50,
      environment: settingsEnv(S, values),
    });
    this.alarmOnRefusedSignatures(props.alarmTopic);
    const fn = this.function;
    // its declared reads: the bus, the secret and the deliveries table; their key with them
    const full = {
      ...values,
      ...(single
        ? { secretArn: policyArnOf(this.webhookSecret) }
        : {
            pools: this.pools.map(
              (p): WebhookPool => ({ pool: p.name, host: p.host, secretArn: policyArnOf(p.webhookSecret) }),
            ),
          }),
    } as SettingsOf<typeof S>;
    for (const p of remediationPermissions(webhookIngress, full, this)) fn.allow(p);
    fn.allow({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] });

    this.functionUrl = fn.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
  }

  /**
   * Refused signatures are not logged at info (a flood would cost a log line each): counted and
   * alarmed instead; 10 in 5 minutes is a wrong secret in GitHub's settings, or someone knocking.
   */
  private alarmOnRefusedSignatures(topic: WebhookIngressProps['alarmTopic']): void {
    const refused = new cloudwatch.Alarm(this, 'SignatureRefusedAlarm', {
      metric: this.function.customMetric('WebhookSignatureRefused'),
      threshold: 10,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: alarmDescription(
        'fleetwarden webhook-ingress: deliveries refused for their signature (unsigned or not matching the webhook secret); check the secret in the GitHub webhook settings',
        'webhook-signatures-refused',
      ),
    });
    refused.addAlarmAction(new cwActions.SnsAction(topic));
  }

  /**
   * A pool's secret when none is given: pool `default` takes `webhookSecret`, else today's generated
   * one (construct id `WebhookSecret`: the same logical id as before pools); another pool gets its own.
   */
  private secretOf(name: string, props: WebhookIngressProps, key: kms.IKey): secretsmanager.ISecret {
    if (name === DEFAULT_POOL && props.webhookSecret) return props.webhookSecret;
    return generatedWebhookSecret(
      this,
      name === DEFAULT_POOL ? 'WebhookSecret' : `WebhookSecret-${name}`,
      name,
      key,
    );
  }
}

/**
 * A generated webhook secret of pool `pool` (64 characters, encrypted with `key`), rotated by hand
 * (with the GitHub webhook at the same time).
 */
export function generatedWebhookSecret(
  scope: Construct,
  id: string,
  pool: string,
  key: kms.IKey,
): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(scope, id, {
    description: `fleetwarden: GitHub webhook secret${pool === DEFAULT_POOL ? '' : ` of pool ${pool}`} (enter the same value in the webhook settings)`,
    encryptionKey: key,
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'A webhook secret is shared with GitHub: rotating it means changing the GitHub webhook at the same time, which no rotation Lambda can do safely. Rotate by hand (README).',
  });
  return secret;
}

/**
 * The ARN a policy grants a secret by: a secret known by name only (`fromSecretNameV2`) has a
 * partial ARN, and Secrets Manager appends 6 random characters to the real one (CDK's own grants
 * say `-??????` too); the secret's ARN else.
 */
const policyArnOf = (s: secretsmanager.ISecret) => (s.secretFullArn ? s.secretArn : `${s.secretArn}-??????`);
