import { ThrottledError } from '../core/errors';
import type { LifecycleActionRef, LifecycleActions } from './port';

interface Action {
  ref: LifecycleActionRef;
  /** Heartbeat timeout expiry (epoch ms); each heartbeat resets it. */
  expiresAt: number;
  /** Global cap: 48 h or 100 x heartbeat timeout, whichever is smaller. */
  hardLimitAt: number;
  heartbeatTimeoutMs: number;
  done?: 'CONTINUE' | 'ABANDON' | 'timeout';
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
  readonly calls = { heartbeat: 0, complete: 0 };

  constructor(private readonly now: () => number = Date.now) {}

  /** Auto Scaling started a lifecycle action (what puts the event on the bus). */
  begin(ref: LifecycleActionRef, heartbeatTimeoutMs = 300_000): void {
    const now = this.now();
    this.actions.set(ref.lifecycleActionToken, {
      ref,
      heartbeatTimeoutMs,
      expiresAt: now + heartbeatTimeoutMs,
      hardLimitAt: now + Math.min(48 * 3_600_000, 100 * heartbeatTimeoutMs),
    });
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
    return 'completed';
  }

  private active(ref: LifecycleActionRef): Action | undefined {
    const a = this.actions.get(ref.lifecycleActionToken);
    if (!a || a.ref.instanceId !== ref.instanceId || a.ref.autoScalingGroupName !== ref.autoScalingGroupName)
      return undefined;
    this.expire(a);
    return a.done ? undefined : a;
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
