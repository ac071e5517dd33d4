import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { CHAOS_DAY } from '../../bench/chaos-day.bench';
import { LAG_RETRY_SECONDS } from '../../functions/dns-sync/definition';
import { REMEDIATIONS } from '../../functions/registry';
import { ThrottledError } from '../../shared/core/errors';
import { sqsRecord, stateChangeEvent } from '../../shared/dns/testing/state-change-event';
import { RunnerListingError } from '../../shared/github/errors';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { synthesizeFleet } from './routing';
import { fleetConfigFor } from './simulate';
import { GITHUB_SIM, simulatedGate, World, wireFunction } from './world';

describe('simulated GitHub runner registry', () => {
  it('pages like GitHub with a small page size, so listings take several pages', async () => {
    const w = new World({ now: 0 }, () => 0.5);
    for (let i = 0; i < 25; i++) w.registry.register({ name: `r-${i}` });
    expect(await w.registry.listRunners()).toHaveLength(25);
    expect(GITHUB_SIM.perPage).toBeLessThanOrEqual(10);
    expect(w.registry.calls.listPages).toBe(Math.ceil(25 / GITHUB_SIM.perPage));
  });

  it('enforces the rate-limit window: spent budget throttles until the window resets', async () => {
    const clock = { now: 0 };
    const w = new World(clock, () => 0.5);
    const r = w.registry.register({ name: 'r' });
    expect(GITHUB_SIM.rateWindowMs).toBeLessThan(3_600_000);
    for (let i = 0; i < GITHUB_SIM.rateLimit; i++) await w.registry.getRunner(r.id);
    await expect(w.registry.getRunner(r.id)).rejects.toBeInstanceOf(ThrottledError);
    await expect(w.registry.listRunners()).rejects.toBeInstanceOf(RunnerListingError);
    expect(w.registry.rateLimited).toBe(2);
    clock.now += GITHUB_SIM.rateWindowMs;
    expect((await w.registry.getRunner(r.id))?.name).toBe('r');
  });

  it("takes another budget when the scenario gives one (chaos day: GitHub's documented 5,000/h)", async () => {
    const w = new World({ now: 0 }, () => 0.5, { requests: 3, windowMs: 60_000 });
    const r = w.registry.register({ name: 'r' });
    for (let i = 0; i < 3; i++) await w.registry.getRunner(r.id);
    await expect(w.registry.getRunner(r.id)).rejects.toBeInstanceOf(ThrottledError);
    expect(CHAOS_DAY.githubRateLimit).toEqual({ requests: 5000, windowMs: 3_600_000 });
  });

  it("wires dns-sync as deployed: a lagging instance's message asks for a 20 s retry (ChangeMessageVisibility)", async () => {
    const clock = { now: Date.parse('2026-11-24T08:00:00Z') };
    const w = new World(clock, () => 0.5);
    const asked: Array<{ messageId: string; seconds: number }> = [];
    w.onMessageRetry = (m, seconds) => asked.push({ messageId: m.messageId, seconds });
    // as synthesized: resource tokens are rendered "sim-<logical id>" (routing.ts)
    const env = {
      AUDIT_TABLE_NAME: 'sim-AuditTable',
      QUEUE_URL: 'sim-DnsSyncQueue',
      HOSTED_ZONE_ID: 'Z0SIM',
      ZONE_NAME: 'fleet.example.internal',
    };
    const invoke = wireFunction({ logicalId: 'Dns', entry: 'functions/dns-sync/index.ts', env }, w);
    // DescribeInstances does not show the instance yet
    const event = stateChangeEvent('i-0000000000000000a', 'running', clock.now);
    const res = (await invoke?.({ Records: [sqsRecord(event, 'm-1', clock.now)] }, {} as Context)) as {
      batchItemFailures: Array<{ itemIdentifier: string }>;
    };
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(asked).toEqual([{ messageId: 'm-1', seconds: LAG_RETRY_SECONDS }]);
  });

  it('wires every behaviour setting each handler reads from its environment (no silent default)', () => {
    // settings only the real adapters need (ARNs, URLs, table names, caches) have no fake counterpart
    const adapterOnly = new Set([
      'AWS_REGION',
      'DRAIN_QUEUE_URL',
      'QUEUE_URL',
      'WEBHOOK_SECRET_ARN',
      'EVENT_BUS_NAME',
      'IDEMPOTENCY_TABLE',
      'SECRET_CACHE_SECONDS',
    ]);
    const root = new URL('../../', import.meta.url);
    const wiring = readFileSync(new URL('cli/simulate/world.ts', root), 'utf8');
    const unwired: string[] = [];
    for (const dir of readdirSync(new URL('functions/', root), { withFileTypes: true })) {
      if (!dir.isDirectory()) continue;
      const fn = dir.name;
      // a function built from its definition gets its settings through fromDefinition (readSettings)
      if (existsSync(new URL(`functions/${fn}/definition.ts`, root))) {
        if (!/fromDefinition\(\w+, w, [\w.]*env\)/.test(wiring))
          unwired.push(`${fn}: not wired fromDefinition`);
        continue;
      }
      const src = readFileSync(new URL(`functions/${fn}/handler.ts`, root), 'utf8');
      for (const [, name] of src.matchAll(/^\s+([A-Z][A-Z0-9_]+): z\./gm)) {
        if (!adapterOnly.has(name as string) && !wiring.includes(`env.${name}`))
          unwired.push(`${fn}: ${name}`);
      }
    }
    expect(unwired).toEqual([]);
  });

  it('wires every registered definition from its definition, its settings read from the synthesized environment', async () => {
    const routing = synthesizeFleet(fleetConfigFor({}));
    const w = new World({ now: Date.parse('2026-11-24T08:00:00Z') }, () => 0.5);
    // the simulated stack configures no approval flow: what only it deploys (needsApprovals) is absent
    for (const definition of REMEDIATIONS.filter((d) => !('needsApprovals' in d && d.needsApprovals))) {
      const route = [...routing.functions.values()].find((f) => f.entry === definition.entry);
      expect(
        route,
        `${definition.name} is not in the synthesized stack as ${definition.entry}`,
      ).toBeDefined();
      const invoke = route && wireFunction(route, w);
      expect(invoke, `${definition.name} is not wired`).toBeTypeOf('function');
    }
  });
});

