import { beforeEach, describe, expect, it } from 'vitest';
import type { DrainStateStore } from './drain-state';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const at = (m: number) => new Date(T0 + m * 60_000);

/** The behaviour runner-drain relies on, run against the in-memory fake and the DynamoDB adapter. */
export function describeDrainStateContract(name: string, make: () => DrainStateStore): void {
  describe(`DrainStateStore contract: ${name}`, () => {
    let state: DrainStateStore;
    beforeEach(() => {
      state = make();
    });

    it('starts an action at its first look: that time, no runner, not absent', async () => {
      expect(await state.begin('i-0aaa#tok', at(0), at(2940))).toEqual({
        firstLookAt: at(0),
        runnerIds: [],
        absentOnce: false,
      });
    });

    it('keeps the first look across later looks, and what the last look saved', async () => {
      await state.begin('i-0aaa#tok', at(0), at(2940));
      await state.save('i-0aaa#tok', { runnerIds: [7, 9], absentOnce: false }, at(2940));
      expect(await state.begin('i-0aaa#tok', at(5), at(2945))).toEqual({
        firstLookAt: at(0),
        runnerIds: [7, 9],
        absentOnce: false,
      });
      await state.save('i-0aaa#tok', { runnerIds: [], absentOnce: true }, at(2945));
      expect(await state.begin('i-0aaa#tok', at(7), at(2947))).toMatchObject({
        firstLookAt: at(0),
        runnerIds: [],
        absentOnce: true,
      });
    });

    it('keeps actions apart (another token is another action)', async () => {
      await state.begin('i-0aaa#tok', at(0), at(2940));
      await state.save('i-0aaa#tok', { runnerIds: [7], absentOnce: true }, at(2940));
      expect(await state.begin('i-0aaa#tok-2', at(9), at(2949))).toEqual({
        firstLookAt: at(9),
        runnerIds: [],
        absentOnce: false,
      });
    });

    it('keeps the last runner census the drains share, and when a drain last asked for one', async () => {
      expect(await state.census(at(0))).toEqual({});
      expect(await state.census(at(1))).toEqual({ askedAt: at(0) });
      await state.recordCensus({ takenAt: at(1), otherNames: ['i-0bbb', 'i-0ccc'] }, at(61));
      expect(await state.census(at(2))).toEqual({
        census: { takenAt: at(1), otherNames: ['i-0bbb', 'i-0ccc'] },
        askedAt: at(1),
      });
      await state.recordCensus({ takenAt: at(3), otherNames: 'all' }, at(63));
      expect(await state.census(at(4))).toEqual({
        census: { takenAt: at(3), otherNames: 'all' },
        askedAt: at(2),
      });
      // the census is not an action's state
      expect(await state.begin('i-0aaa#tok', at(4), at(2944))).toEqual({
        firstLookAt: at(4),
        runnerIds: [],
        absentOnce: false,
      });
    });

    it("lists an instance's drains with their first and last look (every action of it, no other instance's)", async () => {
      await state.begin('i-0aaa#tok', at(0), at(2940));
      await state.begin('i-0aaa#tok', at(3), at(2943));
      await state.begin('i-0aaa#look:s-1', at(2), at(2942));
      await state.begin('i-0aaa1#tok', at(1), at(2941));
      await state.begin('i-0bbb#tok', at(1), at(2941));
      const looks = await state.looks('i-0aaa');
      expect([...looks].sort((a, b) => a.key.localeCompare(b.key))).toEqual([
        { key: 'i-0aaa#look:s-1', firstLookAt: at(2), lastLookAt: at(2) },
        { key: 'i-0aaa#tok', firstLookAt: at(0), lastLookAt: at(3) },
      ]);
      expect(await state.looks('i-0ccc')).toEqual([]);
    });
  });
}
