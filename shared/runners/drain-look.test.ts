import { describe, expect, it } from 'vitest';
import { adoptedKey, type ChainLook, isAdoptedKey, judgeLeaving, yieldTo } from './drain-look';

const NOW = new Date('2026-11-24T12:00:00Z');
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);
const groups = new Set(['ci-runners']);
const FRESH_MS = 200_000;
const ID = 'i-0123456789abcdef0';
const waiting = (lifecycleState = 'Terminating:Wait', autoScalingGroupName = 'ci-runners') => ({
  instanceId: ID,
  autoScalingGroupName,
  lifecycleState,
});
const chain = (key: string, firstS: number, lastS: number): ChainLook => ({
  key,
  firstLookAt: ago(firstS),
  lastLookAt: ago(lastS),
});

describe('drain look: which instances count as leaving without a drain', () => {
  it('an instance of a configured group in Terminating:Wait that no drain has looked at: adopt', () => {
    expect(judgeLeaving(waiting(), [], { groups, now: NOW, freshMs: FRESH_MS })).toMatchObject({
      kind: 'adopt',
      reason: expect.stringMatching(/found leaving without a drain/),
    });
  });

  it('a drain that looked at it recently (event-started or adopted): left to that drain, skipped', () => {
    const v = judgeLeaving(waiting(), [chain(`${ID}#tok-1`, 400, 30)], {
      groups,
      now: NOW,
      freshMs: FRESH_MS,
    });
    expect(v).toMatchObject({ kind: 'skip', decision: 'skipped' });
    expect(v?.reason).toMatch(/a drain under way/);
    const adopted = judgeLeaving(waiting(), [chain(adoptedKey(ID, 'look-7'), 100, 10)], {
      groups,
      now: NOW,
      freshMs: FRESH_MS,
    });
    expect(adopted?.kind).toBe('skip');
  });

  it('a drain whose last look is stale (it stopped, or an earlier action of a warm-pool instance): adopt', () => {
    const v = judgeLeaving(waiting(), [chain(`${ID}#old-token`, 9000, 8000)], {
      groups,
      now: NOW,
      freshMs: FRESH_MS,
    });
    expect(v).toMatchObject({ kind: 'adopt' });
    expect(v?.reason).toMatch(/last drain look .* ago/);
  });

  it('not waiting on a terminate hook (InService, Terminating, Terminating:Proceed, in the warm pool): nothing to decide', () => {
    for (const s of [
      'InService',
      'Pending:Wait',
      'Terminating',
      'Terminating:Proceed',
      'Warmed:Pending:Proceed',
      'Warmed:Stopped',
      'Warmed:Hibernated',
    ])
      expect(judgeLeaving(waiting(s), [], { groups, now: NOW, freshMs: FRESH_MS })).toBeUndefined();
  });

  it('a scale-in back into the warm pool waits on the terminate hook in Warmed:Pending:Wait: adopted alike', () => {
    expect(
      judgeLeaving({ ...waiting('Warmed:Pending:Wait'), activity: 'leave' }, [], {
        groups,
        now: NOW,
        freshMs: FRESH_MS,
      }),
    ).toMatchObject({
      kind: 'adopt',
      reason: expect.stringMatching(/found leaving without a drain \(Warmed:Pending:Wait/),
    });
  });

  it('Warmed:Pending:Wait on a launch into the warm pool is not leaving: nothing to decide', () => {
    const launching = { ...waiting('Warmed:Pending:Wait'), activity: 'launch' as const };
    expect(judgeLeaving(launching, [], { groups, now: NOW, freshMs: FRESH_MS })).toBeUndefined();
  });

  it('Warmed:Pending:Wait that no in-progress activity names: not shown leaving, skipped (no drain)', () => {
    expect(
      judgeLeaving(waiting('Warmed:Pending:Wait'), [], { groups, now: NOW, freshMs: FRESH_MS }),
    ).toMatchObject({
      kind: 'skip',
      decision: 'skipped',
      reason: expect.stringMatching(/not shown leaving/),
    });
  });

  it('an instance of a group that is not configured is refused, never adopted', () => {
    expect(
      judgeLeaving(waiting('Terminating:Wait', 'web'), [], { groups, now: NOW, freshMs: FRESH_MS }),
    ).toMatchObject({ kind: 'skip', decision: 'refused' });
  });
});

describe('drain look: an adopted drain yields to another live drain of the instance', () => {
  const mine = adoptedKey(ID, 'look-2');

  it('keys an adopted drain apart from event drains', () => {
    expect(isAdoptedKey(mine)).toBe(true);
    expect(isAdoptedKey(`${ID}#b7c5b8b8-1111-4c2e-9a61-6a8a5e9d0001`)).toBe(false);
  });

  it('alone, it goes on', () => {
    expect(yieldTo(mine, [chain(mine, 60, 0)], NOW, FRESH_MS)).toBeUndefined();
  });

  it("yields to the lifecycle event's own drain (the event arrived late), fresh ones only", () => {
    const looks = [chain(mine, 60, 0), chain(`${ID}#tok-1`, 5, 0)];
    expect(yieldTo(mine, looks, NOW, FRESH_MS)).toBe(`${ID}#tok-1`);
    const stale = [chain(mine, 60, 0), chain(`${ID}#tok-0`, 9000, 8000)];
    expect(yieldTo(mine, stale, NOW, FRESH_MS)).toBeUndefined();
  });

  it('between two adopted drains, the earlier one goes on and the later yields (the same answer for both)', () => {
    const other = adoptedKey(ID, 'look-1');
    const looks = [chain(mine, 60, 0), chain(other, 120, 5)];
    expect(yieldTo(mine, looks, NOW, FRESH_MS)).toBe(other);
    expect(yieldTo(other, looks, NOW, FRESH_MS)).toBeUndefined();
  });
});
