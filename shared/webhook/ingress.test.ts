import { Webhooks } from '@octokit/webhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { WorkflowJobDetailSchema } from '../github/workflow-job-event';
import { deliveryDeduper } from './dedupe';
import { InMemoryEventBus } from './in-memory-event-bus';
import { handleWebhook, type IngressRequest } from './ingress';
import { InMemoryPersistenceLayer } from './testing/in-memory-persistence-layer';
import { workflowJobPayload } from './testing/payloads';

const SECRET = 'It is a secret to everybody';
const github = new Webhooks({ secret: SECRET });

async function signed(
  body: string,
  headers: Record<string, string | undefined> = {},
): Promise<IngressRequest> {
  return {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'workflow_job',
      'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': await github.sign(body),
      ...headers,
    },
  };
}

let bus: InMemoryEventBus;
let store: InMemoryPersistenceLayer;
let secretReads: number;
const deps = () => ({
  pools: [
    {
      pool: 'default',
      host: 'github.com',
      secret: async () => {
        secretReads++;
        return SECRET;
      },
    },
  ],
  publishOnce: deliveryDeduper(store, bus, { ttlSeconds: 3 * 86_400 }),
  maxBodyBytes: 1024 * 1024,
});

beforeEach(() => {
  bus = new InMemoryEventBus({ maxAttempts: 1 });
  store = new InMemoryPersistenceLayer();
  secretReads = 0;
});

