import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { PortsOf } from '../../shared/kernel/ports';
import type { Remediation } from '../../shared/kernel/remediation';
import { setting } from '../../shared/kernel/settings';
import { logger, metrics } from '../../shared/observability/powertools';
import { deliveryDeduper } from '../../shared/webhook/dedupe';
import {
  handleWebhook,
  type IngressDeps,
  type IngressRequest,
  type IngressResponse,
  REFUSED_SIGNATURE_STATUSES,
} from '../../shared/webhook/ingress';
import { webhookPoolsOf, webhookPoolsSetting } from '../../shared/webhook/pools';

const settings = {
  /** Today's single pool: its secret is pool `default` on github.com. */
  secretArn: setting.optional(
    setting.string('WEBHOOK_SECRET_ARN', {
      doc: 'Secrets Manager ARN of the GitHub webhook secret of the one pool (default, on github.com); unset when WEBHOOK_POOLS is set.',
    }),
  ),
  /** Several pools (GHES among them): each its host and its own secret. */
  pools: webhookPoolsSetting('WEBHOOK_POOLS'),
  eventBusName: setting.string('EVENT_BUS_NAME', { doc: "The fleet's GitHub event bus deliveries go to." }),
  idempotencyTable: setting.string('IDEMPOTENCY_TABLE', {
    doc: 'The deliveries table that publishes each delivery once.',
  }),
  /** workflow_job payloads are a few KB; GitHub caps payloads at 25 MB, Function URLs at 6 MB. */
  maxBodyBytes: setting.integer('MAX_BODY_BYTES', {
    doc: 'Larger bodies are refused (413) before any hashing.',
    default: 1_048_576,
    min: 1024,
    max: 6_291_456,
    unit: 'bytes',
  }),
  /** GitHub keeps deliveries for redelivery for 3 days: dedupe at least that long. */
  dedupeTtlSeconds: setting.seconds('DEDUPE_TTL_SECONDS', {
    doc: 'How long a delivery id and a signed body are remembered (published once).',
    default: 259_200,
    min: 3600,
    max: 2_592_000,
  }),
  secretCacheSeconds: setting.seconds('SECRET_CACHE_SECONDS', {
    doc: 'How long the webhook secret is cached (a rotated secret is picked up within it).',
    default: 300,
    min: 0,
    max: 3600,
  }),
  /**
   * A workflow_job whose action (by its own signed timestamp) happened longer ago is ignored as a
   * replay (202 stale). Longer than GitHub's delivery delays, shorter than the dedupe TTL.
   */
  maxJobAgeSeconds: setting.seconds('MAX_JOB_AGE_SECONDS', {
    doc: 'A workflow_job older than this (by its signed timestamps) is ignored as a replay (202 stale).',
    default: 3600,
    min: 60,
    max: 259_200,
  }),
};
type Ports = PortsOf<'webhookSecret' | 'eventBus' | 'idempotency'>;

/** Refused signatures (unsigned or wrong): the metric the construct's alarm watches. */
export const SIGNATURE_REFUSED_METRIC = 'WebhookSignatureRefused';

/** The delivery as the ingress reads it: lower-case headers, the body base64-decoded. */
function requestOf(event: APIGatewayProxyEventV2): IngressRequest {
  const headers = Object.fromEntries(
    Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const body =
    event.body === undefined
      ? ''
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString('utf8')
        : event.body;
  return { method: event.requestContext?.http?.method ?? 'POST', headers, body };
}

/** One log line and the metrics per delivery. */
function observe(req: IngressRequest, res: IngressResponse, started: number): void {
  const { status } = res.body;
  const line = {
    statusCode: res.statusCode,
    status,
    event: req.headers['x-github-event'],
    deliveryId: req.headers['x-github-delivery'],
    ...(res.body.pool !== undefined ? { pool: res.body.pool } : {}),
    ...(req.headers['x-github-enterprise-host']
      ? {
          enterpriseHost: req.headers['x-github-enterprise-host'],
          enterpriseVersion: req.headers['x-github-enterprise-version'],
        }
      : {}),
    ms: Date.now() - started,
  };
  // anyone can POST to the URL: a refused signature is counted, and logged only at debug level,
  // so a flood of them costs a metric, not a log line each
  if (REFUSED_SIGNATURE_STATUSES.has(status)) {
    metrics.addMetric(SIGNATURE_REFUSED_METRIC, 'Count', 1);
    logger.debug('webhook signature refused', line);
  } else if (status === 'wrong-host') {
    // signed with a pool's secret, sent by another GitHub: a hook set up wrong (only a secret
    // holder can send it, so no flood): a warning with the reason
    logger.warn('webhook refused: wrong host', { ...line, message: res.body.message });
  } else {
    logger.info('webhook', line);
  }
  metrics.addMetric(`webhook-${status}`, 'Count', 1);
}

/**
 * GitHub webhooks in through a Function URL: signature verified over the raw body, each delivery
 * published once to the fleet's GitHub bus. It changes nothing in the fleet (no actions): what it
 * publishes is a hint the functions behind the bus re-verify.
 */
export const webhookIngress: Remediation<
  typeof settings,
  never,
  keyof Ports,
  APIGatewayProxyEventV2,
  APIGatewayProxyStructuredResultV2
> = {
  name: 'webhook-ingress',
  summary: 'Receives GitHub webhooks: verifies signatures, dedupes deliveries, publishes to the fleet bus',
  entry: 'functions/webhook-ingress/index.ts',
  triggers: [{ kind: 'url' }],
  settings,
  actions: {},
  // plumbing, not the fleet: the bus, the secret and the deliveries table (their KMS key with them)
  reads: (s) => [
    {
      actions: ['events:PutEvents'],
      resources: [
        `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${s.eventBusName}`,
      ],
    },
    { actions: ['secretsmanager:GetSecretValue'], resources: webhookPoolsOf(s).map((p) => p.secretArn) },
    {
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [
        `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${s.idempotencyTable}`,
      ],
    },
  ],
  ports: ['webhookSecret', 'eventBus', 'idempotency'],
  create: (ports, settings, runtime) => {
    const deps: Omit<IngressDeps, 'context'> = {
      pools: webhookPoolsOf(settings).map((p) => ({
        pool: p.pool,
        host: p.host,
        secret: () => ports.webhookSecret(p.secretArn),
      })),
      publishOnce: deliveryDeduper(ports.idempotency, ports.eventBus, {
        ttlSeconds: settings.dedupeTtlSeconds,
      }),
      maxBodyBytes: settings.maxBodyBytes,
      maxJobAgeMs: settings.maxJobAgeSeconds * 1000,
      now: () => runtime.now().getTime(),
    };
    return async (event, context?: Context) => {
      const started = Date.now();
      const req = requestOf(event);
      const res = await handleWebhook(req, { ...deps, ...(context ? { context } : {}) });
      observe(req, res, started);
      return {
        statusCode: res.statusCode,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(res.body),
      };
    };
  },
};
