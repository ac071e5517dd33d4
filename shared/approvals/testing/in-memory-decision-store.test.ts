import { describe, expect, it } from 'vitest';
import { DecisionStoreError } from '../errors';
import { describeDecisionStoreContract } from './decision-store.contract';
import { ALICE, APPROVER_ROLE_ARN, aDecision, aProposal, approverSession } from './fixtures';
import { InMemoryDecisionStore } from './in-memory-decision-store';

describeDecisionStoreContract('InMemoryDecisionStore', () => new InMemoryDecisionStore());

describe('InMemoryDecisionStore: who wrote what', () => {
  const p = aProposal();

  it('records the principal each decision was written by (as(principal) shares the table)', async () => {
    const store = new InMemoryDecisionStore({ principal: approverSession('alice') });
    const forged = aDecision(p, ALICE, {
      approver: { ...aDecision(p, ALICE).approver, arn: 'arn:aws:iam::123456789012:user/bob' },
    });
    await store.decide(aDecision(p, ALICE));
    const asFunction = store.as(
      'arn:aws:sts::123456789012:assumed-role/orphaned-volumes-role/orphaned-volumes',
    );
    await asFunction.decide(forged);
    expect(store.writes()).toEqual([
      { principal: approverSession('alice'), decision: aDecision(p, ALICE) },
      {
        principal: 'arn:aws:sts::123456789012:assumed-role/orphaned-volumes-role/orphaned-volumes',
        decision: forged,
      },
    ]);
    expect(await asFunction.decisions(p.id)).toHaveLength(2);
  });

  it("with the table's resource policy on, refuses writes by anyone but the Approver role", async () => {
    const store = new InMemoryDecisionStore({
      approverRoleArn: APPROVER_ROLE_ARN,
      principal: approverSession('alice'),
    });
    const fn = store.as('arn:aws:sts::123456789012:assumed-role/orphaned-volumes-role/orphaned-volumes');
    const err = await fn.decide(aDecision(p, ALICE)).catch((e) => e);
    expect(err).toBeInstanceOf(DecisionStoreError);
    expect(err.message).toContain('AccessDenied');
    expect(store.denied()).toHaveLength(1);
    expect(store.writes()).toEqual([]);
    expect(await store.decide(aDecision(p, ALICE))).toBe('written');
  });

  it('fails the next call with a DecisionStoreError when told to', async () => {
    const store = new InMemoryDecisionStore();
    store.failNext();
    await expect(store.decisions(p.id)).rejects.toBeInstanceOf(DecisionStoreError);
    expect(await store.decisions(p.id)).toEqual([]);
  });
});
