import type { LifecycleActionView } from '../autoscaling/port';
import { HELD_BY_TERMINATE_HOOK } from './drain-look';

/**
 * What runner-drain trusts. A queue message is a hint: its time, hook, group and instance are
 * checked here, and nothing is done until Auto Scaling itself (DescribeAutoScalingInstances,
 * DescribeLifecycleHooks, DescribeScalingActivities) shows the fleet's own hook holding the
 * instance of a configured group. Pure: the caller looks, these functions judge.
 */

/** An event dated later than now plus this skew is refused (clocks differ by seconds, not minutes). */
export const FUTURE_SKEW_MS = 5 * 60_000;

/** States after the hook: the action is over (completed, or timed out with its default result). */
const OVER =
  /^(Terminating:Proceed|Terminated|Warmed:Pending:Proceed|Warmed:Terminat|Warmed:Stopped|Warmed:Running|Warmed:Hibernated)/;

export type Refusal = { decision: 'skipped' | 'refused'; reason: string };

/** A message time must be a date, and not one in the future. undefined: acceptable. */
export function refuseTime(time: string, now: Date): Refusal | undefined {
  const t = Date.parse(time);
  if (Number.isNaN(t))
    return {
      decision: 'refused',
      reason: `event time "${time.slice(0, 64)}" is not a valid time: not acting on it`,
    };
  if (t > now.getTime() + FUTURE_SKEW_MS)
    return {
      decision: 'refused',
      reason: `event time ${new Date(t).toISOString()} is in the future (now ${now.toISOString()}, skew allowed ${FUTURE_SKEW_MS / 60_000} min): not acting on it`,
    };
  return undefined;
}

export interface DrainClaim {
  instanceId: string;
  autoScalingGroupName: string;
  lifecycleHookName: string;
  /** Where the event says the instance goes: 'WarmPool' means it comes back. */
  destination?: string;
}

export type ActionVerdict =
  | {
      kind: 'act';
      /** Scale-in into a warm pool: the instance (and its runner registration) comes back. */
      warmPool: boolean;
      startedAt?: Date;
      heartbeatSeconds: number;
      globalSeconds: number;
    }
  /** `lookAgain`: not yet held by the hook; the drain looks again later (bounded) instead of dropping it. */
  | ({ kind: 'stop'; lookAgain?: boolean } & Refusal);

/** How many looks a message gets while Auto Scaling still shows plain `Terminating`. */
export const MAX_EARLY_LOOKS = 3;

/** The message's claims before any look: only the fleet's own hook, only configured groups. */
export function screenClaim(
  claim: DrainClaim,
  ownHook: string,
  groups: ReadonlySet<string>,
): Refusal | undefined {
  if (claim.lifecycleHookName !== ownHook)
    return {
      decision: 'skipped',
      reason: `ignored: hook ${claim.lifecycleHookName} is not the fleet's (${ownHook}); another owner's lifecycle action is never heartbeated or completed`,
    };
  if (!groups.has(claim.autoScalingGroupName))
    return {
      decision: 'refused',
      reason: `Auto Scaling group ${claim.autoScalingGroupName} is not one of the fleet's; not touching its lifecycle action`,
    };
  return undefined;
}

