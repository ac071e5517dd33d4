import { beforeEach, describe, expect, it } from 'vitest';
import type { SweepStateStore } from './port';

const T0 = Date.parse('2026-11-24T12:00:00Z');
const min = 60_000;
const at = (m: number) => new Date(T0 + m * min);

/** The behaviour runner-sweep relies on, run against the in-memory fake and the DynamoDB adapter. */
export function describeSweepStateContract(
  name: string,
  make: (clock: { now: number }) => SweepStateStore,
): void {
  describe(`SweepStateStore contract: ${name}`, () => {
    let clock: { now: number };
    let state: SweepStateStore;
    beforeEach(() => {
      clock = { now: T0 };
      state = make(clock);
    });

    it('sums the removals recorded at or after the window start, and only those', async () => {
      await state.recordRemovals(2, 'run-a', at(0), at(120));
      await state.recordRemovals(1, 'run-b', at(30), at(150));
      await state.recordRemovals(3, 'run-c', at(61), at(181));
      clock.now = at(90).getTime();
      expect(await state.removalsSince(at(30))).toEqual({ total: 4, unconfirmed: 0 });
      expect(await state.removalsSince(at(0))).toEqual({ total: 6, unconfirmed: 0 });
      expect(await state.removalsSince(at(62))).toEqual({ total: 0, unconfirmed: 0 });
    });

    it('counts a run recorded twice (a retried write) once', async () => {
      await state.recordRemovals(2, 'run-a', at(0), at(60));
      await state.recordRemovals(2, 'run-a', at(0), at(60));
      expect(await state.removalsSince(at(-1))).toEqual({ total: 2, unconfirmed: 0 });
    });

    it('keeps apart, within the total, the removals EC2 did not confirm (runners whose instance it does not describe)', async () => {
      await state.recordRemovals(3, 'run-a', at(0), at(120), 2);
      await state.recordRemovals(1, 'run-b', at(10), at(130));
      await state.recordRemovals(2, 'run-c', at(20), at(140), 2);
      expect(await state.removalsSince(at(0))).toEqual({ total: 6, unconfirmed: 4 });
      expect(await state.removalsSince(at(5))).toEqual({ total: 3, unconfirmed: 2 });
    });

    it('a duplicate delivery of one schedule (same run id, another request id) counts its removals too', async () => {
      await state.recordRemovals(2, 'sched-1@req-1', at(0), at(120));
      await state.recordRemovals(2, 'sched-1@req-2', at(0), at(120));
      expect(await state.removalsSince(at(0))).toEqual({ total: 4, unconfirmed: 0 });
    });

    it('reserves atomically: two runs reserving at once never spend the same units', async () => {
      const reserve = (runId: string) =>
        state.reserveRemovals({ runId, at: at(0), since: at(-60), limit: 3, want: 2, expiresAt: at(120) });
      const results = await Promise.all([reserve('sched-1@req-1'), reserve('sched-1@req-2'), reserve('x')]);
      expect(results.reduce((n, r) => n + r.granted, 0)).toBe(3);
      expect(await state.removalsSince(at(-60))).toEqual({ total: 3, unconfirmed: 0 });
    });

    it('a reservation counts what was recorded and reserved in the window, and records its grant', async () => {
      await state.recordRemovals(1, 'run-a', at(-30), at(90));
      await state.recordRemovals(5, 'too-old', at(-61), at(59));
      const r = await state.reserveRemovals({
        runId: 'run-b',
        at: at(0),
        since: at(-60),
        limit: 4,
        want: 9,
        unconfirmed: 2,
        expiresAt: at(120),
      });
      expect(r).toEqual({ spent: 1, granted: 3 });
      expect(await state.removalsSince(at(-60))).toEqual({ total: 4, unconfirmed: 2 });
      // the window is spent: nothing granted, nothing recorded
      const none = await state.reserveRemovals({
        runId: 'run-c',
        at: at(1),
        since: at(-59),
        limit: 4,
        want: 1,
        expiresAt: at(121),
      });
      expect(none).toEqual({ spent: 4, granted: 0 });
      expect((await state.removalsSince(at(-60))).total).toBe(4);
    });

    it('a second reservation of one run (same run id and time) spends what is left, not the same units', async () => {
      const reserve = () =>
        state.reserveRemovals({
          runId: 'run-1',
          at: at(0),
          since: at(-60),
          limit: 3,
          want: 2,
          expiresAt: at(120),
        });
      expect(await reserve()).toEqual({ spent: 0, granted: 2 });
      expect(await reserve()).toEqual({ spent: 2, granted: 1 });
      expect((await state.removalsSince(at(-60))).total).toBe(3);
    });

    it("keeps an approved run's record apart from a reservation of the same run and time", async () => {
      await state.reserveRemovals({
        runId: 'run-1',
        at: at(0),
        since: at(-60),
        limit: 10,
        want: 2,
        expiresAt: at(120),
      });
      await state.recordRemovals(3, 'run-1', at(0), at(120));
      expect((await state.removalsSince(at(-60))).total).toBe(5);
    });

    it('keeps the first sighting of a key across calls; other keys start their own', async () => {
      const first = await state.firstSeen(['i-0aaa'], at(0), at(1440));
      expect(first.get('i-0aaa')).toEqual(at(0));
      clock.now = at(90).getTime();
      const later = await state.firstSeen(['i-0aaa', 'i-0bbb'], at(90), at(1530));
      expect(later.get('i-0aaa')).toEqual(at(0));
      expect(later.get('i-0bbb')).toEqual(at(90));
    });

    it('starts a key over once its record expired (expiry is refreshed by every sighting)', async () => {
      await state.firstSeen(['i-0aaa'], at(0), at(60));
      clock.now = at(50).getTime();
      await state.firstSeen(['i-0aaa'], at(50), at(110));
      clock.now = at(100).getTime();
      expect((await state.firstSeen(['i-0aaa'], at(100), at(160))).get('i-0aaa')).toEqual(at(0));
      clock.now = at(200).getTime();
      expect((await state.firstSeen(['i-0aaa'], at(200), at(260))).get('i-0aaa')).toEqual(at(200));
    });

    it('answers an empty list of keys without a call', async () => {
      expect((await state.firstSeen([], at(0), at(60))).size).toBe(0);
    });
  });
}
