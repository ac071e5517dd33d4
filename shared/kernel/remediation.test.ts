import type { Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { InMemoryAuditSink } from '../audit/in-memory-audit-sink';
import { ensureIntent } from '../aws/call-recorder';
import { REPORT_ONLY_GATE } from './approval';
import { allowance } from './perform';
import { lambdaHandler, performSteps, type Remediation, rethrow } from './remediation';
import { setting } from './settings';
import { sqsBatch } from './sqs-batch';

/** A tiny remediation written the way every definition is: declaration + create(ports, settings). */
const example: Remediation<
  { dryRun: ReturnType<typeof setting.boolean>; limit: ReturnType<typeof setting.integer> },
  'fix',
  'audit',
  SQSEvent
> = {
  name: 'example-fixer',
  summary: 'Fixes what each message names.',
  entry: 'functions/example-fixer/index.ts',
  triggers: [
    { kind: 'events', id: 'Fix', bus: 'default', pattern: { source: ['example'] }, delivery: 'queue' },
  ],
  settings: {
    dryRun: setting.boolean('DRY_RUN', { doc: 'change nothing', default: false }),
    limit: setting.integer('LIMIT', { doc: 'fixes per message', default: 1, min: 1 }),
  },
  actions: {
    fix: {
      audit: 'thing.fix',
      does: 'fix the thing',
      reversible: true,
      weight: 1,
      iam: () => [],
      calls: ['EC2.CreateTags'],
    },
  },
  reads: () => [],
  ports: ['audit'],
  create: (ports, settings, runtime) => (event: SQSEvent, context?: Context) =>
    sqsBatch(event, context, async (record) => {
      const kit = {
        spec: example,
        audit: ports.audit,
        ctx: {
          function: 'example-fixer',
          trigger: { source: 'example', id: record.messageId },
          mode: 'live' as const,
          now: runtime.now,
        },
        dryRun: settings.dryRun,
        gate: runtime.gate,
        allowance: allowance(settings.limit),
      };
      const ids = JSON.parse(record.body) as string[];
      const steps = ids.map((id) => ({
        kind: 'fix',
        subject: { instanceId: id },
        reason: 'broken',
        act: async () => {
          await ensureIntent('EC2.CreateTags');
          if (id.endsWith('bad')) throw new Error(`cannot fix ${id}`);
          return { decision: 'acted' as const };
        },
      }));
      rethrow((await performSteps(kit, steps)).errors);
    }),
};

const sqs = (bodies: string[]): SQSEvent => ({
  Records: bodies.map((body, i) => ({ messageId: `m${i}`, body }) as SQSEvent['Records'][number]),
});

describe('a remediation built from its definition', () => {
  it('runs every message through the kernel: partial batch failure, budget, audit', async () => {
    const audit = new InMemoryAuditSink();
    const handler = example.create(
      { audit },
      { dryRun: false, limit: 1 },
      { now: () => new Date(), gate: REPORT_ONLY_GATE },
    );
    const res = await handler(
      sqs([
        JSON.stringify(['i-00000000000000001', 'i-00000000000000002']),
        JSON.stringify(['i-0000000000000bad']),
      ]),
    );
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: 'm1' }] });
    const byId = new Map(audit.all().map((r) => [r.subject.instanceId, r.decision]));
    // message m0: limit 1 per message -> the second fix is refused by the run's budget allowance
    expect(byId).toEqual(
      new Map([
        ['i-00000000000000001', 'acted'],
        ['i-00000000000000002', 'refused'],
        ['i-0000000000000bad', 'failed'],
      ]),
    );
  });

  it('sqsBatch can answer a batch whose every message failed with all of them (no FullBatchFailureError)', async () => {
    const fail = async () => {
      throw new Error('every message fails');
    };
    const event = sqs(['a', 'b']);
    await expect(sqsBatch(event, undefined, fail)).rejects.toThrow();
    await expect(sqsBatch(event, undefined, fail, { throwOnFullBatchFailure: false })).resolves.toEqual({
      batchItemFailures: [{ itemIdentifier: 'm0' }, { itemIdentifier: 'm1' }],
    });
  });

  it('lambdaHandler reads settings from the environment and wires the ports once', async () => {
    const audit = new InMemoryAuditSink();
    const adapters = vi.fn(() => ({ audit }));
    const handler = lambdaHandler(example, adapters);
    vi.stubEnv('DRY_RUN', 'true');
    try {
      await handler(sqs([JSON.stringify(['i-00000000000000001'])]), {} as Context);
      await handler(sqs([JSON.stringify(['i-00000000000000003'])]), {} as Context);
    } finally {
      vi.unstubAllEnvs();
    }
    expect(adapters).toHaveBeenCalledTimes(1);
    expect(audit.all().map((r) => r.decision)).toEqual(['reported', 'reported']);
  });

  it('lambdaHandler refuses a bad environment with the variable and its value, then retries wiring', async () => {
    const handler = lambdaHandler(example, () => ({ audit: new InMemoryAuditSink() }));
    vi.stubEnv('LIMIT', '0');
    try {
      await expect(handler(sqs([]), {} as Context)).rejects.toThrow(/LIMIT="0"/);
    } finally {
      vi.unstubAllEnvs();
    }
    await expect(handler(sqs([]), {} as Context)).resolves.toEqual({ batchItemFailures: [] });
  });
});
