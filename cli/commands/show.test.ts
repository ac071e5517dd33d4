import { describe, expect, it } from 'vitest';
import { ACCOUNT, ALICE, aDecision, aProposal, approverSession, seeded } from '../approvals/testing/seed';
import { EXIT } from '../errors';
import { runCli } from '../program';
import { command } from './show';

const NOW = '2026-11-30T10:00:00.000Z';
const MALLORY = `arn:aws:iam::${ACCOUNT}:user/mallory`;
const proposal = aProposal({
  proposedBy: {
    function: 'orphaned-volumes',
    trigger: { source: 'fleetwarden.schedule', id: 'sched-1', time: '2026-11-30T08:00:00Z' },
  },
});
const run = (t: Awaited<ReturnType<typeof seeded>>, ...args: string[]) =>
  runCli(['node', 'fleetwarden', 'show', ...args], t.deps, [command]);

describe('fleetwarden show', () => {
  it('shows what, why, blast radius, evidence, expiry, the decisions judged, what happens next and the commands', async () => {
    const forged = aDecision(proposal, MALLORY, {
      decidedAt: '2026-11-30T09:00:00.000Z',
      reason: 'yolo',
      approver: { arn: MALLORY, sessionArn: approverSession('mallory'), account: ACCOUNT },
    });
    const t = await seeded(NOW, [proposal], [forged]);
    expect(await run(t, proposal.id)).toBe(EXIT.ok);
    expect(t.stdout()).toMatchInlineSnapshot(`
      "Proposal fwp-d7n34i2zq6va: OPEN
        waits for 1 approval(s) from arn:aws:iam::123456789012:role/OnCall (expires 2026-12-01T08:00:00.000Z)

      Summary:      delete EBS volume vol-0abc (100 GiB)
      Why:          irreversible: orphaned volume of a terminated fleet instance
      Blast radius: 1 EBS volume
      Proposed:     2026-11-30T08:00:00.000Z by orphaned-volumes (trigger fleetwarden.schedule sched-1 at 2026-11-30T08:00:00Z)
      Expires:      2026-12-01T08:00:00.000Z (in 22h)
      Fingerprint:  e8c559726115e4d4976d4c485a15c25bc2d2358f403dd0f6da05f830c27170f4

      What (1 planned change):
        1. volume.delete (delete) instanceId=i-0123456789abcdef0
           why: orphaned volume vol-0abc of terminated fleet instance i-0123456789abcdef0
           facts: volumeId=vol-0abc sizeGiB=100 state=available

      Evidence:
        trigger record:    sched-1
        audit records:     orphaned-volumes:abc
        CloudTrail events: ev-1

      Decisions (1):
        2026-11-30T09:00:00.000Z  approve by arn:aws:iam::123456789012:user/mallory: "yolo"
           IGNORED: arn:aws:iam::123456789012:user/mallory is not a configured approver; session arn:aws:sts::123456789012:assumed-role/FleetwardenApprover/mallory; requests req-assume-role, req-put-item

      Next: it waits for 1 approval(s) from arn:aws:iam::123456789012:role/OnCall (expires 2026-12-01T08:00:00.000Z); once approved, orphaned-volumes acts on it at its next run (every 30 min) after re-checking the facts (a changed plan voids it and proposes afresh)

      Commands:
        fleetwarden approve fwp-d7n34i2zq6va --reason "…"
        fleetwarden reject fwp-d7n34i2zq6va --reason "…"
        fleetwarden timeline i-0123456789abcdef0
      "
    `);
  });

  it('says which decision the fleet honours, and what happens next once approved', async () => {
    const t = await seeded(NOW, [proposal], [aDecision(proposal, ALICE)]);
    await run(t, proposal.id);
    expect(t.stdout()).toContain(`approve by ${ALICE}`);
    expect(t.stdout()).toContain('HONOURED');
    expect(t.stdout()).toMatch(
      /orphaned-volumes acts on it at its next run \(every 30 min\) after re-checking the facts/,
    );
  });

  it('prints JSON with the proposal, the judgement and the commands', async () => {
    const t = await seeded(NOW, [proposal], [aDecision(proposal, ALICE)]);
    await run(t, proposal.id, '--json');
    const parsed = JSON.parse(t.stdout());
    expect(parsed.proposal).toEqual(proposal);
    expect(parsed.judgement).toMatchObject({
      state: 'approved',
      reason: `approved by ${ALICE}`,
      judged: true,
    });
    expect(parsed.decisions).toEqual([
      expect.objectContaining({ approver: expect.objectContaining({ arn: ALICE }), honoured: true }),
    ]);
    expect(parsed.next).toContain('orphaned-volumes acts on it at its next run');
    expect(parsed.commands).toEqual([
      `fleetwarden approve ${proposal.id} --reason "…"`,
      `fleetwarden reject ${proposal.id} --reason "…"`,
      'fleetwarden timeline i-0123456789abcdef0',
    ]);
  });

  it('refuses an unknown id (exit 3) and points at the list', async () => {
    const t = await seeded(NOW, [proposal]);
    expect(await run(t, 'fwp-nope')).toBe(EXIT.unknownSubject);
    expect(t.stderr()).toContain(
      'fleetwarden: no proposal fwp-nope in Fleetwarden-Proposals (eu-west-1)\n  hint: list them with: fleetwarden proposals',
    );
  });
});
