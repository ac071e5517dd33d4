import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { ExecutionClaimError } from '../errors';
import type { Proposal } from '../model';
import type { ProposalStore } from '../port';
import { aChange, aProposal as fixture } from './fixtures';

const AT = '2026-11-30T09:00:00.000Z';
const LATER = '2026-11-30T09:05:00.000Z';

/**
 * The proposals table as the gate, the CLI and the expiry sweep rely on it: fake and adapter alike,
 * and a real table (dynamodb-stores.live.test.ts). Every test uses its own function name (and so its
 * own keys and ids): a live table keeps what earlier tests wrote.
 */
export function describeProposalStoreContract(name: string, make: () => ProposalStore): void {
  describe(`ProposalStore contract: ${name}`, () => {
    let store: ProposalStore;
    let fn: string;
    const aProposal = (over: Partial<Proposal> = {}) => fixture({ function: fn, ...over });
    beforeEach(() => {
      store = make();
      fn = `orphaned-volumes-${randomUUID().slice(0, 8)}`;
    });

    it('creates a proposal once and reads it back as it was written', async () => {
      const p = aProposal({
        supersedes: 'fwp-older0000000',
        proposedBy: { ...aProposal().proposedBy, principal: 'x' },
      });
      expect(await store.create(p)).toBe('created');
      expect(await store.get(p.id)).toEqual(p);
      expect(await store.get('fwp-unknown00000')).toBeUndefined();
    });

    it('answers "exists" for a second create of the same id and keeps the first (at-least-once runs)', async () => {
      const p = aProposal();
      await store.create(p);
      expect(await store.create({ ...p, summary: 'another run' })).toBe('exists');
      expect((await store.get(p.id))?.summary).toBe(p.summary);
    });

    it('lists the proposals of one key newest first, and only those', async () => {
      const older = aProposal({ createdAt: '2026-11-29T08:00:00.000Z' });
      const newer = aProposal({ createdAt: '2026-11-30T08:00:00.000Z' });
      const other = aProposal({ changes: [aChange({ subject: { instanceId: 'i-0fedcba9876543210' } })] });
      for (const p of [newer, other, older]) await store.create(p);
      expect((await store.byKey(older.key)).map((p) => p.id)).toEqual([newer.id, older.id]);
      expect(await store.byKey(`${fn}#nothing`)).toEqual([]);
    });

    it('lists newest first, filtered by status and function, up to a limit', async () => {
      const ps = [1, 2, 3, 4].map((d) => aProposal({ createdAt: `2026-11-2${d}T08:00:00.000Z` }));
      const sweepFn = `runner-sweep-${fn}`;
      const sweep = aProposal({
        function: sweepFn,
        key: `${sweepFn}#run`,
        createdAt: '2026-11-25T08:00:00.000Z',
      });
      for (const p of [...ps, sweep]) await store.create(p);
      await store.transition(ps[1]?.id ?? '', ['open'], 'rejected', 'no', AT);
      const ours = (list: Proposal[]) => list.filter((p) => p.function === fn || p.function === sweepFn);
      expect(ours(await store.list()).map((p) => p.createdAt)).toEqual([
        sweep.createdAt,
        ...[4, 3, 2, 1].map((d) => `2026-11-2${d}T08:00:00.000Z`),
      ]);
      expect(ours(await store.list({ status: 'open' })).map((p) => p.id)).toEqual([
        sweep.id,
        ps[3]?.id,
        ps[2]?.id,
        ps[0]?.id,
      ]);
      expect((await store.list({ status: 'open', function: fn, limit: 2 })).map((p) => p.id)).toEqual([
        ps[3]?.id,
        ps[2]?.id,
      ]);
      expect((await store.list({ status: 'rejected', function: fn })).map((p) => p.id)).toEqual([ps[1]?.id]);
      expect(await store.list({ function: sweepFn })).toEqual([sweep]);
    });

    it('transitions only from the expected statuses, recording reason and time', async () => {
      const p = aProposal();
      await store.create(p);
      expect(await store.transition(p.id, ['approved'], 'executed', 'x', AT)).toBe(false);
      expect((await store.get(p.id))?.status).toBe('open');
      expect(await store.transition(p.id, ['open', 'approved'], 'void', 'facts changed: sizeGiB', AT)).toBe(
        true,
      );
      expect(await store.get(p.id)).toEqual({
        ...p,
        status: 'void',
        statusReason: 'facts changed: sizeGiB',
        statusAt: AT,
      });
      expect(await store.transition(p.id, ['open', 'approved'], 'void', 'again', LATER)).toBe(false);
      expect(await store.transition('fwp-unknown00000', ['open'], 'void', 'x', AT)).toBe(false);
      expect(await store.get('fwp-unknown00000')).toBeUndefined();
    });

    it('claims the execution of an approved proposal for one record only; a retry of that record may claim again', async () => {
      const p = aProposal();
      await store.create(p);
      expect(await store.claimExecution(p.id, 'rec-a', AT)).toBe(false); // still open
      await store.transition(p.id, ['open'], 'approved', 'approved by alice', AT);
      expect(await store.claimExecution(p.id, 'rec-a', AT)).toBe(true);
      expect(await store.claimExecution(p.id, 'rec-b', AT)).toBe(false);
      expect(await store.claimExecution(p.id, 'rec-a', LATER)).toBe(true);
      expect((await store.get(p.id))?.execution).toEqual({ recordId: 'rec-a', claimedAt: LATER });
      expect(await store.claimExecution('fwp-unknown00000', 'rec-a', AT)).toBe(false);
    });

    it('settles an acted execution as executed; nobody claims it again', async () => {
      const p = aProposal();
      await store.create(p);
      await store.transition(p.id, ['open'], 'approved', 'approved by alice', AT);
      await store.claimExecution(p.id, 'rec-a', AT);
      await store.settleExecution(p.id, 'rec-a', 'acted', LATER);
      expect(await store.get(p.id)).toMatchObject({
        status: 'executed',
        statusAt: LATER,
        execution: { recordId: 'rec-a', claimedAt: AT, outcome: 'acted', at: LATER },
      });
      expect(await store.claimExecution(p.id, 'rec-a', LATER)).toBe(false);
      expect(await store.claimExecution(p.id, 'rec-b', LATER)).toBe(false);
    });

    it('leaves a failed execution approved, and lets another record claim it', async () => {
      const p = aProposal();
      await store.create(p);
      await store.transition(p.id, ['open'], 'approved', 'approved by alice', AT);
      await store.claimExecution(p.id, 'rec-a', AT);
      await store.settleExecution(p.id, 'rec-a', 'failed', LATER);
      expect(await store.get(p.id)).toMatchObject({
        status: 'approved',
        execution: { recordId: 'rec-a', outcome: 'failed', at: LATER },
      });
      expect(await store.claimExecution(p.id, 'rec-b', LATER)).toBe(true);
      expect((await store.get(p.id))?.execution).toEqual({ recordId: 'rec-b', claimedAt: LATER });
    });

    it('refuses to settle for a record that does not hold the claim', async () => {
      const p = aProposal();
      await store.create(p);
      await store.transition(p.id, ['open'], 'approved', 'approved by alice', AT);
      await store.claimExecution(p.id, 'rec-a', AT);
      const err = await store.settleExecution(p.id, 'rec-b', 'acted', LATER).catch((e) => e);
      expect(err).toBeInstanceOf(ExecutionClaimError);
      expect((await store.get(p.id))?.status).toBe('approved');
    });
  });
}
