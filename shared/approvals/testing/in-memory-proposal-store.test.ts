import { describe, expect, it } from 'vitest';
import { ProposalStoreError } from '../errors';
import { aProposal } from './fixtures';
import { InMemoryProposalStore } from './in-memory-proposal-store';
import { describeProposalStoreContract } from './proposal-store.contract';

describeProposalStoreContract('InMemoryProposalStore', () => new InMemoryProposalStore());

describe('InMemoryProposalStore faults', () => {
  it('fails the next call with a ProposalStoreError when told to, then works again', async () => {
    const store = new InMemoryProposalStore();
    store.failNext();
    await expect(store.create(aProposal())).rejects.toBeInstanceOf(ProposalStoreError);
    expect(await store.create(aProposal())).toBe('created');
  });

  it('hands out copies: a caller mutating what it read changes nothing stored', async () => {
    const store = new InMemoryProposalStore();
    const p = aProposal();
    await store.create(p);
    const read = (await store.get(p.id)) as { status: string };
    read.status = 'executed';
    expect((await store.get(p.id))?.status).toBe('open');
  });
});
