import type { LifecycleActionRef } from '../../shared/autoscaling/port';
import { performUngated } from '../../shared/kernel/perform';
import { metrics } from '../../shared/observability/powertools';
import type { RunnerCensus } from '../../shared/runners/census';
import type { DrainDecision } from '../../shared/runners/drain';
import { adoptedKey, yieldTo } from '../../shared/runners/drain-look';
import {
  CENSUS_TTL_MS,
  DRAIN_STATE_TTL_MS,
  type DrainState,
  drainStateKey,
} from '../../shared/runners/drain-state';
import {
  type ActionVerdict,
  type DrainClaim,
  drainStartedAt,
  judgeView,
  refuseTime,
  retryDelaySeconds,
  screenClaim,
} from '../../shared/runners/drain-trust';
import { findRunners, type Settled } from './find-runners';
import {
  type Delivery,
  type DrainMessage,
  type DrainRun,
  eventContext,
  freshMs,
  kitOf,
  type Look,
  note,
  orFailed,
} from './run';
import { cordonRunners, deregister } from './runner-actions';

type Acting = Extract<ActionVerdict, { kind: 'act' }>;

/** The action the calls name: by its token, or (a drain the look started) by the instance id. */
const refOf = ({ event: { detail: d } }: DrainMessage): LifecycleActionRef => ({
  autoScalingGroupName: d.AutoScalingGroupName,
  lifecycleHookName: d.LifecycleHookName,
  ...('LifecycleActionToken' in d ? { lifecycleActionToken: d.LifecycleActionToken } : {}),
  instanceId: d.EC2InstanceId,
});

/** The drain's state key: the action's token, or the look that started it (no token known). */
const keyOf = ({ event }: DrainMessage): string =>
  'LifecycleActionToken' in event.detail
    ? drainStateKey(event.detail.EC2InstanceId, event.detail.LifecycleActionToken)
    : adoptedKey(event.detail.EC2InstanceId, event.id);

/**
 * A drain the look started stops when another drain of the instance is under way (the lifecycle
 * event arrived late, or another look's drain began first): audited drain.adopt skipped, no
 * heartbeat, no look again. An event's own drain never stops for one the look started.
 */
async function yields(m: Look, msg: DrainMessage, key: string, at: Date): Promise<boolean> {
  if ('LifecycleActionToken' in msg.event.detail) return false;
  const id = msg.event.detail.EC2InstanceId;
  const looks = await orFailed(m.kit, 'drain.state', m.subject, () => m.run.ports.drainState.looks(id));
  const other = yieldTo(key, looks, at, freshMs(m.run));
  if (!other) return false;
  await note(m.kit, 'drain.adopt', m.subject, {
    decision: 'skipped',
    reason: `another drain of ${id} is under way (${other}): this one, started by the scheduled look, stops`,
  });
  return true;
}

/** Put the look-again on the queue; a failure to do so is audited `drain.retry` failed (then rethrown). */
const lookAgain = (m: Look, msg: DrainMessage, delaySeconds: number) =>
  orFailed(m.kit, 'drain.retry', m.subject, () =>
    m.run.ports.drainScheduler.later(
      { fleetwarden: 'drain-retry', attempt: msg.attempt + 1, event: msg.event },
      delaySeconds,
    ),
  );

/** The message checked against itself and against Auto Scaling; a stop is audited here. */
async function verify(m: Look, msg: DrainMessage): Promise<Acting | undefined> {
  const { run } = m;
  const d = msg.event.detail;
  const claim: DrainClaim = {
    instanceId: d.EC2InstanceId,
    autoScalingGroupName: d.AutoScalingGroupName,
    lifecycleHookName: d.LifecycleHookName,
    ...(d.Destination ? { destination: d.Destination } : {}),
  };
  const early = refuseTime(msg.event.time, run.runtime.now()) ?? screenClaim(claim, run.hook, run.groups);
  if (early) {
    await note(m.kit, 'lifecycle.verify', m.subject, early);
    return undefined;
  }
  const view = await orFailed(m.kit, 'lifecycle.verify', m.subject, () =>
    run.ports.lifecycleActions.inspect(d.EC2InstanceId, run.hook),
  );
  const verdict = judgeView(view, claim, run.groups, msg.attempt);
  if (verdict.kind === 'act') return verdict;
  await note(m.kit, 'lifecycle.verify', m.subject, verdict);
  if (verdict.lookAgain) await lookAgain(m, msg, Math.min(run.retryDelaySeconds, 30));
  return undefined;
}

/** A warm-pool instance comes back: its runners stay registered (idle ones are still read again). */
function keepForWarmPool(decision: Settled): Settled {
  if (decision.kind === 'wait')
    return { ...decision, deregister: [], seen: [...(decision.seen ?? []), ...(decision.deregister ?? [])] };
  const kept = decision.deregister.map((r) => r.name);
  return {
    ...decision,
    deregister: [],
    reason: `${decision.reason.replace(/: deregistering before termination$/, '')}; the instance goes back to the warm pool (it comes back): ${kept.length ? `runner ${kept.join(', ')} kept registered` : 'nothing to deregister'}`,
  };
}

/** Heartbeat the action (through the kernel); while it is alive, look again after `delaySeconds`. */
async function holdAndLookAgain(m: Look, msg: DrainMessage, reason: string, delaySeconds: number) {
  const held = await performUngated(m.kit, { kind: 'heartbeat', subject: m.subject, reason }, async () =>
    (await m.run.ports.lifecycleActions.heartbeat(refOf(msg))) === 'recorded'
      ? { decision: 'acted', reason: `${reason}; heartbeat recorded, looking again in ${delaySeconds} s` }
      : {
          decision: 'skipped',
          reason:
            'No active Lifecycle Action found (token expired or already used): the instance is leaving without us; not retried',
        },
  );
  if (held.decision === 'acted') await lookAgain(m, msg, delaySeconds);
}

