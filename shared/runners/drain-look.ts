/**
 * runner-drain's scheduled look (pure). Auto Scaling delivers its lifecycle events best-effort: a
 * terminate lifecycle action whose event was lost is found here, from what Auto Scaling reports
 * (DescribeAutoScalingGroups) and from the drain's own state (the last look of every drain of the
 * instance), and adopted: a drain is started for it as an event would start one, and re-verified
 * the same way. The caller reads; these functions judge.
 */

/** One instance of a group as DescribeAutoScalingGroups (or DescribeWarmPool) reports it. */
export interface GroupInstance {
  instanceId: string;
  autoScalingGroupName: string;
  lifecycleState: string;
  /** In Warmed:Pending:Wait: its scaling activity in progress launches it or takes it out (leave). */
  activity?: 'launch' | 'leave';
}

/** One drain of an instance, as its own state records it (key `<instance>#<token or look:id>`). */
export interface ChainLook {
  key: string;
  firstLookAt: Date;
  lastLookAt: Date;
}

const ADOPTED = '#look:';

/** The state key of a drain the look started (it has no lifecycle action token). */
export const adoptedKey = (instanceId: string, lookId: string) => `${instanceId}${ADOPTED}${lookId}`;
export const isAdoptedKey = (key: string) => key.includes(ADOPTED);

export type LeavingVerdict = {
  instanceId: string;
  autoScalingGroupName: string;
  reason: string;
} & ({ kind: 'adopt' } | { kind: 'skip'; decision: 'skipped' | 'refused' });

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;

/**
 * The states a terminate hook holds an instance in: `Terminating:Wait`, and `Warmed:Pending:Wait`
 * for a scale-in that returns it to the group's warm pool (instance reuse policy: the hook pauses it
 * there, then Auto Scaling stops or hibernates it, its runner with it). A launch into the warm pool
 * waits in that state too, on a launch hook: `judgeLeaving` tells them apart by the group's scaling
 * activity in progress for the instance (a launch is not leaving).
 */
export const HELD_BY_TERMINATE_HOOK: ReadonlySet<string> = new Set([
  'Terminating:Wait',
  'Warmed:Pending:Wait',
]);

/**
 * Does this instance count as leaving without a drain? Only an instance of a configured group held
 * by a terminate hook (`HELD_BY_TERMINATE_HOOK`; the drain re-verifies that the hook is the fleet's
 * own) is judged: adopted when no drain of it looked within `freshMs` (a live drain looks again
 * well within that), else left to that drain. Any other state: undefined (nothing to decide).
 * Warmed:Pending:Wait counts only when its activity in progress takes it out of the group (`leave`):
 * on a launch into the warm pool, undefined; with no activity naming it, skipped (not shown leaving).
 */
export function judgeLeaving(
  instance: GroupInstance,
  looks: readonly ChainLook[],
  o: { groups: ReadonlySet<string>; now: Date; freshMs: number },
): LeavingVerdict | undefined {
  const state = instance.lifecycleState;
  // a launch into the warm pool waits in Warmed:Pending:Wait too, on a launch hook: not leaving
  if (!HELD_BY_TERMINATE_HOOK.has(state) || instance.activity === 'launch') return undefined;
  const base = { instanceId: instance.instanceId, autoScalingGroupName: instance.autoScalingGroupName };
  if (!o.groups.has(instance.autoScalingGroupName))
    return {
      ...base,
      kind: 'skip',
      decision: 'refused',
      reason: `${instance.instanceId} is in group ${instance.autoScalingGroupName}, not a configured group: not the fleet's to drain`,
    };
  const last = latest(looks);
  const age = last ? o.now.getTime() - last.lastLookAt.getTime() : undefined;
  if (last && age !== undefined && age < o.freshMs)
    return {
      ...base,
      kind: 'skip',
      decision: 'skipped',
      reason: `${instance.instanceId} is ${state} with a drain under way (${isAdoptedKey(last.key) ? 'started by a look' : 'started by its lifecycle event'}, last look ${seconds(age)} ago): left to it`,
    };
  if (state !== 'Terminating:Wait' && !instance.activity)
    return {
      ...base,
      kind: 'skip',
      decision: 'skipped',
      reason: `${instance.instanceId} is ${state}, no scaling activity naming it: not shown leaving, no drain started`,
    };
  return {
    ...base,
    kind: 'adopt',
    reason: `${instance.instanceId} found leaving without a drain (${state}, ${last && age !== undefined ? `last drain look ${seconds(age)} ago` : 'no drain has looked at it'}; its lifecycle event was lost or is late): starting a drain`,
  };
}

function latest(looks: readonly ChainLook[]): ChainLook | undefined {
  let out: ChainLook | undefined;
  for (const l of looks) if (!out || l.lastLookAt > out.lastLookAt) out = l;
  return out;
}

/**
 * Should the adopted drain `mine` stop for another live drain (last look within `freshMs`) of the
 * same instance? An event-started drain always goes on (its event may come late, or twice): the
 * adopted one yields to it. Between adopted drains the earliest first look (then the key) goes on,
 * and every one of them computes the same answer. The key yielded to, or undefined: go on.
 */
export function yieldTo(
  mine: string,
  looks: readonly ChainLook[],
  now: Date,
  freshMs: number,
): string | undefined {
  const live = looks.filter((l) => l.key !== mine && now.getTime() - l.lastLookAt.getTime() < freshMs);
  const event = live.find((l) => !isAdoptedKey(l.key));
  if (event) return event.key;
  const me = looks.find((l) => l.key === mine);
  const before = (a: ChainLook, b: { key: string; firstLookAt: Date }) =>
    a.firstLookAt < b.firstLookAt || (a.firstLookAt.getTime() === b.firstLookAt.getTime() && a.key < b.key);
  const first = live.find((l) => !me || before(l, me));
  return first?.key;
}
