import { ASG, type KillCause, lifecycleEvent, type TruthInstance } from './fleet-model';
import { inScope } from './forwarding';
import type { LifecycleHookRoute } from './routing';
import type { Engine } from './scenario';

const terminateHookOf = (e: Engine): LifecycleHookRoute | undefined =>
  e.routing.lifecycleHooks.find(
    (h) => h.autoScalingGroupName === ASG && h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING',
  );

/**
 * ASG scale-in of a runner instance (its n-th): every terminate hook of the group (the fleet's, and
 * other teams' if any) holds the instance until its lifecycle action completes or times out; then
 * it terminates, or stops into the warm pool. A spoke's runner (`t.scope`) is held by its own
 * scope's Auto Scaling, and its events are raised there (reaching the hub only when forwarded);
 * a spoke's scale-in never goes to the warm pool (the simulated warm pool is the hub's).
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
  const warm = !t.scope && e.toWarmPool(n);
  const tokens = beginActions(e, t, n, hook, warm);
  const parts = e.world.scopes.parts(t.scope);
  if (warm) parts.instanceLifecycle.put(ASG, t.id, 'Warmed:Pending:Wait');
  else parts.instanceLifecycle.markTerminating(t.id);
  e.stats.lastChangeAt = e.clock.now;
  const watch = () => {
    const outcomes = tokens.map((token) => e.actionOutcome(t.scope, token));
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
  const actions = e.world.scopes.parts(t.scope).lifecycleActions;
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
        ...(t.scope ? { scope: t.scope } : {}),
      });
    actions.begin(ref, h.heartbeatTimeoutMs, { warmPool: warm });
    const raised = lifecycleEvent(ref, `asg-${t.id}-${n}${k === 0 ? '' : `-${k}`}`, e.clock.now, extra);
    const event = t.scope ? inScope(raised, t.scope) : raised;
    e.emitIn(t.scope, event);
    h.onEvent?.(event);
    return ref.lifecycleActionToken;
  });
}

/** Every lifecycle action of the scale-in is over: the instance goes (or stops into the warm pool). */
function release(e: Engine, t: TruthInstance, fleetToken: string, startedAt: number, warm: boolean): void {
  const parts = e.world.scopes.parts(t.scope);
  parts.instanceLifecycle.forget(t.id);
  const held = e.clock.now - startedAt;
  // only the fleet completes the fleet's lifecycle action; a timeout is the hook's DefaultResult
  const outcome = e.actionOutcome(t.scope, fleetToken);
  const cause: KillCause =
    outcome === 'timeout'
      ? 'hook-timeout'
      : held >= e.drainDeadlineMs
        ? 'fleet-deadline'
        : 'fleet-completed-hook';
  // a warm-pool runner stays online: a job it took after the fleet completed dies with the
  // other hooks' hold, not with the fleet's completion
  const completedAt = parts.lifecycleActions.completedAt(fleetToken);
  const after = completedAt !== undefined && (t.jobStartedAt ?? 0) > completedAt;
  if (warm) e.parkInWarmPool(t, after ? 'other' : cause, held);
  else e.terminateNow(t, cause, held);
}
