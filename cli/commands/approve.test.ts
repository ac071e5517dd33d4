import { describe, expect, it } from 'vitest';
import type { Decision, Proposal } from '../../shared/approvals/model';
import {
  ACCOUNT,
  ALICE,
  APPROVER_ROLE_ARN,
  aDecision,
  aProposal,
  approverSession,
  OUTPUTS,
  seeded,
} from '../approvals/testing/seed';
import { EXIT } from '../errors';
import { runCli } from '../program';
import { command as approve } from './approve';
import { command as reject } from './reject';

const NOW = '2026-11-30T10:00:00.000Z';
const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
const CAROL = `arn:aws:sts::${ACCOUNT}:assumed-role/OnCall/carol`;
const proposal = aProposal();
type T = Awaited<ReturnType<typeof seeded>>;
const run = (t: T, ...args: string[]) => runCli(['node', 'fleetwarden', ...args], t.deps, [approve, reject]);

async function as(
  caller: string,
  proposals: Proposal[] = [proposal],
  decisions: Decision[] = [],
  outputs: Record<string, string> = OUTPUTS,
) {
  const t = await seeded(NOW, proposals, decisions, outputs);
  t.approvals.identity.callerArn = caller;
  return t;
}

describe('fleetwarden approve', () => {
  it('writes the decision under an Approver session named after the caller, and says what happens next', async () => {
    const t = await as(ALICE);
    expect(await run(t, 'approve', proposal.id, '--reason', 'checked: vol-0abc is unused')).toBe(EXIT.ok);
    expect(t.approvals.identity.assumed).toEqual([{ roleArn: APPROVER_ROLE_ARN, sessionName: 'alice' }]);
    const [write] = t.approvals.decisions.writes();
    expect(write?.principal).toBe(approverSession('alice'));
    expect(write?.decision).toEqual({
      proposalId: proposal.id,
      fingerprint: proposal.fingerprint,
      decision: 'approve',
      reason: 'checked: vol-0abc is unused',
      approver: { arn: ALICE, sessionArn: approverSession('alice'), account: ACCOUNT },
      decidedAt: NOW,
      requestIds: ['sts-who-0001', 'sts-assume-0002', 'sts-session-0003'],
    });
    expect(t.approvals.opened).toContain('writer:Fleetwarden-Decisions');
    expect(t.stdout()).toMatchInlineSnapshot(`
      "approved fwp-d7n34i2zq6va as arn:aws:sts::123456789012:assumed-role/OnCall/alice
        reason:   checked: vol-0abc is unused
        session:  arn:aws:sts::123456789012:assumed-role/FleetwardenApprover/alice
        requests: STS sts-who-0001, sts-assume-0002, sts-session-0003; DynamoDB PutItem ddb-put-0001
      Proposal fwp-d7n34i2zq6va: APPROVED: approved by arn:aws:sts::123456789012:assumed-role/OnCall/alice
      Next: orphaned-volumes acts on it at its next run (every 30 min) after re-checking the facts: the same plan -> it acts once and audits (details.approval); a changed plan -> void, and a fresh proposal
        follow it: fleetwarden show fwp-d7n34i2zq6va
      "
    `);
  });

  it('prints JSON for scripts: the decision written, the PutItem request ids, the judgement and what next', async () => {
    const t = await as(ALICE);
    expect(await run(t, 'approve', proposal.id, '--reason', 'ok', '--json')).toBe(EXIT.ok);
    const parsed = JSON.parse(t.stdout());
    expect(parsed).toMatchObject({
      decision: { proposalId: proposal.id, decision: 'approve', approver: { arn: ALICE } },
      putItemRequestIds: ['ddb-put-0001'],
      judgement: { state: 'approved', judged: true },
    });
    expect(parsed.next).toContain('orphaned-volumes acts on it at its next run');
  });

  it('writes a rejection the same way; nothing will be done', async () => {
    const t = await as(ALICE);
    expect(await run(t, 'reject', proposal.id, '--reason', 'that volume holds the only copy')).toBe(EXIT.ok);
    expect(t.approvals.decisions.writes()[0]?.decision).toMatchObject({
      decision: 'reject',
      reason: 'that volume holds the only copy',
    });
    expect(t.stdout()).toContain('Next: nothing: rejected');
  });

  it('requires a non-empty --reason (exit 2)', async () => {
    const t = await as(ALICE);
    expect(await run(t, 'approve', proposal.id)).toBe(EXIT.usage);
    expect(t.stderr()).toContain("error: required option '--reason <text>' not specified");
    const u = await as(ALICE);
    expect(await run(u, 'reject', proposal.id, '--reason', '   ')).toBe(EXIT.usage);
    expect(u.stderr()).toContain('--reason must say why (it is shown to everyone who reads the proposal)');
    expect(u.approvals.decisions.writes()).toEqual([]);
  });

  it('refuses an unknown id (exit 3) without assuming the Approver role', async () => {
    const t = await as(ALICE);
    expect(await run(t, 'approve', 'fwp-nope', '--reason', 'x')).toBe(EXIT.unknownSubject);
    expect(t.approvals.identity.assumed).toEqual([]);
  });

  it.each([
    [
      'approved',
      { status: 'approved' as const, statusReason: `approved by ${CAROL}` },
      'is approved already',
    ],
    ['executed', { status: 'executed' as const }, 'is executed already'],
    ['void', { status: 'void' as const, statusReason: 'sizeGiB: 100 -> 200' }, 'is void'],
    ['expired', { expiresAt: '2026-11-30T09:00:00.000Z' }, 'is expired'],
  ])('refuses a proposal that is not open (%s), exit 8, nothing written', async (_, over, text) => {
    const p = aProposal(over);
    // a stored approval stands on its honoured decisions (judge): carol approved it
    const t = await as(ALICE, [p], p.status === 'approved' ? [aDecision(p, CAROL)] : []);
    expect(await run(t, 'approve', p.id, '--reason', 'ok')).toBe(EXIT.refused);
    expect(t.stderr()).toContain(`fleetwarden: proposal ${p.id} ${text}`);
    expect(t.approvals.decisions.writes().filter((w) => w.decision.approver.arn === ALICE)).toEqual([]);
    expect(t.approvals.identity.assumed).toEqual([]);
  });

  it('refuses (exit 8) a proposal whose stored changes do not hash to its fingerprint: tampered, nothing written', async () => {
    const real = aProposal();
    const shown = {
      ...real,
      changes: [{ ...real.changes[0], facts: { volumeId: 'vol-other' } }],
    } as Proposal;
    const t = await as(ALICE, [shown]);
    expect(await run(t, 'approve', shown.id, '--reason', 'ok')).toBe(EXIT.refused);
    expect(t.stderr()).toContain('do not hash to its fingerprint');
    expect(t.approvals.decisions.writes()).toEqual([]);
    expect(t.approvals.identity.assumed).toEqual([]);
  });

  it('refuses a caller the fleet would not honour: not a configured approver, or the proposer (two-person rule)', async () => {
    const t = await as(BOB);
    expect(await run(t, 'approve', proposal.id, '--reason', 'ok')).toBe(EXIT.refused);
    expect(t.stderr()).toContain(
      `fleetwarden: ${BOB} is not a configured approver (arn:aws:iam::${ACCOUNT}:role/OnCall): the fleet would ignore this decision`,
    );
    expect(t.stderr()).toContain('hint: approve as one of the configured approvers');
    const mine = aProposal({ proposedBy: { ...proposal.proposedBy, principal: ALICE } });
    const u = await as(ALICE, [mine]);
    expect(await run(u, 'approve', mine.id, '--reason', 'ok')).toBe(EXIT.refused);
    expect(u.stderr()).toContain(`${ALICE} proposed it (two-person rule: the approver must be someone else)`);
    expect([...t.approvals.decisions.writes(), ...u.approvals.decisions.writes()]).toEqual([]);
  });

  it('refuses a second decision by the same approver', async () => {
    const two = { ...OUTPUTS, ApprovalsRequired: '2' };
    const t = await as(ALICE, [proposal], [aDecision(proposal, ALICE)], two);
    expect(await run(t, 'reject', proposal.id, '--reason', 'changed my mind')).toBe(EXIT.refused);
    expect(t.stderr()).toContain(
      `fleetwarden: ${ALICE} decided ${proposal.id} already (approve at 2026-11-30T08:30:00.000Z); a decision is never overwritten`,
    );
  });

  it('with two approvals required, says how many more are needed', async () => {
    const two = { ...OUTPUTS, ApprovalsRequired: '2' };
    const t = await as(ALICE, [proposal], [], two);
    expect(await run(t, 'approve', proposal.id, '--reason', 'ok')).toBe(EXIT.ok);
    expect(t.stdout()).toContain('Next: it waits for 1 more approval(s) (1 of 2)');
  });

  it('without the configured approvers, writes the decision and says the fleet will judge it', async () => {
    const { Approvers: _, ...outputs } = OUTPUTS;
    const t = await as(BOB, [proposal], [], outputs);
    expect(await run(t, 'approve', proposal.id, '--reason', 'ok')).toBe(EXIT.ok);
    expect(t.stderr()).toContain('the fleet judges the decisions');
    expect(t.stdout()).toContain('the fleet judges whether it honours it');
    expect(t.approvals.decisions.writes()).toHaveLength(1);
  });

  it('takes the Approver role from --approver-role-arn, and refuses (exit 2) when there is none', async () => {
    const other = `arn:aws:iam::${ACCOUNT}:role/OtherApprover`;
    const { Approvers: _, ApproverRoleArn: __, ...outputs } = OUTPUTS;
    const t = await as(ALICE, [proposal], [], outputs);
    expect(await run(t, 'approve', proposal.id, '--reason', 'ok', '--approver-role-arn', other)).toBe(
      EXIT.ok,
    );
    expect(t.approvals.identity.assumed[0]?.roleArn).toBe(other);
    const u = await as(ALICE, [proposal], [], outputs);
    expect(await run(u, 'approve', proposal.id, '--reason', 'ok')).toBe(EXIT.usage);
    expect(u.stderr()).toContain(
      'no Approver role: pass --approver-role-arn, deploy the approvals (stack output ApproverRoleArn of Fleetwarden) or set FLEETWARDEN_APPROVER_ROLE_ARN',
    );
  });

  it('says so (exit 6) when the caller may not assume the Approver role', async () => {
    const t = await as(ALICE);
    t.approvals.identity.deny = `User: ${ALICE} is not authorized to perform: sts:AssumeRole`;
    expect(await run(t, 'approve', proposal.id, '--reason', 'ok')).toBe(EXIT.accessDenied);
    expect(t.stderr()).toContain(`cannot assume the Approver role ${APPROVER_ROLE_ARN} as ${ALICE}`);
    expect(t.stderr()).toContain('hint: only the configured approvers may assume the Approver role');
    expect(t.approvals.decisions.writes()).toEqual([]);
  });
});
