import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { LifecycleActionError } from './errors';
import { type LifecycleActionRef, type LifecycleActions, SCALING_ACTIVITY_WINDOW } from './port';

export interface LifecycleHarness {
  actions: LifecycleActions;
  /**
   * Auto Scaling starts an action with this heartbeat timeout (into a warm pool: `warmPool`; on a
   * launch hook, with `launch`: a launch into the warm pool also waits in Warmed:Pending:Wait).
   */
  begin(
    ref: LifecycleActionRef,
    heartbeatTimeoutMs: number,
    opts?: { warmPool?: boolean; launch?: boolean },
  ): void;
  /** DescribeWarmPool of this group is refused (AccessDenied: a role not updated yet). */
  failWarmPool(autoScalingGroupName: string): void;
  advance(ms: number): void;
  now(): number;
  throttleNext(): void;
  /** Auto Scaling describes the instance in this group and state, with no action of its own. */
  place(instanceId: string, autoScalingGroupName: string, lifecycleState: string): void;
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

    it("inspects an action as Auto Scaling reports it: group, Terminating:Wait, start, the hook's timeouts", async () => {
      const h = make();
      h.begin(ref('t-inspect'), 300_000);
      h.advance(10_000);
      const v = await h.actions.inspect(ref('t-inspect').instanceId, 'fleetwarden-drain');
      expect(v).toMatchObject({
        autoScalingGroupName: 'ci-runners',
        lifecycleState: 'Terminating:Wait',
        hook: { heartbeatTimeoutSeconds: 300, globalTimeoutSeconds: 30_000 },
      });
      // the group's own record of when the termination began (not the event's word for it)
      expect(v?.startedAt?.getTime()).toBe(h.now() - 10_000);
      // a hook the group does not have: no timeouts (and nothing to act on)
      expect((await h.actions.inspect(ref('t-inspect').instanceId, 'log-shipper'))?.hook).toBeUndefined();
    });

    it('inspects a completed action as Terminating:Proceed, an unknown instance as undefined', async () => {
      const h = make();
      h.begin(ref('t-done'), 300_000);
      await h.actions.complete(ref('t-done'), 'CONTINUE');
      expect((await h.actions.inspect(ref('t-done').instanceId))?.lifecycleState).toBe('Terminating:Proceed');
      expect(await h.actions.inspect('i-0fffffffffffffff0')).toBeUndefined();
    });

    it("keeps the instance in Terminating:Wait while another owner's hook on it is still pending", async () => {
      const h = make();
      h.begin({ ...ref('t-theirs'), lifecycleHookName: 'log-shipper' }, 300_000);
      h.begin(ref('t-ours'), 300_000);
      await h.actions.complete(ref('t-ours'), 'CONTINUE');
      expect((await h.actions.inspect(ref().instanceId))?.lifecycleState).toBe('Terminating:Wait');
    });

    it("heartbeats and completes by instance id (no token): only the named hook's action on the named group", async () => {
      const h = make();
      const { lifecycleActionToken: _, ...byInstance } = ref('t-by-id');
      h.begin({ ...ref('t-theirs-2'), lifecycleHookName: 'log-shipper' }, 300_000);
      h.begin(ref('t-by-id'), 300_000);
      expect(await h.actions.heartbeat(byInstance)).toBe('recorded');
      // another group's name does not reach this action
      expect(await h.actions.complete({ ...byInstance, autoScalingGroupName: 'web' }, 'CONTINUE')).toBe(
        'gone',
      );
      expect(await h.actions.complete(byInstance, 'CONTINUE')).toBe('completed');
      // ours is used; the other owner's is still pending (never completed by our hook's name)
      expect(await h.actions.complete(byInstance, 'CONTINUE')).toBe('gone');
      expect(await h.actions.heartbeat({ ...ref('t-theirs-2'), lifecycleHookName: 'log-shipper' })).toBe(
        'recorded',
      );
      expect(await h.actions.complete(ref('t-by-id'), 'CONTINUE')).toBe('gone');
    });

    it("lists the named groups' instances with their lifecycle state, no other group's", async () => {
      const h = make();
      h.begin(ref('t-listed'), 300_000);
      h.place('i-0aaaaaaaaaaaaaaa1', 'ci-runners', 'InService');
      h.begin({ ...ref('t-web'), autoScalingGroupName: 'web', instanceId: 'i-0bbbbbbbbbbbbbbb2' }, 300_000);
      const listed = (await h.actions.groupInstances(['ci-runners'])).instances;
      expect([...listed].sort((a, b) => a.instanceId.localeCompare(b.instanceId))).toEqual([
        {
          instanceId: 'i-0123456789abcdef0',
          autoScalingGroupName: 'ci-runners',
          lifecycleState: 'Terminating:Wait',
        },
        {
          instanceId: 'i-0aaaaaaaaaaaaaaa1',
          autoScalingGroupName: 'ci-runners',
          lifecycleState: 'InService',
        },
      ]);
      await h.actions.complete(ref('t-listed'), 'CONTINUE');
      expect(
        (await h.actions.groupInstances(['ci-runners'])).instances.map((i) => i.lifecycleState),
      ).toContain('Terminating:Proceed');
      expect(await h.actions.groupInstances([])).toEqual({ instances: [], unread: [] });
    });

