import type { GitHubRunner } from '../../shared/github/port';
import { judgeSpotView, refuseTime, spotActionRefusal } from '../../shared/runners/drain-trust';
import { findByConventionalNames } from '../../shared/runners/find-by-name';
import type { SpotInterruptionEvent } from '../../shared/runners/lifecycle-event';
import { instanceIdOf } from '../../shared/runners/matching';
import { type Delivery, type DrainRun, eventContext, kitOf, type Look, note, orFailed } from './run';
import { cordonRunners } from './runner-actions';

/** The instance's runners: by its documented names, else from a full listing; mine only. */
async function runnersOf(run: DrainRun, id: string): Promise<GitHubRunner[]> {
  const mine = (rs: GitHubRunner[]) => rs.filter((r) => instanceIdOf(r)?.instanceId === id);
  const byName = mine(await findByConventionalNames(run.ports.registry, [id]));
  return byName.length > 0 ? byName : mine(await run.ports.registry.listRunners());
}

/**
 * Spot interruption warning: cordon the runner of a fleet instance at once (two minutes' notice),
 * only when the instance is to be terminated: after a stop or hibernation it comes back, and
 * nothing would lift the cordon.
 */
export async function spot(run: DrainRun, event: SpotInterruptionEvent, delivery: Delivery): Promise<void> {
  const id = event.detail['instance-id'];
  const kit = kitOf(run, eventContext(run, event, 0, delivery));
  const m: Look = { run, kit, subject: { instanceId: id } };
  const early = refuseTime(event.time, run.runtime.now());
  const view = early
    ? undefined
    : await orFailed(kit, 'spot.interruption', m.subject, () => run.ports.lifecycleActions.inspect(id));
  const refusal =
    early ?? judgeSpotView(view, id, run.groups) ?? spotActionRefusal(id, event.detail['instance-action']);
  if (refusal) return note(kit, 'spot.interruption', m.subject, refusal);
  const found = await orFailed(kit, 'spot.interruption', m.subject, () => runnersOf(run, id));
  if (found.length === 0)
    return note(kit, 'spot.interruption', m.subject, {
      decision: 'skipped',
      reason: `spot interruption of ${id}: no runner registered for it, nothing to cordon`,
    });
  const subject = { ...m.subject, autoScalingGroupName: view?.autoScalingGroupName };
  await cordonRunners(m, found, subject, 'is on a spot instance being interrupted');
}
