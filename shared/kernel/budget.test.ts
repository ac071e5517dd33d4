import { describe, expect, it } from 'vitest';
import { InMemorySweepState } from '../budget/in-memory-sweep-state';
import { reserveBudget } from './budget';

const at = new Date('2026-11-30T08:00:00Z');
const hour = 3_600_000;

describe('reserveBudget: the run reserves its share of the persisted rolling budget before acting', () => {
  it('grants what is left of the window and records it before any action', async () => {
    const store = new InMemorySweepState(() => at.getTime());
    await store.recordRemovals(
      2,
      'earlier-run',
      new Date(at.getTime() - 10 * 60_000),
      new Date(at.getTime() + hour),
    );
    const granted = await reserveBudget(store, { runId: 'run-2', at, windowMs: hour, limit: 3, want: 5 });
    expect(granted.left).toBe(1);
    expect(granted.spent).toBe(2);
    expect((await store.removalsSince(new Date(at.getTime() - hour))).total).toBe(3);
  });

  it('grants nothing when the window is spent, and records nothing', async () => {
    const store = new InMemorySweepState(() => at.getTime());
    await store.recordRemovals(4, 'earlier-run', at, new Date(at.getTime() + hour));
    const granted = await reserveBudget(store, { runId: 'run-2', at, windowMs: hour, limit: 3, want: 1 });
    expect(granted.left).toBe(0);
    expect((await store.removalsSince(new Date(at.getTime() - hour))).total).toBe(4);
  });

  it('keeps removals older than the window out of the count', async () => {
    const store = new InMemorySweepState(() => at.getTime());
    await store.recordRemovals(
      3,
      'old-run',
      new Date(at.getTime() - 2 * hour),
      new Date(at.getTime() + hour),
    );
    const granted = await reserveBudget(store, { runId: 'r', at, windowMs: hour, limit: 3, want: 2 });
    expect(granted.left).toBe(2);
  });

  it('two runs reserving at once never spend the same units (a duplicate delivery, parallel approvals)', async () => {
    const store = new InMemorySweepState(() => at.getTime());
    const reserve = (runId: string) => reserveBudget(store, { runId, at, windowMs: hour, limit: 3, want: 2 });
    const [a, b] = await Promise.all([reserve('sched-1@req-1'), reserve('sched-1@req-2')]);
    expect((a?.left ?? 0) + (b?.left ?? 0)).toBe(3);
    expect((await store.removalsSince(new Date(at.getTime() - hour))).total).toBe(3);
  });

  it('a second reservation by one run (same run id and time) spends what is left, never the same units', async () => {
    const store = new InMemorySweepState(() => at.getTime());
    const reserve = () => reserveBudget(store, { runId: 'run-1', at, windowMs: hour, limit: 3, want: 2 });
    expect((await reserve()).left).toBe(2);
    expect((await reserve()).left).toBe(1);
    expect((await store.removalsSince(new Date(at.getTime() - hour))).total).toBe(3);
  });

  it('a dry run spends nothing and may plan anything', async () => {
    const store = new InMemorySweepState(() => at.getTime());
    const granted = await reserveBudget(store, {
      runId: 'r',
      at,
      windowMs: hour,
      limit: 1,
      want: 9,
      dryRun: true,
    });
    expect(granted.left).toBe(Number.POSITIVE_INFINITY);
    expect((await store.removalsSince(new Date(0))).total).toBe(0);
  });

  it('fails (nothing granted) when the ledger cannot be read or written', async () => {
    const store = new InMemorySweepState(() => at.getTime());
    store.failNext(1);
    await expect(
      reserveBudget(store, { runId: 'r', at, windowMs: hour, limit: 3, want: 1 }),
    ).rejects.toThrow();
  });
});

describe('the reserved allowance', () => {
  it('counts down as actions take it', async () => {
    const store = new InMemorySweepState(() => at.getTime());
    const granted = await reserveBudget(store, { runId: 'r', at, windowMs: hour, limit: 3, want: 2 });
    expect(granted.take(1)).toBe(true);
    expect(granted.left).toBe(1);
    expect(granted.take(2)).toBe(false);
    expect(granted.take(1)).toBe(true);
    expect(granted.left).toBe(0);
  });
});