describe('webhook ingress', () => {
  it('accepts and ignores (202, nothing published) a workflow_job action it does not know', async () => {
    const body = JSON.stringify({ ...workflowJobPayload('in_progress'), action: 'requeued' });
    const res = await handleWebhook(await signed(body), deps());
    expect(res.statusCode).toBe(202);
    expect(res.body).toMatchObject({ status: 'ignored', action: 'requeued' });
    expect(bus.events).toEqual([]);
  });

  it('accepts a correctly signed workflow_job and puts the normalized event on the bus', async () => {
    const res = await handleWebhook(await signed(JSON.stringify(workflowJobPayload('in_progress'))), deps());
    expect(res.statusCode).toBe(202);
    expect(res.body).toMatchObject({
      status: 'published',
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    });
    expect(bus.events).toHaveLength(1);
    const e = bus.events[0];
    expect(e?.source).toBe('fleetwarden.github');
    expect(e?.['detail-type']).toBe('workflow_job');
    const detail = WorkflowJobDetailSchema.parse(e?.detail);
    expect(detail).toMatchObject({
      deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      action: 'in_progress',
      job: {
        id: 29679449,
        runnerId: 16,
        runnerName: 'ci-i-0123456789abcdef0',
        labels: ['self-hosted', 'linux'],
      },
      repository: 'acme/app',
      organization: 'acme',
    });
  });

  it('refuses a tampered body with 401 and publishes nothing', async () => {
    const req = await signed(JSON.stringify(workflowJobPayload('in_progress')));
    const res = await handleWebhook(
      { ...req, body: req.body.replace('"in_progress"', '"completed"') },
      deps(),
    );
    expect(res.statusCode).toBe(401);
    expect(bus.events).toHaveLength(0);
  });

  it('refuses a missing signature, a sha1-only signature and a wrong secret with 401', async () => {
    const body = JSON.stringify(workflowJobPayload('queued'));
    const other = await new Webhooks({ secret: 'another secret' }).sign(body);
    for (const sig of [undefined, 'sha1=0123456789abcdef0123456789abcdef01234567', other]) {
      const res = await handleWebhook(await signed(body, { 'x-hub-signature-256': sig }), deps());
      expect(res.statusCode).toBe(401);
    }
    expect(bus.events).toHaveLength(0);
  });

  it('fails (5xx, ConfigError) on a pool whose secret is empty: a misconfiguration, not a bad signature', async () => {
    const body = JSON.stringify(workflowJobPayload('queued'));
    const empty = { ...deps(), pools: [{ pool: 'default', host: 'github.com', secret: async () => '' }] };
    await expect(handleWebhook(await signed(body), empty)).rejects.toThrow(
      /pool default: its webhook secret is empty/,
    );
    expect(bus.events).toHaveLength(0);
  });

  it('answers a replayed delivery (same X-GitHub-Delivery) 200 duplicate without publishing again', async () => {
    const req = await signed(JSON.stringify(workflowJobPayload('completed')));
    expect((await handleWebhook(req, deps())).statusCode).toBe(202);
    const again = await handleWebhook(req, deps());
    expect(again).toMatchObject({ statusCode: 200, body: { status: 'duplicate' } });
    expect(bus.events).toHaveLength(1);
  });

  it('refuses malformed JSON (correctly signed) with 400', async () => {
    const res = await handleWebhook(await signed('{"action": "queued",'), deps());
    expect(res).toMatchObject({ statusCode: 400, body: { status: 'malformed' } });
  });

  it('refuses a workflow_job without the fields it needs with 400, naming them', async () => {
    const res = await handleWebhook(await signed(JSON.stringify({ action: 'queued' })), deps());
    expect(res.statusCode).toBe(400);
    expect(String(res.body.message)).toMatch(/workflow_job/);
  });

  it('accepts but ignores other events (202), and answers ping with 200', async () => {
    const ignored = await handleWebhook(
      await signed('{"action":"opened"}', { 'x-github-event': 'issues' }),
      deps(),
    );
    expect(ignored).toMatchObject({ statusCode: 202, body: { status: 'ignored', event: 'issues' } });
    const ping = await handleWebhook(
      await signed('{"zen":"Design for failure."}', { 'x-github-event': 'ping' }),
      deps(),
    );
    expect(ping).toMatchObject({ statusCode: 200, body: { status: 'pong' } });
    expect(bus.events).toHaveLength(0);
  });

  it('refuses an oversized body with 413 before reading the secret or hashing it', async () => {
    const res = await handleWebhook(await signed('x'.repeat(2000)), { ...deps(), maxBodyBytes: 1000 });
    expect(res.statusCode).toBe(413);
    expect(secretReads).toBe(0);
  });

  it('refuses other methods with 405 and a delivery without X-GitHub-Delivery with 400', async () => {
    const req = await signed(JSON.stringify(workflowJobPayload('queued')));
    expect((await handleWebhook({ ...req, method: 'GET' }, deps())).statusCode).toBe(405);
    expect(
      (await handleWebhook({ ...req, headers: { ...req.headers, 'x-github-delivery': undefined } }, deps()))
        .statusCode,
    ).toBe(400);
  });

  it("accepts a form-encoded delivery (GitHub's default): JSON in payload=, signature over the raw form body", async () => {
    const json = JSON.stringify({ ...workflowJobPayload('in_progress'), zen: 'Keep it logically awesome.' });
    const form = new URLSearchParams({ payload: json }).toString();
    expect(form).toMatch(/^payload=%7B.*\+/); // spaces as '+', as GitHub sends them
    const res = await handleWebhook(
      await signed(form, { 'content-type': 'application/x-www-form-urlencoded' }),
      deps(),
    );
    expect(res).toMatchObject({ statusCode: 202, body: { status: 'published' } });
    expect(WorkflowJobDetailSchema.parse(bus.events[0]?.detail)).toMatchObject({
      action: 'in_progress',
      job: { id: 29679449, runnerName: 'ci-i-0123456789abcdef0' },
    });
  });

  it('refuses a form-encoded delivery whose signature covers the JSON, not the body as sent', async () => {
    const json = JSON.stringify(workflowJobPayload('in_progress'));
    const req = await signed(new URLSearchParams({ payload: json }).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      'x-hub-signature-256': await github.sign(json),
    });
    expect((await handleWebhook(req, deps())).statusCode).toBe(401);
    expect(bus.events).toHaveLength(0);
  });

  it('refuses a form-encoded body without a payload field as malformed (400)', async () => {
    const req = await signed('zen=hello', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(await handleWebhook(req, deps())).toMatchObject({
      statusCode: 400,
      body: { status: 'malformed' },
    });
  });

  it('answers a captured body replayed under a new X-GitHub-Delivery as a duplicate (the id is not signed)', async () => {
    const body = JSON.stringify(workflowJobPayload('in_progress'));
    expect((await handleWebhook(await signed(body), deps())).statusCode).toBe(202);
    const replay = await handleWebhook(
      await signed(body, { 'x-github-delivery': 'ffffffff-0000-4000-8000-000000000001' }),
      deps(),
    );
    expect(replay).toMatchObject({ statusCode: 200, body: { status: 'duplicate', by: 'body-digest' } });
    expect(bus.events).toHaveLength(1);
  });

  it('ignores (202 stale, nothing published) a workflow_job whose own timestamp is older than the bound', async () => {
    const now = Date.parse('2026-11-24T12:00:00Z');
    const limited = { ...deps(), now: () => now, maxJobAgeMs: 3_600_000 };
    const stale = now - 3_600_001;
    for (const action of ['queued', 'waiting', 'in_progress', 'completed'] as const) {
      const res = await handleWebhook(
        await signed(JSON.stringify(workflowJobPayload(action, { at: stale })), {
          'x-github-delivery': `stale-${action}`,
        }),
        limited,
      );
      expect(res, action).toMatchObject({ statusCode: 202, body: { status: 'stale', action } });
    }
    expect(bus.events).toHaveLength(0);
    // a completed job that started long ago but completed just now is fresh: its action's own time counts
    const fresh = await handleWebhook(
      await signed(JSON.stringify(workflowJobPayload('completed', { at: now - 60_000 }))),
      limited,
    );
    expect(fresh).toMatchObject({ statusCode: 202, body: { status: 'published' } });
  });

  it('refuses a workflow_job whose timestamp is not a date as malformed (400)', async () => {
    const p = workflowJobPayload('in_progress');
    const body = JSON.stringify({ ...p, workflow_job: { ...p.workflow_job, started_at: 'yesterday' } });
    expect(await handleWebhook(await signed(body), deps())).toMatchObject({
      statusCode: 400,
      body: { status: 'malformed' },
    });
  });

  it('fails (throws) when the bus refuses, leaving no idempotency record, so a redelivery publishes', async () => {
    const req = await signed(JSON.stringify(workflowJobPayload('in_progress')));
    bus.failNextEntries(1);
    await expect(handleWebhook(req, deps())).rejects.toThrow(/PutEvents refused/);
    const redelivered = await handleWebhook(req, deps());
    expect(redelivered.statusCode).toBe(202);
    expect(bus.events).toHaveLength(1);
  });
});