describe('simulated approvals', () => {
  const env = {
    PROPOSALS_TABLE: 'sim-Proposals',
    DECISIONS_TABLE: 'sim-Decisions',
    PROPOSAL_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:sim-Topic',
    APPROVER_ROLE_ARN: 'arn:aws:iam::123456789012:role/fleetwarden-approver',
    APPROVERS: 'arn:aws:iam::123456789012:role/OnCall',
  };
  const request = {
    function: 'orphaned-volumes',
    why: 'irreversible' as const,
    reason: 'orphaned',
    changes: [
      {
        kind: 'delete',
        action: 'volume.delete',
        subject: { recordName: 'vol-1' },
        reason: 'orphaned',
        facts: { volumeId: 'vol-1' },
      },
    ],
    trigger: { source: 'fleetwarden.schedule', id: 'run-1' },
    triggerId: 'run-1',
    claimant: 'rec-1',
  };

  it('gives a remediation that needs approval the proposal gate when approvals are deployed', async () => {
    const w = new World({ now: 0 }, () => 0.5);
    const volumes = REMEDIATIONS.find((d) => d.name === 'orphaned-volumes');
    const dns = REMEDIATIONS.find((d) => d.name === 'dns-sync');
    if (!volumes || !dns) throw new Error('registry changed');
    const verdict = await simulatedGate(volumes, w, env).check(request);
    expect(verdict).toMatchObject({ approved: false, proposalId: expect.stringMatching(/^fwp-/) });
    expect(await w.proposals.list()).toHaveLength(1);
    expect(w.notifier.sent).toHaveLength(1);
    expect(simulatedGate(dns, w, env)).toBe(REPORT_ONLY_GATE);
    expect(simulatedGate(volumes, w, {})).toBe(REPORT_ONLY_GATE);
  });

  it("writes a fleet function's decision as the function's role: the table's resource policy denies it", async () => {
    const w = new World({ now: 0 }, () => 0.5);
    w.decisions.denyWritesExceptSessionsOf(env.APPROVER_ROLE_ARN);
    const asFunction = w.decisionsAs('orphaned-volumes');
    await expect(
      asFunction.decide({
        proposalId: 'fwp-x',
        fingerprint: 'f',
        decision: 'approve',
        reason: 'self-approved',
        approver: { arn: 'a', sessionArn: 's', account: '123456789012' },
        decidedAt: '2026-11-30T00:00:00.000Z',
        requestIds: [],
      }),
    ).rejects.toThrow();
    expect(w.decisions.denied()).toMatchObject([{ principal: expect.stringContaining('orphaned-volumes') }]);
  });
});
