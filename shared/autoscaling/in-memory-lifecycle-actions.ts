import { ThrottledError } from '../core/errors';
import { LifecycleActionError } from './errors';
import {
  type GroupListing,
  type LifecycleActionRef,
  type LifecycleActions,
  type LifecycleActionView,
  SCALING_ACTIVITY_WINDOW,
} from './port';

interface Action {
  ref: LifecycleActionRef;
  /** Heartbeat timeout expiry (epoch ms); each heartbeat resets it. */
  expiresAt: number;
  /** Global cap: 48 h or 100 x heartbeat timeout, whichever is smaller. */
  hardLimitAt: number;
  heartbeatTimeoutMs: number;
  startedAt: number;
  /** Scale-in into a warm pool: the instance comes back (Warmed:Pending:Wait, not Terminating:Wait). */
  warmPool: boolean;
  /**
   * A launch hook's action (its activity "Launching a new EC2 instance..."): with `warmPool`, a
   * launch into the warm pool, which waits in Warmed:Pending:Wait too; else Pending:Wait.
   */
  launch: boolean;
  done?: 'CONTINUE' | 'ABANDON' | 'timeout';
  /** When CompleteLifecycleAction ended it (epoch ms). */
  completedAt?: number;
}

/**
 * In-memory Auto Scaling lifecycle actions with the documented semantics: a heartbeat resets the
 * heartbeat timeout, up to the global cap (48 h or 100 x HeartbeatTimeout); an expired or used
 * token answers "No active Lifecycle Action found" ('gone'); throttling can be injected. On expiry
 * the default result applies (the hook's DefaultResult, CONTINUE here).
 */
export class InMemoryLifecycleActions implements LifecycleActions {
  private readonly actions = new Map<string, Action>();
  private throttles = 0;
  /** Hooks Auto Scaling knows, `${group}/${hook}` -> heartbeat timeout (ms); each begin() defines its own. */
  private readonly hooks = new Map<string, number>();
  /** Lifecycle states set by a test or the simulator (e.g. InService), overriding the actions'. */
  private readonly placed = new Map<string, { autoScalingGroupName: string; lifecycleState: string }>();
  readonly calls = { heartbeat: 0, complete: 0, inspect: 0 };
  /** Groups whose DescribeWarmPool is refused, with the error's name (e.g. AccessDenied). */
  private readonly failedPools = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Auto Scaling started a lifecycle action (what puts the event on the bus). */
  begin(
    ref: LifecycleActionRef,
    heartbeatTimeoutMs = 300_000,
    opts: { warmPool?: boolean; launch?: boolean } = {},
  ): void {
    const now = this.now();
    this.hooks.set(`${ref.autoScalingGroupName}/${ref.lifecycleHookName}`, heartbeatTimeoutMs);
    this.placed.delete(ref.instanceId);
    this.actions.set(ref.lifecycleActionToken ?? `${ref.instanceId}/${ref.lifecycleHookName}/${now}`, {
      ref,
      heartbeatTimeoutMs,
      startedAt: now,
      warmPool: opts.warmPool ?? false,
      launch: opts.launch ?? false,
      expiresAt: now + heartbeatTimeoutMs,
      hardLimitAt: now + Math.min(48 * 3_600_000, 100 * heartbeatTimeoutMs),
    });
  }

  /** A lifecycle hook the group has (PutLifecycleHook): known before any action of it begins. */
  defineHook(autoScalingGroupName: string, hookName: string, heartbeatTimeoutMs: number): void {
    this.hooks.set(`${autoScalingGroupName}/${hookName}`, heartbeatTimeoutMs);
  }

  /** The instance left its group (terminated): its placed state is no longer described. */
  unplace(instanceId: string): void {
    this.placed.delete(instanceId);
  }

  /** Auto Scaling describes the instance in this group and state (no action of its own). */
  place(instanceId: string, autoScalingGroupName: string, lifecycleState: string): void {
    this.placed.set(instanceId, { autoScalingGroupName, lifecycleState });
  }

  /**
   * DescribeWarmPool of this group is refused (`name`, e.g. AccessDenied: a role not updated yet):
   * the group's warm-pool instances are not listed, and the group is named unread.
   */
  failWarmPool(autoScalingGroupName: string, name = 'AccessDenied'): void {
    this.failedPools.set(autoScalingGroupName, name);
  }

  throttleNext(n: number): void {
    this.throttles += n;
  }

  /** How the action ended: completed with a result, timed out, or still pending (undefined). */
  outcome(token: string): Action['done'] {
    const a = this.actions.get(token);
    if (!a) return undefined;
    this.expire(a);
    return a.done;
  }

  /** When the action was completed by CompleteLifecycleAction (undefined: pending or timed out). */
  completedAt(token: string): number | undefined {
    return this.actions.get(token)?.completedAt;
  }

  async heartbeat(ref: LifecycleActionRef): Promise<'recorded' | 'gone'> {
    this.call();
    this.calls.heartbeat++;
    const a = this.active(ref);
    if (!a) return 'gone';
    a.expiresAt = Math.min(this.now() + a.heartbeatTimeoutMs, a.hardLimitAt);
    return 'recorded';
  }

