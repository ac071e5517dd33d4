import { describe, expect, it } from 'vitest';
import { SweepStateError } from './errors';
import { InMemorySweepState } from './in-memory-sweep-state';
import { describeSweepStateContract } from './sweep-state.contract';

describeSweepStateContract('InMemorySweepState', (clock) => new InMemorySweepState(() => clock.now));

describe('InMemorySweepState faults', () => {
  it('fails the next call with a SweepStateError when told to', async () => {
    const state = new InMemorySweepState();
    state.failNext();
    await expect(state.removalsSince(new Date())).rejects.toBeInstanceOf(SweepStateError);
    expect(await state.removalsSince(new Date(0))).toEqual({ total: 0, unconfirmed: 0 });
  });
});
