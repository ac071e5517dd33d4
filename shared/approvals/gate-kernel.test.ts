import { describe, expect, it, vi } from 'vitest';
import type { AuditContext } from '../audit/audited-action';
import { InMemoryAuditSink } from '../audit/in-memory-audit-sink';
import { allowance, perform, type RunKit } from '../kernel/perform';
import { proposalGate } from './gate';
import type { ApprovalPolicy, Proposal } from './model';
import { ACCOUNT, ALICE, APPROVER_ROLE_ARN, aDecision, MALLORY } from './testing/fixtures';
import { InMemoryDecisionStore } from './testing/in-memory-decision-store';
import { InMemoryProposalStore } from './testing/in-memory-proposal-store';
import { RecordingNotifier } from './testing/recording-notifier';

/** The kernel's perform() with the real gate over the fakes: proposal, decision, one execution. */
const policy: ApprovalPolicy = {
  approvers: [`arn:aws:iam::${ACCOUNT}:role/OnCall`],
  approverRoleArn: APPROVER_ROLE_ARN,
  required: 1,
  distinctFromProposer: true,
  expirySeconds: 86_400,
};
const actions = {
  destroy: {
    audit: 'volume.delete',
    does: 'delete the volume',
    reversible: false,
    weight: 1,
    iam: () => [],
    calls: ['EC2.DeleteVolume'],
  },
} as const;
const subject = { instanceId: 'i-0123456789abcdef0', recordName: 'vol-0abc' };
const planned = (sizeGiB = 100) => ({
  kind: 'destroy',
  subject,
  reason: 'orphaned volume vol-0abc',
  facts: { volumeId: 'vol-0abc', sizeGiB },
});

function world() {
  const clock = { now: Date.parse('2026-11-30T08:00:00.000Z') };
  const proposals = new InMemoryProposalStore();
  const decisions = new InMemoryDecisionStore();
  const gate = proposalGate(
    { proposals, decisions, notifier: new RecordingNotifier() },
    policy,
    () => new Date(clock.now),
  );
  const audit = new InMemoryAuditSink();
  const run = (n: number): RunKit => {
    clock.now += 60 * 60_000;
    const ctx: AuditContext = {
      function: 'orphaned-volumes',
      trigger: { source: 'fleetwarden.schedule', id: `run-${n}` },
      mode: 'live',
      now: () => new Date(clock.now),
    };
    return {
      spec: { name: 'orphaned-volumes', actions },
      audit,
      ctx,
      dryRun: false,
      gate,
      allowance: allowance(10),
    };
  };
  const approve = async (arn = ALICE) => {
    const [p] = proposals.all() as [Proposal];
    await decisions.decide(aDecision(p, arn, { decidedAt: new Date(clock.now).toISOString() }));
  };
  const records = (trigger: string) =>
    audit
      .all()
      .filter((r) => r.trigger.id === trigger)
      .map((r) => [r.action, r.decision]);
  return { proposals, audit, run, approve, records };
}

describe('perform() with the proposal gate', () => {
  it('proposes, then acts once after an honoured approval, with the approval in the record', async () => {
    const w = world();
    const act = vi.fn(async () => ({ decision: 'acted' as const }));
    expect((await perform(w.run(1), planned(), act)).decision).toBe('reported');
    expect(w.records('run-1')).toEqual([
      ['volume.delete', 'reported'],
      ['approval.proposed', 'reported'],
    ]);
    await w.approve();
    expect((await perform(w.run(2), planned(), act)).decision).toBe('acted');
    const acted = w.audit.all().find((r) => r.trigger.id === 'run-2');
    expect(acted?.details?.approval).toMatchObject({ proposalId: w.proposals.all()[0]?.id, by: [ALICE] });
    expect(w.proposals.all()[0]?.status).toBe('executed');
    const again = await perform(w.run(3), planned(), act);
    expect(again.decision).toBe('reported');
    expect(again.reason).toContain('already executed by record');
    expect(act).toHaveBeenCalledTimes(1);
  });

  it('never acts on a decision by a non-approver; the record says why', async () => {
    const w = world();
    const act = vi.fn(async () => ({ decision: 'acted' as const }));
    await perform(w.run(1), planned(), act);
    await w.approve(MALLORY);
    const out = await perform(w.run(2), planned(), act);
    expect(out.decision).toBe('reported');
    expect(out.reason).toContain(`${MALLORY} is not a configured approver`);
    expect(act).not.toHaveBeenCalled();
  });

  it('voids an approved proposal whose facts changed, audits it, and does not act', async () => {
    const w = world();
    const act = vi.fn(async () => ({ decision: 'acted' as const }));
    await perform(w.run(1), planned(100), act);
    await w.approve();
    expect((await perform(w.run(2), planned(200), act)).decision).toBe('reported');
    expect(w.records('run-2')).toEqual([
      ['volume.delete', 'reported'],
      ['approval.void', 'reported'],
      ['approval.proposed', 'reported'],
    ]);
    expect(act).not.toHaveBeenCalled();
  });
});
