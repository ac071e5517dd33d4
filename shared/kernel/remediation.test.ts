import type { Context, SQSEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { APPROVALS_ENV as APPROVALS_GROUP } from '../approvals/testing/fixtures';
import { InMemoryAuditSink } from '../audit/in-memory-audit-sink';
import { ensureIntent } from '../aws/call-recorder';
import { ConfigError } from '../core/errors';
import { type ApprovalGate, REPORT_ONLY_GATE } from './approval';
import { needsApproval } from './definition';
import { allowance } from './perform';
import { lambdaHandler, performSteps, type Remediation, rethrow, scopedLambdaHandler } from './remediation';
import { setting } from './settings';
import { sqsBatch } from './sqs-batch';

type Example = Remediation<
  { dryRun: ReturnType<typeof setting.boolean>; limit: ReturnType<typeof setting.integer> },
  'fix',
  'audit',
  SQSEvent
>;

/**
 * A tiny remediation written the way every definition is: declaration + create(ports, settings);
 * `reversible: false` makes its fix ask the approval gate.
 */
const exampleOf = (reversible = true): Example => {
  const example: Example = {
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
        reversible,
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
        // an id list, or an event-like envelope { account, region, ids } (scope routing)
        const parsed = JSON.parse(record.body) as string[] | { ids: string[] };
        const ids = Array.isArray(parsed) ? parsed : parsed.ids;
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
  return example;
};
const example = exampleOf();

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

const APPROVALS_ENV = { ...APPROVALS_GROUP, DRY_RUN: 'false' };

/** The example with its fix declared irreversible (no `unattended`): it asks the approval gate. */
const gatedExample = exampleOf(false);

const withEnv = async <T>(env: Record<string, string>, f: () => Promise<T>): Promise<T> => {
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  try {
    return await f();
  } finally {
    vi.unstubAllEnvs();
  }
};

describe('lambdaHandler wires the approval gate of a gated remediation', () => {
  const testGate: ApprovalGate = {
    check: async (r) => ({ approved: false, reason: `test gate saw ${r.changes.length} change(s)` }),
  };

  it('needsApproval: an irreversible action without `unattended`, or a remediation whose refused runs propose', () => {
    expect(needsApproval(example)).toBe(false);
    expect(needsApproval(gatedExample)).toBe(true);
    const unattended = { ...example.actions.fix, reversible: false, unattended: 'confirmed gone' };
    expect(needsApproval({ ...example, actions: { fix: unattended } })).toBe(false);
    expect(needsApproval({ ...example, proposesRuns: true })).toBe(true);
  });

  it('builds the real gate from the approval settings when approvals are deployed, once', async () => {
    const audit = new InMemoryAuditSink();
    const approvalGate = vi.fn(() => testGate);
    const approvals = vi.fn(async () => ({ approvalGate }));
    const handler = lambdaHandler(gatedExample, () => ({ audit }), { approvals });
    await withEnv(APPROVALS_ENV, async () => {
      await handler(sqs([JSON.stringify(['i-00000000000000001'])]), {} as Context);
      await handler(sqs([JSON.stringify(['i-00000000000000002'])]), {} as Context);
    });
    expect(approvals).toHaveBeenCalledTimes(1);
    expect(approvalGate).toHaveBeenCalledWith(
      'example-fixer',
      expect.objectContaining({ proposalsTable: 'Fleet-Proposals', required: 1, twoPerson: true }),
    );
    expect(audit.all().map((r) => r.reason)).toEqual([
      'needs approval to fix the thing: broken (test gate saw 1 change(s))',
      'needs approval to fix the thing: broken (test gate saw 1 change(s))',
    ]);
  });

  it('keeps the report-only gate without approval settings, and never loads the approval wiring', async () => {
    const audit = new InMemoryAuditSink();
    const approvals = vi.fn(async () => ({ approvalGate: () => testGate }));
    const handler = lambdaHandler(gatedExample, () => ({ audit }), { approvals });
    await withEnv({ DRY_RUN: 'false' }, () =>
      handler(sqs([JSON.stringify(['i-00000000000000001'])]), {} as Context),
    );
    expect(approvals).not.toHaveBeenCalled();
    expect(audit.all()[0]?.reason).toMatch(/no approval flow is deployed/);
  });

  it('never loads the approval wiring for a remediation without a gated action', async () => {
    const approvals = vi.fn(async () => ({ approvalGate: () => testGate }));
    const handler = lambdaHandler(example, () => ({ audit: new InMemoryAuditSink() }), { approvals });
    await withEnv(APPROVALS_ENV, () => handler(sqs([]), {} as Context));
    expect(approvals).not.toHaveBeenCalled();
  });

  it('refuses approvals deployed to a gated entry that wires no approval gate (never silently report-only)', async () => {
    const handler = lambdaHandler(gatedExample, () => ({ audit: new InMemoryAuditSink() }));
    const run = withEnv(APPROVALS_ENV, () => handler(sqs([]), {} as Context));
    await expect(run).rejects.toThrow(ConfigError);
    await expect(withEnv(APPROVALS_ENV, () => handler(sqs([]), {} as Context))).rejects.toThrow(
      /example-fixer: approvals are deployed \(PROPOSALS_TABLE\) but its entry wires no approval gate/,
    );
  });

  it('refuses a partial approval group with the variables missing', async () => {
    const approvals = vi.fn(async () => ({ approvalGate: () => testGate }));
    const handler = lambdaHandler(gatedExample, () => ({ audit: new InMemoryAuditSink() }), { approvals });
    await expect(withEnv({ PROPOSALS_TABLE: 'P' }, () => handler(sqs([]), {} as Context))).rejects.toThrow(
      /DECISIONS_TABLE=<unset>/,
    );
  });

  it('a fixed gate (tests) wins over the environment', async () => {
    const audit = new InMemoryAuditSink();
    const handler = lambdaHandler(gatedExample, () => ({ audit }), { gate: testGate });
    await withEnv({ DRY_RUN: 'false' }, () =>
      handler(sqs([JSON.stringify(['i-00000000000000001'])]), {} as Context),
    );
    expect(audit.all()[0]?.reason).toMatch(/test gate saw 1 change/);
  });
});

describe('scopedLambdaHandler: the adapters get the scope each event acts in', () => {
  const HUB = { account: '111111111111', region: 'eu-west-1' };
  const SPOKE = { account: '222222222222', region: 'us-east-1' };
  const topology = { hub: HUB, spokes: [SPOKE], fleetId: 'prod', partition: 'aws' };
  it("builds one set of ports per scope; records carry the scope's account and region; unknown accounts are refused", async () => {
    const audit = new InMemoryAuditSink();
    const scopes: unknown[] = [];
    const handler = scopedLambdaHandler(
      example,
      (_settings, scope) => {
        scopes.push(scope);
        return { audit };
      },
      { topology: () => topology, gate: REPORT_ONLY_GATE },
    );
    // the account/region an EventBridge event carries at its top level
    const body = (account: string, region: string, id: string) =>
      JSON.stringify({ account, region, ids: [id] });
    const res = await handler(
      sqs([
        body(SPOKE.account, SPOKE.region, 'i-00000000000000005'),
        body('333333333333', SPOKE.region, 'i-00000000000000006'),
      ]),
      {} as Context,
    );
    expect(res).toEqual({ batchItemFailures: [] });
    // the hub's ports (its audit sink takes the refusals), then the spoke's when its event came
    expect(scopes).toEqual([HUB, SPOKE]);
    const refused = audit.all().find((r) => r.action === 'trust.unknown-account');
    expect(refused?.details).toMatchObject({ account: '333333333333' });
    const fixed = audit.all().find((r) => r.subject.instanceId === 'i-00000000000000005');
    expect(fixed).toMatchObject({ action: 'thing.fix', account: SPOKE.account, region: SPOKE.region });
    expect(audit.all().some((r) => r.subject.instanceId === 'i-00000000000000006')).toBe(false);
  });
});