    it('lists an instance a terminate hook holds on its way back to the warm pool (Warmed:Pending:Wait)', async () => {
      const h = make();
      h.begin(ref('t-warm-listed'), 300_000, { warmPool: true });
      h.place('i-0aaaaaaaaaaaaaaa1', 'ci-runners', 'InService');
      const listed = (await h.actions.groupInstances(['ci-runners'])).instances;
      expect([...listed].sort((a, b) => a.instanceId.localeCompare(b.instanceId))).toEqual([
        {
          instanceId: 'i-0123456789abcdef0',
          autoScalingGroupName: 'ci-runners',
          lifecycleState: 'Warmed:Pending:Wait',
          // its scaling activity in progress takes it out of the group (not a launch)
          activity: 'leave',
        },
        {
          instanceId: 'i-0aaaaaaaaaaaaaaa1',
          autoScalingGroupName: 'ci-runners',
          lifecycleState: 'InService',
        },
      ]);
    });

    it('inspects a scale-in into a warm pool as Warmed:Pending:Wait, its activity leaving the group', async () => {
      const h = make();
      h.begin(ref('t-warm'), 300_000, { warmPool: true });
      expect(await h.actions.inspect(ref('t-warm').instanceId)).toMatchObject({
        lifecycleState: 'Warmed:Pending:Wait',
        activity: 'leave',
      });
    });

    it('a launch into the warm pool waits in Warmed:Pending:Wait too: listed and inspected as a launch', async () => {
      const h = make();
      h.begin({ ...ref('t-launch'), lifecycleHookName: 'warm-up' }, 3_600_000, {
        warmPool: true,
        launch: true,
      });
      expect((await h.actions.groupInstances(['ci-runners'])).instances).toEqual([
        {
          instanceId: 'i-0123456789abcdef0',
          autoScalingGroupName: 'ci-runners',
          lifecycleState: 'Warmed:Pending:Wait',
          activity: 'launch',
        },
      ]);
      expect(await h.actions.inspect(ref().instanceId, 'fleetwarden-drain')).toMatchObject({
        lifecycleState: 'Warmed:Pending:Wait',
        activity: 'launch',
      });
      // the fleet's terminate hook has no action on it
      const { lifecycleActionToken: _, ...byInstance } = ref();
      expect(await h.actions.heartbeat(byInstance)).toBe('gone');
    });

    it('an activity older than the newest SCALING_ACTIVITY_WINDOW of its group: neither listed nor inspected', async () => {
      const h = make();
      const idOf = (k: number) => `i-${String(k).padStart(17, '0')}`;
      for (let k = 0; k <= SCALING_ACTIVITY_WINDOW; k++) {
        h.begin({ ...ref(`t-w${k}`), instanceId: idOf(k) }, 300_000, { warmPool: true });
        h.advance(1);
      }
      const listed = (await h.actions.groupInstances(['ci-runners'])).instances;
      const activityOf = (id: string) => listed.find((x) => x.instanceId === id)?.activity;
      // the oldest is past the window: its activity is not read, by the look or by inspect
      expect(activityOf(idOf(0))).toBeUndefined();
      expect((await h.actions.inspect(idOf(0)))?.activity).toBeUndefined();
      expect(activityOf(idOf(1))).toBe('leave');
      expect((await h.actions.inspect(idOf(1)))?.activity).toBe('leave');
    });

    it("a warm pool that cannot be read: the group's own instances still listed, the group named unread", async () => {
      const h = make();
      h.begin(ref('t-leaving'), 300_000);
      h.begin({ ...ref('t-back'), instanceId: 'i-0aaaaaaaaaaaaaaa1' }, 300_000, { warmPool: true });
      h.failWarmPool('ci-runners');
      const listing = await h.actions.groupInstances(['ci-runners']);
      expect(listing.instances).toEqual([
        {
          instanceId: 'i-0123456789abcdef0',
          autoScalingGroupName: 'ci-runners',
          lifecycleState: 'Terminating:Wait',
        },
      ]);
      expect(listing.unread).toEqual([
        { autoScalingGroupName: 'ci-runners', error: expect.any(LifecycleActionError) },
      ]);
      expect(listing.unread[0]?.error.message).toMatch(/DescribeWarmPool.*AccessDenied/);
      expect(listing.unread[0]?.error.cause).toBeDefined();
    });
  });
}
