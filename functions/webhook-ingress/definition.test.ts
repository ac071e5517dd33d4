import { Webhooks } from '@octokit/webhooks';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { readSettings } from '../../shared/kernel/settings';
import { logger, metrics } from '../../shared/observability/powertools';
import { InMemoryEventBus } from '../../shared/webhook/in-memory-event-bus';
import { InMemoryPersistenceLayer } from '../../shared/webhook/testing/in-memory-persistence-layer';
import { workflowJobPayload } from '../../shared/webhook/testing/payloads';
import { webhookIngress } from './definition';

const SECRET = 'webhook-secret';
const ENV = {
  WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf',
  EVENT_BUS_NAME: 'fleet',
  IDEMPOTENCY_TABLE: 'idem',
};

function urlEvent(body: string, headers: Record<string, string>, base64 = false): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc123',
      domainName: 'abc123.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'abc123',
      http: {
        method: 'POST',
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: '140.82.115.1',
        userAgent: 'GitHub-Hookshot/abc',
      },
      requestId: 'r1',
      routeKey: '$default',
      stage: '$default',
      time: '24/Nov/2026:10:00:00 +0000',
      timeEpoch: 1795528800000,
    },
    body: base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  };
}

const GHES_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-ghes-GhIjKl';
const GHES_SECRET = 'ghes-webhook-secret';
const POOLS_ENV = {
  EVENT_BUS_NAME: 'fleet',
  IDEMPOTENCY_TABLE: 'idem',
  WEBHOOK_POOLS: JSON.stringify([
    { pool: 'default', host: 'github.com', secretArn: ENV.WEBHOOK_SECRET_ARN },
    { pool: 'ghes', host: 'ghe.example.com', secretArn: GHES_ARN },
  ]),
};

function setup(env: Record<string, string> = ENV) {
  const bus = new InMemoryEventBus();
  let secretReads = 0;
  const secrets: Record<string, string> = { [ENV.WEBHOOK_SECRET_ARN]: SECRET, [GHES_ARN]: GHES_SECRET };
  const handler = webhookIngress.create(
    {
      webhookSecret: async (arn) => {
        secretReads++;
        const secret = secrets[arn];
        if (!secret) throw new Error(`no secret ${arn}`);
        return secret;
      },
      eventBus: bus,
      idempotency: new InMemoryPersistenceLayer(),
    },
    {
      ...readSettings(webhookIngress.settings, env),
      dedupeTtlSeconds: 3600,
      maxBodyBytes: 1024 * 1024,
    },
    { now: () => new Date(), gate: REPORT_ONLY_GATE },
  );
  return { bus, handler, reads: () => secretReads };
}

const context = { functionName: 'webhook-ingress', getRemainingTimeInMillis: () => 5000 } as Context;

