import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { Ec2InventoryError } from './errors';
import type { InstanceTerminator } from './instance-terminator';

/** How a contract test arranges EC2 (and the IAM tag condition) behind the subject. */
export interface TerminatorHarness {
  terminator: InstanceTerminator;
  /** A running instance with these tags. */
  launch(instanceId: string, tags: Record<string, string>): void;
  /** EC2's state of the instance now (undefined: EC2 does not know it). */
  stateOf(instanceId: string): string | undefined;
  throttleNext(): void;
  /** The tag the role's TerminateInstances permission is conditioned on. */
  fleetTag: { key: string; value: string };
}

const A = 'i-0123456789abcdef0';
const B = 'i-0123456789abcdef1';
const UNKNOWN = 'i-0fffffffffffffff0';

/** TerminateInstances as the sweep relies on it: the fake and the adapter (over a mocked EC2) alike. */
export function describeInstanceTerminatorContract(name: string, make: () => TerminatorHarness): void {
  describe(`InstanceTerminator contract: ${name}`, () => {
    it('terminates a fleet instance: EC2 shows it shutting down', async () => {
      const h = make();
      h.launch(A, { [h.fleetTag.key]: h.fleetTag.value });
      await h.terminator.terminate([A]);
      expect(h.stateOf(A)).toBe('shutting-down');
    });

    it('is idempotent, and an instance EC2 does not know counts as terminated', async () => {
      const h = make();
      h.launch(A, { [h.fleetTag.key]: h.fleetTag.value });
      await h.terminator.terminate([A]);
      await expect(h.terminator.terminate([A])).resolves.toBeUndefined();
      await expect(h.terminator.terminate([UNKNOWN])).resolves.toBeUndefined();
    });

    it('an unknown id in a batch does not stop the others from terminating', async () => {
      const h = make();
      h.launch(A, { [h.fleetTag.key]: h.fleetTag.value });
      h.launch(B, { [h.fleetTag.key]: h.fleetTag.value });
      await h.terminator.terminate([A, UNKNOWN, B]);
      expect([h.stateOf(A), h.stateOf(B)]).toEqual(['shutting-down', 'shutting-down']);
    });

    it('fails loudly (Ec2InventoryError) for an instance without the fleet tag, which stays running', async () => {
      const h = make();
      h.launch(A, { team: 'someone-else' });
      await expect(h.terminator.terminate([A])).rejects.toBeInstanceOf(Ec2InventoryError);
      expect(h.stateOf(A)).toBe('running');
    });

    it('surfaces throttling as ThrottledError, terminating nothing', async () => {
      const h = make();
      h.launch(A, { [h.fleetTag.key]: h.fleetTag.value });
      h.throttleNext();
      await expect(h.terminator.terminate([A])).rejects.toBeInstanceOf(ThrottledError);
      expect(h.stateOf(A)).toBe('running');
    });
  });
}
