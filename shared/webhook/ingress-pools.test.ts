import { createRequire } from 'node:module';
import { Webhooks } from '@octokit/webhooks';
import { beforeEach, describe, expect, it } from 'vitest';
import { WorkflowJobDetailSchema } from '../github/workflow-job-event';
import { deliveryDeduper } from './dedupe';
import { InMemoryEventBus } from './in-memory-event-bus';
import { handleWebhook, type IngressDeps, type IngressRequest } from './ingress';
import { InMemoryPersistenceLayer } from './testing/in-memory-persistence-layer';
import { workflowJobPayload } from './testing/payloads';

/** Three pools: github.com (default), a GHES, another GHES; each its own secret. */
const POOLS = [
  { pool: 'default', host: 'github.com', secret: 'secret-of-github-com' },
  { pool: 'ghes', host: 'ghe.example.com', secret: 'secret-of-ghe-example' },
  { pool: 'ghes-eu', host: 'ghe.eu.example.com', secret: 'secret-of-ghe-eu' },
] as const;

let bus: InMemoryEventBus;
let reads: string[];
function deps(now = Date.now()): IngressDeps {
  return {
    pools: POOLS.map((p) => ({
      pool: p.pool,
      host: p.host,
      secret: async () => {
        reads.push(p.pool);
        return p.secret;
      },
    })),
    publishOnce: deliveryDeduper(new InMemoryPersistenceLayer(), bus, { ttlSeconds: 3 * 86_400 }),
    maxBodyBytes: 1024 * 1024,
    now: () => now,
  };
}

async function delivery(
  body: string,
  secret: string,
  headers: Record<string, string | undefined> = {},
): Promise<IngressRequest> {
  return {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-event': 'workflow_job',
      'x-github-delivery': `d-${Math.random()}`,
      'x-hub-signature-256': await new Webhooks({ secret }).sign(body),
      ...headers,
    },
  };
}

const ghesHeaders = (host: string) => ({
  'x-github-enterprise-host': host,
  'x-github-enterprise-version': '3.15.0',
});

beforeEach(() => {
  bus = new InMemoryEventBus({ maxAttempts: 1 });
  reads = [];
});

describe('webhook ingress with several pools', () => {
  it('attributes a delivery to the pool whose secret verifies it, and publishes its host and pool', async () => {
    const body = JSON.stringify(workflowJobPayload('in_progress'));
    const res = await handleWebhook(
      await delivery(body, POOLS[1].secret, ghesHeaders('ghe.example.com')),
      deps(),
    );
    expect(res).toMatchObject({ statusCode: 202, body: { status: 'published', pool: 'ghes' } });
    expect(WorkflowJobDetailSchema.parse(bus.events[0]?.detail)).toMatchObject({
      host: 'ghe.example.com',
      pool: 'ghes',
    });
  });

  it('publishes a github.com delivery (no enterprise headers) of the default pool as github.com/default', async () => {
    const body = JSON.stringify(workflowJobPayload('queued'));
    const res = await handleWebhook(await delivery(body, POOLS[0].secret), deps());
    expect(res).toMatchObject({ statusCode: 202, body: { status: 'published', pool: 'default' } });
    expect(bus.events[0]?.detail).toMatchObject({ host: 'github.com', pool: 'default' });
  });

  it('takes the enterprise host header case-insensitively', async () => {
    const body = JSON.stringify(workflowJobPayload('in_progress'));
    const res = await handleWebhook(
      await delivery(body, POOLS[2].secret, ghesHeaders('GHE.EU.Example.com')),
      deps(),
    );
    expect(res).toMatchObject({ statusCode: 202, body: { pool: 'ghes-eu' } });
    expect(bus.events[0]?.detail).toMatchObject({ host: 'ghe.eu.example.com' });
  });

  it('never lets the unsigned host header choose the pool: a GHES header on a github.com-signed delivery is refused', async () => {
    const body = JSON.stringify(workflowJobPayload('in_progress'));
    const res = await handleWebhook(
      await delivery(body, POOLS[0].secret, ghesHeaders('ghe.example.com')),
      deps(),
    );
    expect(res).toMatchObject({ statusCode: 403, body: { status: 'wrong-host', pool: 'default' } });
    expect(String(res.body.message)).toMatch(/github\.com.*ghe\.example\.com/);
    expect(bus.events).toEqual([]);
  });

  it("refuses a GHES pool's delivery whose header names another host, or none (github.com)", async () => {
    const body = JSON.stringify(workflowJobPayload('in_progress'));
    for (const headers of [ghesHeaders('ghe.eu.example.com'), {}]) {
      const res = await handleWebhook(await delivery(body, POOLS[1].secret, headers), deps());
      expect(res, JSON.stringify(headers)).toMatchObject({
        statusCode: 403,
        body: { status: 'wrong-host', pool: 'ghes' },
      });
    }
    expect(bus.events).toEqual([]);
  });

  it('refuses a ping from the wrong GitHub too (the hook is set up wrong: its owner sees it at once)', async () => {
    const res = await handleWebhook(
      await delivery('{"zen":"Design for failure."}', POOLS[1].secret, { 'x-github-event': 'ping' }),
      deps(),
    );
    expect(res).toMatchObject({ statusCode: 403, body: { status: 'wrong-host' } });
  });

  it('answers 401 when no pool secret verifies, whatever host the headers claim', async () => {
    const body = JSON.stringify(workflowJobPayload('in_progress'));
    const res = await handleWebhook(
      await delivery(body, 'secret-of-nobody', ghesHeaders('ghe.example.com')),
      deps(),
    );
    expect(res).toMatchObject({ statusCode: 401, body: { status: 'bad-signature' } });
    expect(bus.events).toEqual([]);
  });

  it("tries every pool's secret (not only the first that matches): a pool's own secret is read for each delivery", async () => {
    const body = JSON.stringify(workflowJobPayload('queued'));
    await handleWebhook(await delivery(body, POOLS[0].secret), deps());
    expect([...reads].sort()).toEqual(['default', 'ghes', 'ghes-eu']);
  });

  it('fails (throws, 5xx) when two pools hold the same secret: the delivery cannot be attributed', async () => {
    const d = deps();
    const same = { ...d, pools: d.pools.map((p) => ({ ...p, secret: async () => POOLS[0].secret })) };
    const body = JSON.stringify(workflowJobPayload('queued'));
    await expect(handleWebhook(await delivery(body, POOLS[0].secret), same)).rejects.toThrow(
      /default, ghes, ghes-eu.*same webhook secret/,
    );
    expect(bus.events).toEqual([]);
  });
});

