import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import type { LifecycleActionRef, LifecycleActions } from './port';

export interface LifecycleHarness {
  actions: LifecycleActions;
  /** Auto Scaling starts an action with this heartbeat timeout. */
  begin(ref: LifecycleActionRef, heartbeatTimeoutMs: number): void;
  advance(ms: number): void;
  throttleNext(): void;
}

const ref = (token = 'b7c5b8b8-1111-4c2e-9a61-6a8a5e9d0001'): LifecycleActionRef => ({
  autoScalingGroupName: 'ci-runners',
  lifecycleHookName: 'fleetwarden-drain',
  lifecycleActionToken: token,
  instanceId: 'i-0123456789abcdef0',
});

export function describeLifecycleActionsContract(name: string, make: () => LifecycleHarness): void {
  describe(`LifecycleActions contract: ${name}`, () => {
    it('heartbeats and completes an active action', async () => {
      const h = make();
      h.begin(ref(), 300_000);
      expect(await h.actions.heartbeat(ref())).toBe('recorded');
      expect(await h.actions.complete(ref(), 'CONTINUE')).toBe('completed');
    });

    it('answers gone (not an error) for a used token: completing twice is final, not retried', async () => {
      const h = make();
      h.begin(ref(), 300_000);
      await h.actions.complete(ref(), 'CONTINUE');
      expect(await h.actions.complete(ref(), 'CONTINUE')).toBe('gone');
      expect(await h.actions.heartbeat(ref())).toBe('gone');
    });

    it('answers gone for an expired token, and a heartbeat pushes expiry out', async () => {
      const h = make();
      h.begin(ref('t-expiring'), 60_000);
      h.advance(50_000);
      expect(await h.actions.heartbeat(ref('t-expiring'))).toBe('recorded');
      h.advance(50_000);
      expect(await h.actions.heartbeat(ref('t-expiring'))).toBe('recorded');
      h.advance(61_000);
      expect(await h.actions.complete(ref('t-expiring'), 'CONTINUE')).toBe('gone');
    });

    it('surfaces throttling as ThrottledError', async () => {
      const h = make();
      h.begin(ref(), 300_000);
      h.throttleNext();
      await expect(h.actions.heartbeat(ref())).rejects.toBeInstanceOf(ThrottledError);
    });
  });
}
