/**
 * Webhook ingress latency: 1,000 signed workflow_job deliveries (10% redeliveries) through the real
 * handler (signature check, dedupe with Powertools idempotency, PutEvents) against in-memory
 * persistence and bus. Prints p50/p99 against GitHub's 10 s delivery timeout. Network to DynamoDB and
 * EventBridge adds a few ms per call in AWS; this is the handler's own share.
 */
import { Webhooks } from '@octokit/webhooks';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { webhookIngress } from '../functions/webhook-ingress/definition';
import { REPORT_ONLY_GATE } from '../shared/kernel/approval';
import { readSettings } from '../shared/kernel/settings';
import { InMemoryEventBus } from '../shared/webhook/in-memory-event-bus';
import { InMemoryPersistenceLayer } from '../shared/webhook/testing/in-memory-persistence-layer';
import { workflowJobPayload } from '../shared/webhook/testing/payloads';

export async function webhookLatency(
  deliveries = 1000,
): Promise<{ p50: number; p99: number; published: number; duplicates: number }> {
  const secret = 'bench-secret';
  const bus = new InMemoryEventBus();
  const settings = readSettings(webhookIngress.settings, {
    WEBHOOK_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:bench-AbCdEf',
    EVENT_BUS_NAME: 'fleet',
    IDEMPOTENCY_TABLE: 'deliveries',
  });
  const handler = webhookIngress.create(
    { webhookSecret: async () => secret, eventBus: bus, idempotency: new InMemoryPersistenceLayer() },
    { ...settings, dedupeTtlSeconds: 86_400, maxBodyBytes: 1_048_576 },
    { now: () => new Date(), gate: REPORT_ONLY_GATE },
  );
  const github = new Webhooks({ secret });
  const times: number[] = [];
  let duplicates = 0;
  for (let i = 0; i < deliveries; i++) {
    const n = i % 10 === 9 ? i - 1 : i; // every tenth is a redelivery of the previous one
    const body = JSON.stringify(workflowJobPayload('in_progress', { jobId: n }));
    const event = {
      requestContext: { http: { method: 'POST' } },
      headers: {
        'x-github-event': 'workflow_job',
        'x-github-delivery': `d-${n}`,
        'x-hub-signature-256': await github.sign(body),
      },
      body,
      isBase64Encoded: false,
    } as unknown as APIGatewayProxyEventV2;
    const t = performance.now();
    const res = await handler(event, { getRemainingTimeInMillis: () => 9_000 } as Context);
    times.push(performance.now() - t);
    if (res.statusCode === 200) duplicates++;
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] as number;
  return { p50: at(0.5), p99: at(0.99), published: bus.events.length, duplicates };
}

export async function run(): Promise<void> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const r = await webhookLatency();
  console.log(
    `webhook ingress, 1000 deliveries (100 redeliveries): ${r.published} published, ${r.duplicates} answered duplicate`,
  );
  console.log(
    `  handler latency p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms; GitHub waits 10,000 ms (${(10_000 / r.p99).toFixed(0)}x headroom at p99)`,
  );
}
