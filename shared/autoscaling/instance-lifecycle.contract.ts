import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import type { InstanceLifecycle } from './instance-lifecycle';

/** How a contract test arranges Auto Scaling behind the subject. */
export interface InstanceLifecycleHarness {
  lifecycle: InstanceLifecycle;
  /** An instance in a group, in a lifecycle state (InService, Terminating:Wait, ...). */
  put(group: string, instanceId: string, lifecycleState: string): void;
  throttleNext(): void;
}

const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

/** InstanceLifecycle behaviour, identical for the fake and the Auto Scaling adapter. */
export function describeInstanceLifecycleContract(name: string, make: () => InstanceLifecycleHarness): void {
  describe(`InstanceLifecycle contract: ${name}`, () => {
    it('of the given instances, answers those in a Terminating* state; unknown ids are simply absent', async () => {
      const h = make();
      h.put('ci-runners', id(1), 'Terminating:Wait');
      h.put('ci-runners', id(2), 'InService');
      h.put('ci-runners', id(3), 'Terminating:Proceed');
      h.put('ci-runners', id(4), 'Terminating');
      const out = await h.lifecycle.terminating([id(1), id(2), id(3), id(4), id(99)]);
      expect([...out].sort()).toEqual([id(1), id(3), id(4)]);
    });

    it('handles more ids than one call takes (50)', async () => {
      const h = make();
      const ids = Array.from({ length: 120 }, (_, n) => id(n + 1));
      ids.forEach((i, n) => {
        h.put('ci-runners', i, n % 40 === 0 ? 'Terminating:Wait' : 'InService');
      });
      expect([...(await h.lifecycle.terminating(ids))].sort()).toEqual([id(1), id(41), id(81)]);
    });

    it('lists the terminating instances of the named groups only', async () => {
      const h = make();
      h.put('ci-runners', id(1), 'Terminating:Wait');
      h.put('ci-runners', id(2), 'InService');
      h.put('ci-runners-arm', id(3), 'Terminating:Wait');
      h.put('web-servers', id(4), 'Terminating:Wait');
      const out = await h.lifecycle.terminatingInGroups(['ci-runners', 'ci-runners-arm']);
      expect([...out].sort()).toEqual([id(1), id(3)]);
    });

    it('surfaces throttling as ThrottledError (the sweep refuses rather than judging without it)', async () => {
      const h = make();
      h.put('ci-runners', id(1), 'Terminating:Wait');
      h.throttleNext();
      await expect(h.lifecycle.terminatingInGroups(['ci-runners'])).rejects.toBeInstanceOf(ThrottledError);
      h.throttleNext();
      await expect(h.lifecycle.terminating([id(1)])).rejects.toBeInstanceOf(ThrottledError);
    });
  });
}
