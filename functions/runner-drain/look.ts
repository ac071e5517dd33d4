import type { Subject } from '../../shared/audit/schema';
import type { GroupInstance } from '../../shared/autoscaling/port';
import { type AwsScope, scopeKey } from '../../shared/aws/scope';
import { currentSpoke } from '../../shared/aws/scope-context';
import type { RunKit } from '../../shared/kernel/perform';
import { performUngated, recordFailure } from '../../shared/kernel/perform';
import { HELD_BY_TERMINATE_HOOK, judgeLeaving } from '../../shared/runners/drain-look';
import { refuseTime } from '../../shared/runners/drain-trust';
import {
  type AdoptedLifecycleEvent,
  DRAIN_LOOK_SOURCE,
  DRAIN_SPOKE_LOOK_SOURCE,
  type DrainLook,
  type ScheduledLook,
  type SpokeLook,
  TERMINATE_LIFECYCLE_DETAIL_TYPE,
} from '../../shared/runners/lifecycle-event';
import { type Delivery, type DrainRun, eventContext, freshMs, kitOf, note, orFailed } from './run';

/** What the look records about the fleet's groups as a whole (a failed read, a refused schedule). */
const groupsSubject = (run: DrainRun): Subject => ({ autoScalingGroupName: [...run.groups].join(',') });

/** The drain the look starts: the lifecycle event's shape, from Auto Scaling's word, without a token. */
function adoptedEvent(run: DrainRun, look: DrainLook, i: GroupInstance): AdoptedLifecycleEvent {
  return {
    id: `${look.id}/${i.instanceId}`,
    source: DRAIN_LOOK_SOURCE,
    'detail-type': TERMINATE_LIFECYCLE_DETAIL_TYPE,
    time: run.runtime.now().toISOString(),
    // the look's own scope: the drain acts where Auto Scaling listed the instance
    ...(look.account ? { account: look.account } : {}),
    ...(look.region ? { region: look.region } : {}),
    detail: {
      AutoScalingGroupName: i.autoScalingGroupName,
      LifecycleHookName: run.hook,
      EC2InstanceId: i.instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
  };
}

/**
 * Start the drain of an instance found leaving without one: put the adopted event on the drain's
 * own queue, where it is re-verified like any event. In dry run too (the kit's dry run is lifted
 * for this one action, as for CONTINUE): a dry-run drain lets the instance go at once.
 */
async function adopt(kit: RunKit, run: DrainRun, look: DrainLook, i: GroupInstance, reason: string) {
  const subject = { instanceId: i.instanceId, autoScalingGroupName: i.autoScalingGroupName };
  const event = adoptedEvent(run, look, i);
  await performUngated({ ...kit, dryRun: false }, { kind: 'adopt', subject, reason }, async () => {
    await run.ports.drainScheduler.later(event, 0);
    return { decision: 'acted', reason, details: { drain: event.id } };
  });
}

/** The hub's look for one spoke: the schedule's time, that spoke's account and region. */
const spokeLook = (look: ScheduledLook, scope: AwsScope): SpokeLook => ({
  id: `${look.id}/${scope.account}/${scope.region}`,
  source: DRAIN_SPOKE_LOOK_SOURCE,
  'detail-type': 'Drain Spoke Look',
  time: look.time,
  account: scope.account,
  region: scope.region,
});

/**
 * The hub's scheduled look fans out: one look per spoke onto the drain's own queue, where the
 * scope routing hands each to that spoke's ports (its Auto Scaling, through the spoke role). One
 * record per tick (drain.look-spokes acted). Only the hub's look fans out: a spoke's look is
 * another message kind and never does, and a schedule claiming a spoke is refused here (no loop).
 * A duplicate schedule sends the looks again; the drain's state dedupes what they would start.
 */
async function fanOut(kit: RunKit, run: DrainRun, event: ScheduledLook): Promise<void> {
  const subject = groupsSubject(run);
  const inSpoke = currentSpoke();
  if (inSpoke)
    return note(kit, 'drain.look-spokes', subject, {
      decision: 'refused',
      reason: `look in spoke ${scopeKey(inSpoke)}: only the hub's look fans out`,
    });
  const looks = run.spokes.map((s) => spokeLook(event, s));
  const spokes = run.spokes.map(scopeKey);
  const reason = `one look for each spoke: ${spokes.join(', ')}`;
  await performUngated({ ...kit, dryRun: false }, { kind: 'look-spokes', subject, reason }, async () => {
    for (const l of looks) await run.ports.drainScheduler.later(l, 0);
    return { decision: 'acted', reason, details: { spokes, looks: looks.map((l) => l.id) } };
  });
}

/**
 * The scheduled look (EventBridge delivers Auto Scaling's lifecycle events best-effort): every
 * instance of the fleet's groups that Auto Scaling shows held by a terminate hook (Terminating:Wait,
 * or Warmed:Pending:Wait on its way back to the warm pool) and that no drain has
 * looked at recently (the drain's own state) gets a drain, started the way an event starts one and
 * re-verified the same way (the fleet's own hook, budget, intent, busy runners held). One record
 * per instance found leaving (drain.adopt acted, drain.look skipped/refused); a look that finds
 * none leaves none. A failed read is audited drain.look failed and the message fails (retried);
 * a group's warm pool that cannot be read (DescribeWarmPool refused) fails after every instance
 * the look could list was judged, so a lost Terminating:Wait event is still caught.
 * With spokes, the hub's look first fans out to them (`fanOut`); a spoke's look (its own message,
 * routed to that spoke's ports) lists that spoke's groups and adopts in that spoke's scope.
 */
export async function look(run: DrainRun, event: DrainLook, delivery: Delivery): Promise<void> {
  const kit = kitOf(run, eventContext(run, event, 0, delivery));
  const early = refuseTime(event.time, run.runtime.now());
  if (early) return note(kit, 'drain.look', groupsSubject(run), early);
  // the schedule's own look (never a spoke's) first: a failed read here must not starve the spokes
  if (event.source === 'aws.events' && run.spokes.length > 0) await fanOut(kit, run, event);
  const { instances, unread } = await orFailed(kit, 'drain.look', groupsSubject(run), () =>
    run.ports.lifecycleActions.groupInstances([...run.groups]),
  );
  // a group whose warm pool could not be read: audited failed (the error as read), its other
  // instances still judged below, then the message fails (retried, then dead-lettered: alarmed)
  for (const { autoScalingGroupName, error } of unread)
    await recordFailure(kit, { audit: 'drain.look', subject: { autoScalingGroupName } }, error).catch((e) => {
      if (e !== error) throw e;
    });
  for (const i of instances) {
    if (!HELD_BY_TERMINATE_HOOK.has(i.lifecycleState)) continue;
    const subject = { instanceId: i.instanceId, autoScalingGroupName: i.autoScalingGroupName };
    const looks = await orFailed(kit, 'drain.look', subject, () => run.ports.drainState.looks(i.instanceId));
    const now = run.runtime.now();
    const verdict = judgeLeaving(i, looks, { groups: run.groups, now, freshMs: freshMs(run) });
    if (!verdict) continue;
    if (verdict.kind === 'adopt') await adopt(kit, run, event, i, verdict.reason);
    else await note(kit, 'drain.look', subject, verdict);
  }
  if (unread[0]) throw unread[0].error;
}
