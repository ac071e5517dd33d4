import { ASG, type KillCause, lifecycleEvent, type TruthInstance } from './fleet-model';
import type { LifecycleHookRoute } from './routing';
import type { Engine } from './scenario';

const terminateHookOf = (e: Engine): LifecycleHookRoute | undefined =>
  e.routing.lifecycleHooks.find(
    (h) => h.autoScalingGroupName === ASG && h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING',
  );

/**
 * ASG scale-in of a runner instance (its n-th): every terminate hook of the group (the fleet's, and
 * other teams' if any) holds the instance until its lifecycle action completes or times out; then
 * it terminates, or stops into the warm pool.
 */
export function scaleIn(e: Engine, t: TruthInstance, n: number): void {
  // the scale-in decision is the trigger CloudTrail shows (a hook, if deployed, then holds the instance)
  e.world.evidence.change('TerminateInstanceInAutoScalingGroup', 'autoscaling.amazonaws.com', t.id);
  const hook = terminateHookOf(e);
  if (!hook) {
    // no terminate hook deployed: nothing holds the instance
    e.stats.lastChangeAt = e.clock.now;
    e.terminateNow(t, 'other');
    return;
  }
  const startedAt = e.clock.now;
  const warm = e.toWarmPool(n);
  const tokens = beginActions(e, t, n, hook, warm);
  if (warm) e.world.instanceLifecycle.put(ASG, t.id, 'Warmed:Pending:Wait');
  else e.world.instanceLifecycle.markTerminating(t.id);
  e.stats.lastChangeAt = e.clock.now;
  const watch = () => {
    const outcomes = tokens.map((token) => e.world.lifecycleActions.outcome(token));
    if (outcomes.some((o) => o === undefined)) {
      e.after(5_000, watch);
      return;
    }
    release(e, t, tokens[0] as string, startedAt, warm);
  };
  e.after(5_000, watch);
}

/** One lifecycle action per terminate hook of the group, each with its event; their tokens, the fleet's first. */
function beginActions(
  e: Engine,
  t: TruthInstance,
  n: number,
  hook: LifecycleHookRoute,
  warm: boolean,
): string[] {
  const extra: Record<string, string> = warm ? { Origin: 'AutoScalingGroup', Destination: 'WarmPool' } : {};
  const hooks = [
    { name: hook.name, heartbeatTimeoutMs: hook.heartbeatTimeoutMs, foreign: false, onEvent: undefined },
    ...e.foreignHooks.map((h) => ({ onEvent: undefined, ...h, foreign: true })),
  ];
  return hooks.map((h, k) => {
    const ref = {
      autoScalingGroupName: ASG,
      lifecycleHookName: h.name,
      lifecycleActionToken: `token-${t.id}-${n}${k === 0 ? '' : `-${k}`}`,
      instanceId: t.id,
    };
    if (h.foreign) e.foreignTokens.add(ref.lifecycleActionToken);
    else
      e.hooks.push({
        token: ref.lifecycleActionToken,
        instanceId: t.id,
        startedAt: e.clock.now,
        hookName: h.name,
        heartbeatTimeoutMs: h.heartbeatTimeoutMs,
      });
    e.world.lifecycleActions.begin(ref, h.heartbeatTimeoutMs, { warmPool: warm });
    const event = lifecycleEvent(ref, `asg-${t.id}-${n}${k === 0 ? '' : `-${k}`}`, e.clock.now, extra);
    e.emit('default', event);
    h.onEvent?.(event);
    return ref.lifecycleActionToken;
  });
}

/** Every lifecycle action of the scale-in is over: the instance goes (or stops into the warm pool). */
function release(e: Engine, t: TruthInstance, fleetToken: string, startedAt: number, warm: boolean): void {
  e.world.instanceLifecycle.forget(t.id);
  const held = e.clock.now - startedAt;
  // only the fleet completes the fleet's lifecycle action; a timeout is the hook's DefaultResult
  const outcome = e.world.lifecycleActions.outcome(fleetToken);
  const cause: KillCause =
    outcome === 'timeout'
      ? 'hook-timeout'
      : held >= e.drainDeadlineMs
        ? 'fleet-deadline'
        : 'fleet-completed-hook';
  // a warm-pool runner stays online: a job it took after the fleet completed dies with the
  // other hooks' hold, not with the fleet's completion
  const completedAt = e.world.lifecycleActions.completedAt(fleetToken);
  const after = completedAt !== undefined && (t.jobStartedAt ?? 0) > completedAt;
  if (warm) e.parkInWarmPool(t, after ? 'other' : cause, held);
  else e.terminateNow(t, cause, held);
}
