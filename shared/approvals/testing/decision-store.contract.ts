import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Proposal } from '../model';
import type { DecisionReader, DecisionWriter } from '../port';
import { ACCOUNT, ALICE, aDecision, aProposal, BOB } from './fixtures';

/** The decisions table as the gate and the CLI rely on it: fake and adapter alike. */
export function describeDecisionStoreContract(
  name: string,
  make: () => DecisionReader & DecisionWriter,
): void {
  describe(`DecisionReader/DecisionWriter contract: ${name}`, () => {
    let store: DecisionReader & DecisionWriter;
    // every test decides its own proposal: a live table keeps what earlier tests wrote
    let p: Proposal;
    beforeEach(() => {
      store = make();
      p = aProposal({ function: `orphaned-volumes-${randomUUID().slice(0, 8)}` });
    });

    it('writes a decision and reads it back as it was written', async () => {
      const d = aDecision(p, ALICE, {
        approver: { ...aDecision(p, ALICE).approver, userId: 'AROAEXAMPLE:alice' },
      });
      expect(await store.decide(d)).toBe('written');
      expect(await store.decisions(p.id)).toEqual([d]);
    });

    it('never overwrites a decision: the second one of the same approver answers "exists"', async () => {
      const first = aDecision(p, ALICE);
      await store.decide(first);
      expect(await store.decide({ ...first, decision: 'reject', reason: 'changed my mind' })).toBe('exists');
      expect(await store.decisions(p.id)).toEqual([first]);
    });

    it("reads every decision of a proposal, across pages, and no other proposal's", async () => {
      const approvers = Array.from({ length: 7 }, (_, i) => `arn:aws:iam::${ACCOUNT}:user/approver-${i}`);
      for (const a of approvers) await store.decide(aDecision(p, a));
      await store.decide(aDecision({ id: `${p.id}-other`, fingerprint: p.fingerprint }, BOB));
      const read = await store.decisions(p.id);
      expect(read.map((d) => d.approver.arn).sort()).toEqual([...approvers].sort());
      expect(read.every((d) => d.proposalId === p.id)).toBe(true);
      expect(await store.decisions(`${p.id}-nothing`)).toEqual([]);
    });
  });
}
