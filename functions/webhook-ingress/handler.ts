import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { z } from 'zod';
import { defaultDynamoDbClient, defaultSecretsManagerClient } from '../../shared/aws/clients';
import { readEnv } from '../../shared/core/env';
import { ConfigError } from '../../shared/core/errors';
import { logger, metrics } from '../../shared/observability/powertools';
import { deliveryDeduper } from '../../shared/webhook/dedupe';
import { handleWebhook, type IngressDeps, REFUSED_SIGNATURE_STATUSES } from '../../shared/webhook/ingress';
import { EventBridgePublisher } from '../../shared/webhook/publisher';

export const WebhookIngressEnv = z.object({
  WEBHOOK_SECRET_ARN: z.string().startsWith('arn:'),
  EVENT_BUS_NAME: z.string().min(1),
  IDEMPOTENCY_TABLE: z.string().min(1),
  /** workflow_job payloads are a few KB; GitHub caps payloads at 25 MB, Function URLs at 6 MB. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).max(6_291_456).default(1_048_576),
  /** GitHub keeps deliveries for redelivery for 3 days: dedupe at least that long. */
  DEDUPE_TTL_SECONDS: z.coerce.number().int().min(3600).default(259_200),
  SECRET_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  /**
   * A workflow_job whose action (by its own signed timestamp) happened longer ago is ignored as a
   * replay (202 stale). Longer than GitHub's delivery delays, shorter than the dedupe TTL.
   */
  MAX_JOB_AGE_SECONDS: z.coerce.number().int().min(60).max(259_200).default(3600),
});

/** Refused signatures (unsigned or wrong): the metric the construct's alarm watches. */
export const SIGNATURE_REFUSED_METRIC = 'WebhookSignatureRefused';

/** Parse the Function URL event, run the ingress, log one line per delivery. */
export function createHandler(deps: Omit<IngressDeps, 'context'>) {
  return async (
    event: APIGatewayProxyEventV2,
    context: Context,
  ): Promise<APIGatewayProxyStructuredResultV2> => {
    const started = Date.now();
    const headers = Object.fromEntries(
      Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const body =
      event.body === undefined
        ? ''
        : event.isBase64Encoded
          ? Buffer.from(event.body, 'base64').toString('utf8')
          : event.body;
    const res = await handleWebhook(
      { method: event.requestContext?.http?.method ?? 'POST', headers, body },
      { ...deps, context },
    );
    const line = {
      statusCode: res.statusCode,
      status: res.body.status,
      event: headers['x-github-event'],
      deliveryId: headers['x-github-delivery'],
      ms: Date.now() - started,
    };
    // anyone can POST to the URL: a refused signature is counted, and logged only at debug level,
    // so a flood of them costs a metric, not a log line each
    if (REFUSED_SIGNATURE_STATUSES.has(res.body.status)) {
      metrics.addMetric(SIGNATURE_REFUSED_METRIC, 'Count', 1);
      logger.debug('webhook signature refused', line);
    } else {
      logger.info('webhook', line);
    }
    metrics.addMetric(`webhook-${res.body.status}`, 'Count', 1);
    return {
      statusCode: res.statusCode,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(res.body),
    };
  };
}

function cachedSecret(arn: string, ttlSeconds: number): () => Promise<string> {
  let value: { secret: string; at: number } | undefined;
  return async () => {
    if (value && Date.now() - value.at < ttlSeconds * 1000) return value.secret;
    const out = await defaultSecretsManagerClient().send(new GetSecretValueCommand({ SecretId: arn }));
    if (!out.SecretString) throw new ConfigError(`webhook secret ${arn} has no string value`);
    value = { secret: out.SecretString, at: Date.now() };
    return value.secret;
  };
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: APIGatewayProxyEventV2, context: Context) => {
  if (!wired) {
    const env = readEnv(WebhookIngressEnv);
    wired = createHandler({
      secret: cachedSecret(env.WEBHOOK_SECRET_ARN, env.SECRET_CACHE_SECONDS),
      publishOnce: deliveryDeduper(
        new DynamoDBPersistenceLayer({
          tableName: env.IDEMPOTENCY_TABLE,
          awsSdkV3Client: defaultDynamoDbClient(),
        }),
        new EventBridgePublisher(env.EVENT_BUS_NAME),
        { ttlSeconds: env.DEDUPE_TTL_SECONDS },
      ),
      maxBodyBytes: env.MAX_BODY_BYTES,
      maxJobAgeMs: env.MAX_JOB_AGE_SECONDS * 1000,
    });
  }
  try {
    return await wired(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
};