/** GitHub's own example payloads (@octokit/webhooks-examples): the workflow_job deliveries of each set. */
const require = createRequire(import.meta.url);
type Examples = Array<{
  name: string;
  examples: Array<{ action: string; workflow_job: { started_at: string } }>;
}>;
function workflowJobExamples(set: string) {
  const all = require(`@octokit/webhooks-examples/${set}/index.json`) as Examples;
  return all.find((w) => w.name === 'workflow_job')?.examples ?? [];
}
const GHES_SETS = ['ghes-31', 'ghes-32', 'ghes-33', 'ghes-34', 'ghes-35'];

describe("GitHub's sample workflow_job deliveries, signed with the pool's secret", () => {
  it('the GHES sets hold workflow_job samples from 3.3 on (3.1 and 3.2 have none)', () => {
    expect(GHES_SETS.map((s) => [s, workflowJobExamples(s).length > 0])).toEqual([
      ['ghes-31', false],
      ['ghes-32', false],
      ['ghes-33', true],
      ['ghes-34', true],
      ['ghes-35', true],
    ]);
  });

  for (const set of GHES_SETS.filter((s) => workflowJobExamples(s).length > 0))
    it(`publishes every ${set} sample as host ghe.example.com, pool ghes`, async () => {
      for (const [i, sample] of workflowJobExamples(set).entries()) {
        // the samples are dated 2021: the clock is set just after the sample's own time
        const now = Date.parse(sample.workflow_job.started_at) + 60_000;
        const req = await delivery(JSON.stringify(sample), POOLS[1].secret, {
          ...ghesHeaders('ghe.example.com'),
          'x-github-delivery': `${set}-${i}`,
        });
        const res = await handleWebhook(req, deps(now));
        expect(res, `${set} #${i}`).toMatchObject({ statusCode: 202, body: { status: 'published' } });
      }
      const details = bus.events.map((e) => WorkflowJobDetailSchema.parse(e.detail));
      expect(details.length).toBe(workflowJobExamples(set).length);
      for (const d of details) expect(d).toMatchObject({ host: 'ghe.example.com', pool: 'ghes' });
    });

  it('publishes every api.github.com sample of the default pool as github.com, default', async () => {
    const samples = workflowJobExamples('api.github.com');
    expect(samples.length).toBeGreaterThan(0);
    for (const [i, sample] of samples.entries()) {
      const j = sample.workflow_job as {
        started_at: string;
        completed_at?: string | null;
        created_at?: string;
      };
      const at = Math.max(
        ...[j.started_at, j.completed_at, j.created_at].filter(Boolean).map((t) => Date.parse(String(t))),
      );
      const req = await delivery(JSON.stringify(sample), POOLS[0].secret, { 'x-github-delivery': `gh-${i}` });
      const res = await handleWebhook(req, deps(at + 60_000));
      // two samples are byte-identical: the second is a duplicate of the first, never published twice
      expect(res.statusCode, `api.github.com #${i} ${sample.action}`).toBeOneOf([200, 202]);
    }
    expect(bus.events.length).toBeGreaterThan(0);
    for (const e of bus.events) expect(e.detail).toMatchObject({ host: 'github.com', pool: 'default' });
  });

  it('refuses a GHES sample signed with the github.com pool secret but sent with its enterprise headers', async () => {
    const [sample] = workflowJobExamples('ghes-35');
    const now = Date.parse(String(sample?.workflow_job.started_at)) + 60_000;
    const req = await delivery(JSON.stringify(sample), POOLS[0].secret, ghesHeaders('ghe.example.com'));
    expect(await handleWebhook(req, deps(now))).toMatchObject({
      statusCode: 403,
      body: { status: 'wrong-host' },
    });
  });
});
