import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { WarmPoolError } from './errors';
import type { WarmPool } from './warm-pool';

/** How a contract test arranges Auto Scaling warm pools behind the subject. */
export interface WarmPoolHarness {
  warmPool: WarmPool;
  /** An instance in a group's warm pool, in a lifecycle state (Warmed:Stopped, Warmed:Running, ...). */
  put(group: string, instanceId: string, lifecycleState: string): void;
  throttleNext(): void;
  /** The next call fails with an error other than throttling (e.g. the group does not exist). */
  failNext(): void;
}

const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

/** WarmPool behaviour, identical for the fake and the Auto Scaling adapter. */
export function describeWarmPoolContract(name: string, make: () => WarmPoolHarness): void {
  describe(`WarmPool contract: ${name}`, () => {
    it('answers the instances in the named groups warm pools, with their Warmed:* state', async () => {
      const h = make();
      h.put('ci-runners', id(1), 'Warmed:Stopped');
      h.put('ci-runners', id(2), 'Warmed:Running');
      h.put('ci-runners-arm', id(3), 'Warmed:Hibernated');
      h.put('web-servers', id(4), 'Warmed:Stopped');
      const out = await h.warmPool.warmedInGroups(['ci-runners', 'ci-runners-arm']);
      expect([...out].sort()).toEqual([
        [id(1), 'Warmed:Stopped'],
        [id(2), 'Warmed:Running'],
        [id(3), 'Warmed:Hibernated'],
      ]);
    });

    it('a group with no warm pool answers nothing', async () => {
      const h = make();
      expect((await h.warmPool.warmedInGroups(['ci-runners'])).size).toBe(0);
    });

    it('reads past one page (50 instances a call)', async () => {
      const h = make();
      for (let n = 1; n <= 120; n++) h.put('ci-runners', id(n), 'Warmed:Stopped');
      expect((await h.warmPool.warmedInGroups(['ci-runners'])).size).toBe(120);
    });

    it('surfaces throttling as ThrottledError and any other failure as WarmPoolError', async () => {
      const h = make();
      h.put('ci-runners', id(1), 'Warmed:Stopped');
      h.throttleNext();
      await expect(h.warmPool.warmedInGroups(['ci-runners'])).rejects.toBeInstanceOf(ThrottledError);
      h.failNext();
      await expect(h.warmPool.warmedInGroups(['ci-runners'])).rejects.toBeInstanceOf(WarmPoolError);
    });
  });
}
