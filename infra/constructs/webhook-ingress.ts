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
import { FleetFunction } from './fleet-function';
import { fleetKey } from './fleet-key';
import { refuseInvalidProps } from './props-validation';
import { alarmDescription } from './runbook';

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

const DEFAULT_IDEMPOTENCY_TTL = Duration.days(3);
const DEFAULT_MAX_JOB_AGE = Duration.hours(1);

function validate(scope: Construct, id: string, p: WebhookIngressProps): void {
  const problems: string[] = [];
  const max = p.maxBodyBytes;
  if (max !== undefined && (!Number.isInteger(max) || max < 1024 || max > 6_291_456))
    problems.push(`maxBodyBytes must be an integer from 1024 to 6291456, got ${max}`);
  const ttl = p.idempotencyTtl?.toSeconds();
  if (ttl !== undefined && (ttl < 3600 || ttl > 30 * 86_400))
    problems.push(`idempotencyTtl must be 1 hour to 30 days, got ${p.idempotencyTtl?.toHumanString()}`);
  const age = p.maxJobAge?.toSeconds();
  if (age !== undefined && (age < 60 || age > 3 * 86_400))
    problems.push(`maxJobAge must be 1 minute to 3 days, got ${p.maxJobAge?.toHumanString()}`);
  // a body replayed after its digest's dedupe record expired must already be stale
  const effectiveTtl = p.idempotencyTtl ?? DEFAULT_IDEMPOTENCY_TTL;
  const effectiveAge = p.maxJobAge ?? DEFAULT_MAX_JOB_AGE;
  if (effectiveAge.toSeconds() > effectiveTtl.toSeconds())
    problems.push(
      `maxJobAge (${effectiveAge.toHumanString()}) must not exceed idempotencyTtl (${effectiveTtl.toHumanString()}): a captured body replayed after its dedupe record expires would be published again`,
    );
  const rc = p.reservedConcurrency;
  if (rc !== undefined && !(Number.isInteger(rc) && rc >= 1 && rc <= 1000))
    problems.push(`reservedConcurrency must be an integer from 1 to 1000, got ${rc}`);
  refuseInvalidProps('WebhookIngress', scope, id, problems);
}

/**
 * GitHub webhooks in, normalized events out: a Function URL in front of webhook-ingress
 * (signature check, size limit, dedupe on X-GitHub-Delivery and on the signed body's digest in a
 * Powertools idempotency table, stale jobs ignored) that puts `fleetwarden.github` / `workflow_job`
 * events on the fleet's bus.
 */
export class WebhookIngress extends Construct {
  readonly bus: events.IEventBus;
  readonly webhookSecret: secretsmanager.ISecret;
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
    if (props.webhookSecret) {
      this.webhookSecret = props.webhookSecret;
    } else {
      const secret = new secretsmanager.Secret(this, 'WebhookSecret', {
        description: 'fleetwarden: GitHub webhook secret (enter the same value in the webhook settings)',
        encryptionKey: key,
        generateSecretString: { passwordLength: 64, excludePunctuation: true },
      });
      Validations.of(secret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A webhook secret is shared with GitHub: rotating it means changing the GitHub webhook at the same time, which no rotation Lambda can do safely. Rotate by hand (README).',
      });
      this.webhookSecret = secret;
    }

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

    this.function = new FleetFunction(this, 'Function', {
      entry: fileURLToPath(new URL('../../functions/webhook-ingress/index.ts', import.meta.url)),
      description:
        'Receives GitHub webhooks: verifies signatures, dedupes deliveries, publishes to the fleet bus',
      alarmTopic: props.alarmTopic,
      // GitHub gives up after 10 s: fail (5xx, redeliverable) well before it does, so a slow
      // dependency never leaves GitHub guessing while the publish happens after all
      timeout: Duration.seconds(5),
      reservedConcurrentExecutions: props.reservedConcurrency ?? 50,
      environment: {
        WEBHOOK_SECRET_ARN: this.webhookSecret.secretArn,
        EVENT_BUS_NAME: this.bus.eventBusName,
        IDEMPOTENCY_TABLE: this.idempotencyTable.tableName,
        MAX_BODY_BYTES: String(props.maxBodyBytes ?? 1_048_576),
        DEDUPE_TTL_SECONDS: String((props.idempotencyTtl ?? DEFAULT_IDEMPOTENCY_TTL).toSeconds()),
        MAX_JOB_AGE_SECONDS: String((props.maxJobAge ?? DEFAULT_MAX_JOB_AGE).toSeconds()),
      },
    });
    // refused signatures are not logged at info (a flood would cost a log line each): counted and
    // alarmed instead; 10 in 5 minutes is a wrong secret in GitHub's settings, or someone knocking
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
    refused.addAlarmAction(new cwActions.SnsAction(props.alarmTopic));
    const fn = this.function;
    fn.allow({ actions: ['events:PutEvents'], resources: [this.bus.eventBusArn] });
    fn.allow({ actions: ['secretsmanager:GetSecretValue'], resources: [this.webhookSecret.secretArn] });
    fn.allow({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [this.idempotencyTable.tableArn],
    });
    fn.allow({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [key.keyArn] });

    this.functionUrl = fn.fn.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
  }
}
