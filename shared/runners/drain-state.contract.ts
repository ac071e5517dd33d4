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
  });
}