/** The message's claims against what Auto Scaling reports for the instance. */
export function judgeView(
  view: LifecycleActionView | undefined,
  claim: DrainClaim,
  groups: ReadonlySet<string>,
  /** Which look at this message this is (0 = the event itself). */
  attempt = 0,
): ActionVerdict {
  const stop = (decision: Refusal['decision'], reason: string): ActionVerdict => ({
    kind: 'stop',
    decision,
    reason,
  });
  if (!view)
    return stop(
      'skipped',
      `no Auto Scaling group describes ${claim.instanceId}: the instance is gone and its lifecycle action is over`,
    );
  const g = view.autoScalingGroupName;
  if (g !== claim.autoScalingGroupName || !groups.has(g))
    return stop(
      'refused',
      `Auto Scaling reports ${claim.instanceId} in group ${g}, not ${claim.autoScalingGroupName}${groups.has(g) ? '' : ' (not a configured group)'}: the message is wrong`,
    );
  if (OVER.test(view.lifecycleState))
    return stop(
      'skipped',
      `${claim.instanceId} is ${view.lifecycleState}: the lifecycle action is over, nothing to hold or complete`,
    );
  if (view.lifecycleState === 'Terminating' && attempt < MAX_EARLY_LOOKS)
    return {
      kind: 'stop',
      decision: 'skipped',
      reason: `${claim.instanceId} is Terminating, not yet Terminating:Wait (Auto Scaling's view lags the hook): looking again`,
      lookAgain: true,
    };
  if (!HELD_BY_TERMINATE_HOOK.has(view.lifecycleState))
    return stop(
      'refused',
      `Auto Scaling reports ${claim.instanceId} ${view.lifecycleState}, not waiting on a terminate hook: the message is wrong`,
    );
  // a launch into the warm pool waits in Warmed:Pending:Wait too, on a launch hook: only a scale-in
  // (its activity takes the instance out of the group, or the terminate event's own Destination) acts
  if (
    view.lifecycleState === 'Warmed:Pending:Wait' &&
    (view.activity === 'launch' || (!view.activity && claim.destination !== 'WarmPool'))
  )
    return stop(
      'refused',
      `${claim.instanceId} is Warmed:Pending:Wait, ${view.activity ? 'launching into the warm pool' : 'no scaling activity naming it: not shown leaving'}: not a terminate action`,
    );
  if (!view.hook)
    return stop(
      'refused',
      `group ${g} has no lifecycle hook ${claim.lifecycleHookName}: the action is not the fleet's`,
    );
  return {
    kind: 'act',
    warmPool: view.lifecycleState === 'Warmed:Pending:Wait' || claim.destination === 'WarmPool',
    ...(view.startedAt ? { startedAt: view.startedAt } : {}),
    heartbeatSeconds: view.hook.heartbeatTimeoutSeconds,
    globalSeconds: view.hook.globalTimeoutSeconds,
  };
}

/**
 * When the drain's deadline clock started: the group's own activity start, else the start this
 * drain recorded at its first look; never the message's time. No earlier than the hook's global
 * timeout allows (an action that old would be over).
 */
export function drainStartedAt(
  verdict: { startedAt?: Date; globalSeconds: number },
  firstLook: Date | undefined,
  now: Date,
): Date {
  const t = (verdict.startedAt ?? firstLook ?? now).getTime();
  return new Date(Math.min(now.getTime(), Math.max(t, now.getTime() - verdict.globalSeconds * 1000)));
}

/** Look again well inside the hook's own heartbeat timeout, whatever the configured delay. */
export function retryDelaySeconds(configured: number, heartbeatSeconds: number): number {
  return Math.max(1, Math.min(configured, Math.floor(heartbeatSeconds / 3)));
}

/** A spot interruption warning is acted on only for an instance of a configured group. */
export function judgeSpotView(
  view: LifecycleActionView | undefined,
  instanceId: string,
  groups: ReadonlySet<string>,
): Refusal | undefined {
  if (!view)
    return {
      decision: 'refused',
      reason: `no Auto Scaling group describes ${instanceId}: not a fleet instance`,
    };
  if (!groups.has(view.autoScalingGroupName))
    return {
      decision: 'refused',
      reason: `${instanceId} is in group ${view.autoScalingGroupName}, not a configured group: not the fleet's`,
    };
  return undefined;
}

/**
 * A spot warning is acted on (cordon) only when the instance is to be terminated: after `stop` or
 * `hibernate` the instance comes back with its runner, and nothing would lift the cordon.
 */
export function spotActionRefusal(instanceId: string, action: string): Refusal | undefined {
  if (action === 'terminate') return undefined;
  return {
    decision: 'skipped',
    reason: `spot interruption of ${instanceId} with instance-action ${action.slice(0, 32)}: the instance comes back (only terminate is cordoned; a cordon would outlive the return)`,
  };
}
