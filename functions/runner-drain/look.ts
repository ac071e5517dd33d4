import type { Subject } from '../../shared/audit/schema';
import type { GroupInstance } from '../../shared/autoscaling/port';
import type { RunKit } from '../../shared/kernel/perform';
import { perform } from '../../shared/kernel/perform';
import { judgeLeaving } from '../../shared/runners/drain-look';
import { refuseTime } from '../../shared/runners/drain-trust';
import {
  type AdoptedLifecycleEvent,
  DRAIN_LOOK_SOURCE,
  type ScheduledLook,
  TERMINATE_LIFECYCLE_DETAIL_TYPE,
} from '../../shared/runners/lifecycle-event';
import { type Delivery, type DrainRun, eventContext, freshMs, kitOf, note, orFailed } from './run';

/** What the look records about the fleet's groups as a whole (a failed read, a refused schedule). */
const groupsSubject = (run: DrainRun): Subject => ({ autoScalingGroupName: [...run.groups].join(',') });

/** The drain the look starts: the lifecycle event's shape, from Auto Scaling's word, without a token. */
function adoptedEvent(run: DrainRun, look: ScheduledLook, i: GroupInstance): AdoptedLifecycleEvent {
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
async function adopt(kit: RunKit, run: DrainRun, look: ScheduledLook, i: GroupInstance, reason: string) {
  const subject = { instanceId: i.instanceId, autoScalingGroupName: i.autoScalingGroupName };
  const event = adoptedEvent(run, look, i);
  await perform({ ...kit, dryRun: false }, { kind: 'adopt', subject, reason }, async () => {
    await run.ports.drainScheduler.later(event, 0);
    return { decision: 'acted', reason, details: { drain: event.id } };
  });
}

/**
 * The scheduled look (EventBridge delivers Auto Scaling's lifecycle events best-effort): every
 * instance of the fleet's groups that Auto Scaling shows in Terminating:Wait and that no drain has
 * looked at recently (the drain's own state) gets a drain, started the way an event starts one and
 * re-verified the same way (the fleet's own hook, budget, intent, busy runners held). One record
 * per instance found leaving (drain.adopt acted, drain.look skipped/refused); a look that finds
 * none leaves none. A failed read is audited drain.look failed and the message fails (retried).
 */
export async function look(run: DrainRun, event: ScheduledLook, delivery: Delivery): Promise<void> {
  const kit = kitOf(run, eventContext(run, event, 0, delivery));
  const early = refuseTime(event.time, run.runtime.now());
  if (early) return note(kit, 'drain.look', groupsSubject(run), early);
  const listed = await orFailed(kit, 'drain.look', groupsSubject(run), () =>
    run.ports.lifecycleActions.groupInstances([...run.groups]),
  );
  for (const i of listed) {
    if (i.lifecycleState !== 'Terminating:Wait') continue;
    const subject = { instanceId: i.instanceId, autoScalingGroupName: i.autoScalingGroupName };
    const looks = await orFailed(kit, 'drain.look', subject, () => run.ports.drainState.looks(i.instanceId));
    const now = run.runtime.now();
    const verdict = judgeLeaving(i, looks, { groups: run.groups, now, freshMs: freshMs(run) });
    if (!verdict) continue;
    if (verdict.kind === 'adopt') await adopt(kit, run, event, i, verdict.reason);
    else await note(kit, 'drain.look', subject, verdict);
  }
}
