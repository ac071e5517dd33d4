import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REMEDIATIONS } from '../../functions/registry';
import type { ApprovalGate } from '../../shared/kernel/approval';
import { SCENARIO_NAMES, simulateCommandWith } from '../commands/simulate';
import { runCli } from '../program';
import { testDeps } from '../test-deps';
import { SCENARIOS, SIM_APPROVER } from './approvals';
import type { Invariant } from './invariants';
import type { Summary } from './report';
import { fromDefinition, type HandlerOverrides, type World } from './world';

/**
 * The approval scenarios end to end (the sweep's breaker refuses a mass removal, the simulated
 * on-call approves, the sweep removes exactly what was approved; the facts change before the
 * approval and the proposal is void), and each approval invariant failing on a deliberately broken
 * handler.
 */
const SMALL = ['--instances', '12', '--duration', '30', '--settle', '30'];

async function run(flags: string[], overrides: HandlerOverrides = {}) {
  const out = mkdtempSync(join(tmpdir(), 'fw-sim-approvals-'));
  const t = testDeps();
  const code = await runCli(['node', 'fleetwarden', 'simulate', '--out', out, ...SMALL, ...flags], t.deps, [
    simulateCommandWith(overrides),
  ]);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as Summary;
  const records = JSON.parse(readFileSync(join(out, 'timeline.json'), 'utf8')) as Array<{
    action: string;
    decision: string;
    details?: Record<string, unknown>;
  }>;
  const timeline = { records };
  const invariant = (name: string) => summary.invariants.find((i) => i.name === name) as Invariant;
  return { code, stdout: t.stdout(), summary, timeline, invariant };
}

const sweep = REMEDIATIONS.find((d) => d.name === 'runner-sweep');
if (!sweep) throw new Error('runner-sweep is not registered');
const SWEEP = sweep.entry;

/** A gate that says yes to everything, citing a proposal nobody made (a handler skipping approval). */
const SELF_APPROVING: ApprovalGate = {
  check: async () => ({
    approved: true,
    proposalId: 'fwp-selfapproved',
    by: ['arn:aws:iam::123456789012:role/Fleetwarden-runner-sweep'],
    decisions: [],
    settle: async () => {},
  }),
};

describe('simulated approvals', () => {
  it('keeps the CLI scenario names and the simulator scenarios equal', () => {
    expect(SCENARIO_NAMES).toEqual(SCENARIOS.map((s) => s.name));
  });

  it('approvals: the breaker proposes the mass removal, the on-call approves, the sweep executes it', async () => {
    const { code, summary, timeline } = await run(['--scenario', 'approvals']);
    expect(summary.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(code).toBe(0);
    expect(summary.approvals.byStatus.executed).toBeGreaterThanOrEqual(1);
    const executed = timeline.records.filter(
      (r) => r.action === 'runner.deregister' && r.decision === 'acted' && r.details?.approval,
    );
    expect(executed.length).toBeGreaterThan(1);
    expect(executed[0]?.details?.approval).toMatchObject({
      decisions: [expect.objectContaining({ approver: SIM_APPROVER, decision: 'approve' })],
    });
  });

  it('approval-void: an approval of a plan whose facts changed is void; a fresh proposal is executed', async () => {
    const { code, summary, timeline } = await run(['--scenario', 'approval-void']);
    expect(summary.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(code).toBe(0);
    const voided = timeline.records.filter((r) => r.action === 'approval.void');
    expect(voided.length).toBeGreaterThanOrEqual(1);
    // the on-call approved the first plan after the facts changed: one decision per proposal
    expect(summary.approvals.decisions).toBeGreaterThanOrEqual(2);
    expect(summary.approvals.byStatus.executed).toBeGreaterThanOrEqual(1);
  });

  it('exits 1 when a sweep acts on its own say-so (no approval recorded before the removal)', async () => {
    const broken: HandlerOverrides = {
      [SWEEP]: (w: World, env) => fromDefinition(sweep, w, env, SELF_APPROVING),
    };
    const { code, invariant } = await run(['--scenario', 'approvals'], broken);
    expect(code).toBe(1);
    const i = invariant('no irreversible action without a valid approval recorded before it');
    expect(i.ok).toBe(false);
    expect(i.details.join('\n')).toMatch(/cites fwp-selfapproved, which is not in the proposals table/);
  });

  it('exits 1 when a fleet function writes a decision (approving its own proposal)', async () => {
    const broken: HandlerOverrides = {
      [SWEEP]: (w: World, env) => {
        const honest = fromDefinition(sweep, w, env);
        return async (event, context) => {
          for (const p of w.proposals.all().filter((x) => x.status === 'open'))
            await w
              .decisionsAs('runner-sweep')
              .decide({
                proposalId: p.id,
                fingerprint: p.fingerprint,
                decision: 'approve',
                reason: 'approving myself',
                approver: { arn: SIM_APPROVER, sessionArn: SIM_APPROVER, account: '123456789012' },
                decidedAt: w.now.toISOString(),
                requestIds: [],
              })
              .catch(() => undefined);
          return honest(event, context);
        };
      },
    };
    const { code, invariant } = await run(['--scenario', 'approvals'], broken);
    expect(code).toBe(1);
    const i = invariant('no decision written by a fleet function role');
    expect(i.ok).toBe(false);
    expect(i.details[0]).toMatch(
      /tried \(denied\) by arn:aws:sts::123456789012:assumed-role\/Fleetwarden-runner-sweep/,
    );
  });
});