/**
 * Let the instance go: CompleteLifecycleAction(CONTINUE). In dry run too (the kit's dry run is
 * lifted for this one action): a dry-run drain never holds an instance hostage, and Auto Scaling
 * terminates it either way once the hook lets go (CONTINUE only spares the wait).
 */
async function completeAction(m: Look, msg: DrainMessage, decision: DrainDecision) {
  const reason = decision.reason;
  if (decision.kind === 'deadline') metrics.addMetric('DrainDeadlineReached', 'Count', 1);
  await performUngated(
    { ...m.kit, dryRun: false },
    { kind: 'complete', subject: m.subject, reason },
    async () =>
      (await m.run.ports.lifecycleActions.complete(refOf(msg), 'CONTINUE')) === 'completed'
        ? { decision: 'acted', reason: `${reason}; lifecycle action completed (CONTINUE)` }
        : {
            decision: 'skipped',
            reason: `${reason}; No active Lifecycle Action found (token expired or already used): recorded, not retried`,
          },
  );
}

/** Hold a busy instance: cordon its busy runners, remember every runner seen, heartbeat, look again. */
async function hold(
  m: Look,
  msg: DrainMessage,
  look: { verdict: Acting; state: DrainState; key: string; expires: Date; absentOnce: boolean },
  decision: Extract<Settled, { kind: 'wait' }>,
) {
  // a warm-pool instance comes back with its runner: cordoning would outlive the return
  if (!look.verdict.warmPool)
    await cordonRunners(m, decision.busy, m.subject, 'is busy on a terminating instance');
  // every runner of the instance seen so far (busy and idle) is read again on the next look
  const seen = new Set([...decision.busy, ...(decision.seen ?? [])].map((r) => r.id));
  const runnerIds = seen.size > 0 ? [...seen] : look.state.runnerIds;
  await orFailed(m.kit, 'drain.state', m.subject, () =>
    m.run.ports.drainState.save(look.key, { runnerIds, absentOnce: look.absentOnce }, look.expires),
  );
  const delaySeconds = retryDelaySeconds(m.run.retryDelaySeconds, look.verdict.heartbeatSeconds);
  await holdAndLookAgain(m, msg, decision.reason, delaySeconds);
}

/**
 * Drain one terminating runner instance. Nothing in the message is taken as fact: its time must be
 * a date and not in the future, its hook the fleet's own, its group a configured one, and Auto
 * Scaling must show the instance held by that hook (Terminating:Wait, or Warmed:Pending:Wait for a
 * scale-in into a warm pool) before anything is heartbeated or completed; the deadline clock starts
 * at the group's own activity start, else at the drain's first look (its own state, never the
 * message's). Then: idle runners -> deregister (not for a warm pool: the instance comes back),
 * CompleteLifecycleAction(CONTINUE); a busy one -> cordon it, deregister the idle ones beside it,
 * heartbeat and look again within the hook's heartbeat timeout until no runner of the instance is
 * busy or the drain deadline; a failed deregistration (GitHub 5xx) is held the same way.
 */
export async function drain(run: DrainRun, msg: DrainMessage, delivery: Delivery): Promise<void> {
  const d = msg.event.detail;
  const kit = kitOf(run, eventContext(run, msg.event, msg.attempt, delivery));
  const m: Look = {
    run,
    kit,
    subject: { instanceId: d.EC2InstanceId, autoScalingGroupName: d.AutoScalingGroupName },
  };
  const verdict = await verify(m, msg);
  if (!verdict) return;
  const at = run.runtime.now();
  const key = keyOf(msg);
  const expires = new Date(at.getTime() + DRAIN_STATE_TTL_MS);
  // the drain's own memory of this action, never the message's: first look, runners, absence
  const state = await orFailed(kit, 'drain.state', m.subject, () =>
    run.ports.drainState.begin(key, at, expires),
  );
  if (await yields(m, msg, key, at)) return;
  const startedAt = drainStartedAt(verdict, state.firstLookAt, at);
  const pastDeadline = at.getTime() - startedAt.getTime() >= run.deadlineMs;
  const input = {
    instanceId: d.EC2InstanceId,
    startedAt,
    now: at,
    deadlineMs: run.deadlineMs,
    ...(run.labels.length ? { labels: run.labels } : {}),
  };
  const census = {
    read: () => orFailed(kit, 'drain.state', m.subject, () => run.ports.drainState.census(at)),
    record: (c: RunnerCensus) =>
      orFailed(kit, 'drain.state', m.subject, () =>
        run.ports.drainState.recordCensus(c, new Date(at.getTime() + CENSUS_TTL_MS)),
      ),
  };
  let { decision, absentOnce } = await findRunners(
    run.ports.registry,
    state,
    input,
    census,
    run.retryDelaySeconds * 1000,
  );
  if (verdict.warmPool) decision = keepForWarmPool(decision);
  if (run.dryRun && decision.kind === 'wait')
    decision = {
      kind: 'complete',
      deregister: [],
      reason: `dry run: would hold the instance (${decision.reason})`,
    };
  decision = await deregister(m, decision, pastDeadline);
  if (decision.kind === 'wait') await hold(m, msg, { verdict, state, key, expires, absentOnce }, decision);
  else await completeAction(m, msg, decision);
}