  async complete(ref: LifecycleActionRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'gone'> {
    this.call();
    this.calls.complete++;
    const a = this.active(ref);
    if (!a) return 'gone';
    a.done = result;
    a.completedAt = this.now();
    return 'completed';
  }

  async inspect(instanceId: string, hookName?: string): Promise<LifecycleActionView | undefined> {
    this.call();
    this.calls.inspect++;
    return this.view(instanceId, hookName);
  }

  private view(instanceId: string, hookName?: string): LifecycleActionView | undefined {
    const placed = this.placed.get(instanceId);
    // every hook's action on the instance: it waits while any of them is pending (several owners'
    // terminate hooks on one group), and proceeds once all are done
    const mine = [...this.actions.values()].filter((x) => x.ref.instanceId === instanceId);
    for (const x of mine) this.expire(x);
    const a = mine.find((x) => !x.done) ?? mine.at(-1);
    if (!placed && !a) return undefined;
    const group = placed?.autoScalingGroupName ?? a?.ref.autoScalingGroupName ?? '';
    const hbMs = hookName ? this.hooks.get(`${group}/${hookName}`) : undefined;
    const hook =
      hbMs === undefined
        ? undefined
        : { heartbeatTimeoutSeconds: hbMs / 1000, globalTimeoutSeconds: Math.min(172_800, hbMs / 10) };
    if (placed) return { ...placed, ...(hook ? { hook } : {}) };
    if (!a) return undefined;
    const seen = !a.done && this.inWindow(a);
    const phase = a.done ? 'Proceed' : 'Wait';
    const state = a.warmPool ? 'Warmed:Pending' : a.launch ? 'Pending' : 'Terminating';
    return {
      autoScalingGroupName: group,
      lifecycleState: `${state}:${phase}`,
      // the group's activity for it is in progress while the action is; read only among the
      // group's newest SCALING_ACTIVITY_WINDOW activities (one per action here)
      ...(seen ? { startedAt: new Date(a.startedAt), activity: a.launch ? 'launch' : 'leave' } : {}),
      ...(hook ? { hook } : {}),
    };
  }

  /**
   * The action a call names: by token; without one, by instance id, the hook's pending action on
   * that instance (as the API's InstanceId form: the named hook, the named group).
   */
  private active(ref: LifecycleActionRef): Action | undefined {
    const token = ref.lifecycleActionToken;
    const a = token
      ? this.actions.get(token)
      : [...this.actions.values()].find((x) => {
          this.expire(x);
          return (
            !x.done &&
            x.ref.instanceId === ref.instanceId &&
            x.ref.lifecycleHookName === ref.lifecycleHookName
          );
        });
    if (!a || a.ref.instanceId !== ref.instanceId || a.ref.autoScalingGroupName !== ref.autoScalingGroupName)
      return undefined;
    this.expire(a);
    return a.done ? undefined : a;
  }

  /**
   * DescribeAutoScalingGroups and DescribeWarmPool: every instance of the named groups, as
   * inspect() reports it; one in Warmed:Pending:Wait with its activity. A group whose warm pool is
   * refused (`failWarmPool`): its Warmed:* instances unlisted, the group named unread.
   */
  async groupInstances(groupNames: readonly string[]): Promise<GroupListing> {
    this.call();
    const wanted = new Set(groupNames);
    const ids = new Set([...this.placed.keys(), ...[...this.actions.values()].map((a) => a.ref.instanceId)]);
    const out: GroupListing = { instances: [], unread: [] };
    for (const id of ids) {
      const v = this.view(id);
      if (!v || !wanted.has(v.autoScalingGroupName)) continue;
      const warm = v.lifecycleState.startsWith('Warmed:');
      if (warm && this.failedPools.has(v.autoScalingGroupName)) continue;
      out.instances.push({
        instanceId: id,
        autoScalingGroupName: v.autoScalingGroupName,
        lifecycleState: v.lifecycleState,
        ...(v.lifecycleState === 'Warmed:Pending:Wait' && v.activity ? { activity: v.activity } : {}),
      });
    }
    for (const [group, name] of this.failedPools)
      if (wanted.has(group)) {
        const cause = Object.assign(new Error(`not authorized to perform: autoscaling:DescribeWarmPool`), {
          name,
        });
        out.unread.push({
          autoScalingGroupName: group,
          error: new LifecycleActionError(`Auto Scaling DescribeWarmPool failed: ${name}: ${cause.message}`, {
            cause,
          }),
        });
      }
    return out;
  }

  /** The action's activity is among its group's newest SCALING_ACTIVITY_WINDOW (one per action). */
  private inWindow(a: Action): boolean {
    let newer = 0;
    for (const x of this.actions.values())
      if (x !== a && x.ref.autoScalingGroupName === a.ref.autoScalingGroupName && x.startedAt > a.startedAt)
        newer++;
    return newer < SCALING_ACTIVITY_WINDOW;
  }

  private expire(a: Action): void {
    if (!a.done && this.now() >= Math.min(a.expiresAt, a.hardLimitAt)) a.done = 'timeout';
  }

  private call(): void {
    if (this.throttles > 0) {
      this.throttles--;
      throw new ThrottledError('Auto Scaling: Rate exceeded', 1000);
    }
  }
}