describe('webhook-ingress handler (Function URL)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('does not log refused signatures at info level, and counts them in WebhookSignatureRefused', async () => {
    const { handler } = setup();
    const info = vi.spyOn(logger, 'info');
    const metric = vi.spyOn(metrics, 'addMetric');
    const headers = { 'x-github-event': 'workflow_job', 'x-github-delivery': 'd-3' };
    await handler(urlEvent('{}', headers), context);
    await handler(urlEvent('{}', { ...headers, 'x-hub-signature-256': `sha256=${'0'.repeat(64)}` }), context);
    expect(info).not.toHaveBeenCalled();
    expect(metric.mock.calls.filter(([name]) => name === 'WebhookSignatureRefused')).toEqual([
      ['WebhookSignatureRefused', 'Count', 1],
      ['WebhookSignatureRefused', 'Count', 1],
    ]);
  });

  it('accepts a base64-encoded form delivery (Function URLs base64 non-text bodies)', async () => {
    const { bus, handler } = setup();
    const form = new URLSearchParams({
      payload: JSON.stringify(workflowJobPayload('in_progress')),
    }).toString();
    const sig = await new Webhooks({ secret: SECRET }).sign(form);
    const res = await handler(
      urlEvent(
        form,
        {
          'content-type': 'application/x-www-form-urlencoded',
          'x-github-event': 'workflow_job',
          'x-github-delivery': 'd-4',
          'x-hub-signature-256': sig,
        },
        true,
      ),
      context,
    );
    expect(res.statusCode).toBe(202);
    expect(bus.events).toHaveLength(1);
  });

  it('decodes a base64 body, verifies it and answers 202 with a JSON body', async () => {
    const { bus, handler } = setup();
    const body = JSON.stringify(workflowJobPayload('queued'));
    const sig = await new Webhooks({ secret: SECRET }).sign(body);
    const res = await handler(
      urlEvent(
        body,
        { 'x-github-event': 'workflow_job', 'x-github-delivery': 'd-1', 'x-hub-signature-256': sig },
        true,
      ),
      context,
    );
    expect(res).toMatchObject({ statusCode: 202, headers: { 'content-type': 'application/json' } });
    expect(JSON.parse(String(res.body))).toMatchObject({ status: 'published', deliveryId: 'd-1' });
    expect(bus.events).toHaveLength(1);
  });

  it('answers 401 to an unsigned request', async () => {
    const { handler } = setup();
    const res = await handler(
      urlEvent('{}', { 'x-github-event': 'workflow_job', 'x-github-delivery': 'd-2' }),
      context,
    );
    expect(res.statusCode).toBe(401);
  });

  it('serves the pools of WEBHOOK_POOLS: a GHES delivery signed with its pool secret is published as that pool', async () => {
    const { bus, handler } = setup(POOLS_ENV);
    const body = JSON.stringify(workflowJobPayload('queued'));
    const res = await handler(
      urlEvent(body, {
        'x-github-event': 'workflow_job',
        'x-github-delivery': 'd-ghes',
        'x-github-enterprise-host': 'ghe.example.com',
        'x-github-enterprise-version': '3.15.0',
        'x-hub-signature-256': await new Webhooks({ secret: GHES_SECRET }).sign(body),
      }),
      context,
    );
    expect(JSON.parse(String(res.body))).toMatchObject({ status: 'published', pool: 'ghes' });
    expect(bus.events[0]?.detail).toMatchObject({ host: 'ghe.example.com', pool: 'ghes' });
  });

  it('logs a wrong-host refusal as a warning with the pool, and counts it', async () => {
    const { handler } = setup(POOLS_ENV);
    const warn = vi.spyOn(logger, 'warn');
    const metric = vi.spyOn(metrics, 'addMetric');
    const body = JSON.stringify(workflowJobPayload('queued'));
    const res = await handler(
      urlEvent(body, {
        'x-github-event': 'workflow_job',
        'x-github-delivery': 'd-wrong',
        'x-github-enterprise-host': 'ghe.example.com',
        'x-hub-signature-256': await new Webhooks({ secret: SECRET }).sign(body),
      }),
      context,
    );
    expect(res.statusCode).toBe(403);
    expect(warn).toHaveBeenCalledWith(
      'webhook refused: wrong host',
      expect.objectContaining({ status: 'wrong-host', pool: 'default', enterpriseHost: 'ghe.example.com' }),
    );
    expect(metric).toHaveBeenCalledWith('webhook-wrong-host', 'Count', 1);
  });

  it("declares read access to every pool's secret, and to WEBHOOK_SECRET_ARN alone without pools", () => {
    const secretsRead = (env: Record<string, string>) =>
      webhookIngress
        .reads(readSettings(webhookIngress.settings, env))
        .filter((g) => g.actions.includes('secretsmanager:GetSecretValue'))
        .flatMap((g) => g.resources);
    expect(secretsRead(POOLS_ENV)).toEqual([ENV.WEBHOOK_SECRET_ARN, GHES_ARN]);
    expect(secretsRead(ENV)).toEqual([ENV.WEBHOOK_SECRET_ARN]);
  });

  it('refuses WEBHOOK_SECRET_ARN and WEBHOOK_POOLS together, naming both', () => {
    expect(() => setup({ ...POOLS_ENV, WEBHOOK_SECRET_ARN: ENV.WEBHOOK_SECRET_ARN })).toThrow(
      /WEBHOOK_SECRET_ARN.*WEBHOOK_POOLS/,
    );
  });

  it('documents its environment: secret ARN, bus, idempotency table, limits with defaults', () => {
    const env = readSettings(webhookIngress.settings, ENV);
    expect(env).toMatchObject({
      secretArn: ENV.WEBHOOK_SECRET_ARN,
      eventBusName: 'fleet',
      idempotencyTable: 'idem',
      maxBodyBytes: 1_048_576,
      dedupeTtlSeconds: 259_200,
      secretCacheSeconds: 300,
      maxJobAgeSeconds: 3600,
    });
  });
});
