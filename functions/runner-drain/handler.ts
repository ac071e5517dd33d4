import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { type AuditContext, auditedAction, sqsDelivery } from '../../shared/audit/audited-action';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import type { AuditSink } from '../../shared/audit/port';
import type { Subject } from '../../shared/audit/schema';
import { AutoScalingLifecycleActions } from '../../shared/autoscaling/autoscaling-lifecycle-actions';
import type { LifecycleActionRef, LifecycleActions } from '../../shared/autoscaling/port';
import { envBoolean, readEnv } from '../../shared/core/env';
import { FleetwardenError, MalformedEventError, ThrottledError } from '../../shared/core/errors';
import { GitHubApiError, RunnerBusyError, RunnerListingError } from '../../shared/github/errors';
import type { GitHubRunner, RunnerRegistry } from '../../shared/github/port';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { logger, metrics } from '../../shared/observability/powertools';
import {
  type DrainDecision,
  type DrainInput,
  DrainInvariantError,
  decideDrain,
} from '../../shared/runners/drain';
import { type DrainScheduler, SqsDrainScheduler } from '../../shared/runners/drain-scheduler';
import {
  DRAIN_STATE_TTL_MS,
  type DrainState,
  type DrainStateStore,
  drainStateKey,
} from '../../shared/runners/drain-state';
import { DRAIN_STATE_TABLE_ENV, DynamoDbDrainState } from '../../shared/runners/drain-state-dynamodb';
import {
  type DrainClaim,
  drainStartedAt,
  judgeSpotView,
  judgeView,
  type Refusal,
  refuseTime,
  retryDelaySeconds,
  screenClaim,
  spotActionRefusal,
} from '../../shared/runners/drain-trust';
import { findByConventionalNames } from '../../shared/runners/find-by-name';
import {
  DrainRetrySchema,
  type SpotInterruptionEvent,
  SpotInterruptionEventSchema,
  type TerminateLifecycleEvent,
  TerminateLifecycleEventSchema,
} from '../../shared/runners/lifecycle-event';
import {
  conventionalRunnerNames,
  cordonLabels,
  DRAINING_LABEL,
  instanceIdOf,
} from '../../shared/runners/matching';
import type { Listing } from '../../shared/runners/sweep-planner';

export const RunnerDrainEnv = z.object({
  [AUDIT_TABLE_ENV]: z.string().min(1),
  /** Where runner-drain keeps its own state: the sweep state table, partition `drain`. */
  [DRAIN_STATE_TABLE_ENV]: z.string().min(1),
  DRAIN_QUEUE_URL: z.string().url(),
  AUTO_SCALING_GROUP_NAMES: z.string().transform((s) => new Set(s.split(',').filter(Boolean))),
  /** The fleet's own terminate hook: the only one runner-drain heartbeats or completes. */
  LIFECYCLE_HOOK_NAME: z.string().min(1),
  DRAIN_DEADLINE_SECONDS: z.coerce.number().int().min(60).max(172_800).default(1800),
  RETRY_DELAY_SECONDS: z.coerce.number().int().min(10).max(900).default(60),
  DRY_RUN: envBoolean.default(true),
});

export interface RunnerDrainDeps {
  registry: RunnerRegistry;
  lifecycle: LifecycleActions;
  scheduler: DrainScheduler;
  audit: AuditSink;
  /** The drain's own state per lifecycle action (first look, runners seen, absence seen once). */
  state: DrainStateStore;
  dryRun: boolean;
  deadlineMs: number;
  retryDelaySeconds: number;
  autoScalingGroupNames: ReadonlySet<string>;
  /** The fleet's own terminate hook (env LIFECYCLE_HOOK_NAME): any other hook's action is ignored. */
  lifecycleHookName: string;
  now?: () => Date;
}

const FUNCTION = 'runner-drain';

/** A drain message carries only the event and which look this is: the rest is the drain's own state. */
interface Parsed {
  kind: 'drain';
  event: TerminateLifecycleEvent;
  attempt: number;
}
type Message = Parsed | { kind: 'spot'; event: SpotInterruptionEvent };

function parse(record: SQSRecord): Message {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (err) {
    throw new MalformedEventError(`message ${record.messageId} is not JSON`, { cause: err });
  }
  const retry = DrainRetrySchema.safeParse(body);
  if (retry.success) return { kind: 'drain', event: retry.data.event, attempt: retry.data.attempt };
  const first = TerminateLifecycleEventSchema.safeParse(body);
  if (first.success) return { kind: 'drain', event: first.data, attempt: 0 };
  const spot = SpotInterruptionEventSchema.safeParse(body);
  if (spot.success) return { kind: 'spot', event: spot.data };
  throw new MalformedEventError(
    `message ${record.messageId} is neither a terminate lifecycle event, a spot interruption warning nor a drain retry: ${first.error.message}`,
    { cause: first.error },
  );
}

/** Best-effort subject of a message that could not be read: its instance if readable, else the drain's groups. */
function unreadableSubject(body: string, groups: ReadonlySet<string>): Subject {
  const id = /"(?:EC2InstanceId|instance-id)"\s*:\s*"(i-[0-9a-f]{8,17})"/.exec(body)?.[1];
  return id ? { instanceId: id } : { autoScalingGroupName: [...groups].join(',') || 'unknown' };
}

/** A decision with the absence already confirmed. */
type Settled = Exclude<DrainDecision, { kind: 'confirm' }>;

const isGitHubFailure = (err: unknown) =>
  err instanceof RunnerListingError || err instanceof ThrottledError || err instanceof GitHubApiError;

/**
 * Drain one terminating runner instance per message. Nothing in the message is taken as fact:
 * its time must be a date and not in the future, its hook must be the fleet's own, its group a
 * configured one, and Auto Scaling must show the instance held by that hook (Terminating:Wait, or
 * Warmed:Pending:Wait for a scale-in into a warm pool) before anything is heartbeated or
 * completed; the deadline clock starts at the group's own activity start, else at the drain's
 * first look (its own state, never the message's). Then: idle runners -> deregister (not for a
 * warm pool: the instance comes back), CompleteLifecycleAction(CONTINUE); a busy one -> cordon it,
 * deregister the idle ones beside it, heartbeat and look again within the hook's heartbeat timeout
 * until no runner of the instance is busy or the drain deadline; a failed deregistration (GitHub
 * 5xx) is held the same way. Spot `terminate` warnings cordon the runner of a fleet instance at
 * once. Every message that fails leaves an audit record; errors fail the message (SQS redelivers,
 * then DLQ).
 */
export function createHandler(deps: RunnerDrainDeps) {
  const now = deps.now ?? (() => new Date());
  const mode = deps.dryRun ? 'dry-run' : 'live';
  const groups = deps.autoScalingGroupNames;

  /** A listing (or lookup) as data: a GitHub failure means "could not look", never "no runner". */
  async function look(fn: () => Promise<GitHubRunner[]>): Promise<Listing<GitHubRunner>> {
    try {
      return { ok: true, items: await fn() };
    } catch (err) {
      if (!isGitHubFailure(err)) throw err;
      const e = err as Error;
      return { ok: false, error: e.cause instanceof Error ? e.cause.message : e.message };
    }
  }

  const record = (ctx: AuditContext, action: string, subject: Subject, r: Refusal) =>
    auditedAction(deps.audit, ctx, { action, subject }, async () => ({
      decision: r.decision,
      reason: r.reason,
      result: undefined,
    }));

  /** Run `fn`; if it throws, leave a `failed` record of `action` (then rethrow). */
  async function orFailed<T>(ctx: AuditContext, action: string, subject: Subject, fn: () => Promise<T>) {
    try {
      return await fn();
    } catch (err) {
      return auditedAction<T>(deps.audit, ctx, { action, subject }, async () => {
        throw err;
      });
    }
  }

  function contextOf(
    e: { source: string; id: string; 'detail-type': string; time: string },
    attempt: number,
    delivery: { deliveryId: string; attempt: number },
  ): AuditContext {
    const t = Date.parse(e.time);
    return {
      function: FUNCTION,
      trigger: {
        source: e.source,
        id: attempt ? `${e.id}#${attempt}` : e.id,
        detailType: e['detail-type'],
        ...(Number.isNaN(t) ? {} : { time: new Date(t).toISOString() }),
      },
      mode,
      now,
      ...delivery,
    };
  }

  /** Put the look-again on the queue; a failure to do so is audited `drain.retry` failed (then rethrown). */
  const lookAgain = (ctx: AuditContext, subject: Subject, msg: Parsed, delaySeconds: number) =>
    orFailed(ctx, 'drain.retry', subject, () =>
      deps.scheduler.later(
        { fleetwarden: 'drain-retry', attempt: msg.attempt + 1, event: msg.event },
        delaySeconds,
      ),
    );

  /** The message checked against itself and against Auto Scaling; a stop is audited here. */
  async function verify(msg: Parsed, ctx: AuditContext, subject: Subject) {
    const d = msg.event.detail;
    const claim: DrainClaim = {
      instanceId: d.EC2InstanceId,
      autoScalingGroupName: d.AutoScalingGroupName,
      lifecycleHookName: d.LifecycleHookName,
      ...(d.Destination ? { destination: d.Destination } : {}),
    };
    const early = refuseTime(msg.event.time, now()) ?? screenClaim(claim, deps.lifecycleHookName, groups);
    if (early) {
      await record(ctx, 'lifecycle.verify', subject, early);
      return undefined;
    }
    const view = await orFailed(ctx, 'lifecycle.verify', subject, () =>
      deps.lifecycle.inspect(d.EC2InstanceId, deps.lifecycleHookName),
    );
    const verdict = judgeView(view, claim, groups, msg.attempt);
    if (verdict.kind === 'stop') {
      await record(ctx, 'lifecycle.verify', subject, verdict);
      if (verdict.lookAgain) await lookAgain(ctx, subject, msg, Math.min(deps.retryDelaySeconds, 30));
      return undefined;
    }
    return verdict;
  }

  /**
   * The runners the drain already knows for the instance, read by id, plus any registered under
   * its documented names (`?name=`: an ephemeral runner re-registered under a new id), mine only.
   */
  async function readKnown(instanceId: string, ids: readonly number[]): Promise<GitHubRunner[]> {
    const [byId, byName] = await Promise.all([
      Promise.all(ids.map((id) => deps.registry.getRunner(id))),
      findByConventionalNames(deps.registry, [instanceId]),
    ]);
    const mine = new Map<number, GitHubRunner>();
    for (const r of [...byId, ...byName])
      if (r && instanceIdOf(r)?.instanceId === instanceId) mine.set(r.id, r);
    return [...mine.values()];
  }

  /**
   * The instance's runners: the known ones (drain state) by id and by name, else a full listing;
   * an absence is confirmed. Only a full listing counts toward the two that prove an absence.
   */
  async function findRunners(instanceId: string, state: DrainState, drainInput: Omit<DrainInput, 'runners'>) {
    let runners: Listing<GitHubRunner> = { ok: true, items: [] };
    if (state.runnerIds.length > 0) runners = await look(() => readKnown(instanceId, state.runnerIds));
    // none of the known runners is left (or they could not be read): list every page
    const listed = !runners.ok || runners.items.length === 0;
    if (listed) runners = await look(() => deps.registry.listRunners());
    const input = { ...drainInput, runners, absentBefore: listed && state.absentOnce };
    let decision = decideDrain(input);
    // an absence seen once is carried while listings fail; a runner seen ends it
    let absentOnce = state.absentOnce && !runners.ok;
    if (decision.kind === 'confirm') {
      // absent from one offset-paginated listing of a live list is not proof: look up the documented
      // names (?name=, immune to page shifts); found nowhere (a custom name?), the next look's
      // listing is the second listing, so no invocation reads every page twice
      const confirmation = await look(() => findByConventionalNames(deps.registry, [instanceId]));
      const found =
        confirmation.ok && confirmation.items.some((r) => instanceIdOf(r)?.instanceId === instanceId);
      if (found || !confirmation.ok) decision = decideDrain({ ...input, confirmation });
      else {
        absentOnce = true;
        decision = {
          kind: 'wait',
          busy: [],
          reason: `no runner for ${instanceId} in one listing nor by name (${conventionalRunnerNames(instanceId).join(', ')}); one more listing on the next look before letting the instance go`,
        };
      }
    }
    if (decision.kind === 'confirm')
      throw new DrainInvariantError(`drain of ${instanceId} still unconfirmed after the confirmation`);
    return { decision, absentOnce };
  }

  /**
   * Deregister these idle runners, one by one. A runner that took a job (422) comes back in `busy`;
   * a GitHub failure stops the round (`failed`, recorded failed by auditedAction).
   */
  async function deregisterAll(runners: GitHubRunner[], ctx: AuditContext, subject: Subject) {
    const busy: GitHubRunner[] = [];
    for (const runner of runners) {
      try {
        const becameBusy = await auditedAction(
          deps.audit,
          ctx,
          {
            action: 'runner.deregister',
            subject: { ...subject, runnerName: runner.name, runnerId: runner.id },
          },
          async () => deregisterOne(runner),
        );
        if (becameBusy) busy.push(runner);
      } catch (err) {
        if (!isGitHubFailure(err)) throw err;
        return { busy, failed: `deregistration failed (${(err as Error).message})` };
      }
    }
    return { busy, failed: undefined };
  }

  /**
   * Deregister the idle runners of a decision (complete, deadline, or beside a busy one while
   * waiting). A runner that took a job (422) turns it into a wait; a GitHub failure too, unless past
   * the deadline (then complete without it: the sweep removes the registration later).
   */
  async function deregister(decision: Settled, ctx: AuditContext, subject: Subject, pastDeadline: boolean) {
    const idle = decision.kind === 'wait' ? (decision.deregister ?? []) : decision.deregister;
    if (idle.length === 0) return decision;
    const { busy, failed } = await deregisterAll(idle, ctx, subject);
    if (decision.kind === 'wait')
      return {
        ...decision,
        busy: [...decision.busy, ...busy],
        seen: [...(decision.seen ?? []), ...idle],
        reason: failed ? `${decision.reason}; ${failed}` : decision.reason,
      };
    if (busy.length > 0)
      return { kind: 'wait' as const, busy, seen: idle, reason: 'runner became busy during drain' };
    if (!failed) return decision;
    if (pastDeadline)
      return {
        ...decision,
        deregister: [],
        reason: `${decision.reason}; ${failed} until the drain deadline: completing without it (the sweep removes the runner later)`,
      };
    return {
      kind: 'wait' as const,
      busy: [],
      reason: `${failed}; holding the instance and trying again`,
      seen: idle,
    };
  }

  async function deregisterOne(runner: GitHubRunner) {
    if (deps.dryRun)
      return {
        decision: 'reported' as const,
        reason: `dry run: would deregister idle runner ${runner.name}`,
        result: false,
      };
    try {
      const r = await deps.registry.deleteRunner(runner.id);
      return {
        decision: 'acted' as const,
        reason:
          r === 'deleted'
            ? `deregistered idle runner ${runner.name} before termination`
            : `runner ${runner.name} was already gone (404)`,
        result: false,
      };
    } catch (err) {
      if (!(err instanceof RunnerBusyError)) throw err;
      return {
        decision: 'skipped' as const,
        reason: `runner ${runner.name} picked up a job meanwhile; holding the instance`,
        result: true,
      };
    }
  }

  /** Take a runner's custom labels away (once) so the jobs asking for them go elsewhere. */
  async function cordonRunners(runners: GitHubRunner[], ctx: AuditContext, subject: Subject, why: string) {
    const cordon = deps.registry.cordonRunner?.bind(deps.registry);
    for (const runner of cordon ? runners : []) {
      if (!cordon || runner.labels.includes(DRAINING_LABEL)) continue;
      const labels = cordonLabels(runner);
      try {
        await auditedAction(
          deps.audit,
          ctx,
          { action: 'runner.cordon', subject: { ...subject, runnerName: runner.name, runnerId: runner.id } },
          async () => {
            if (deps.dryRun)
              return {
                decision: 'reported',
                reason: `dry run: would cordon runner ${runner.name} (${why})`,
                result: undefined,
              };
            const r = await cordon(runner.id, labels);
            return {
              decision: r === 'cordoned' ? 'acted' : 'skipped',
              reason:
                r === 'cordoned'
                  ? `runner ${runner.name} ${why}: custom labels replaced by ${labels.join(', ')} so no job asking for them lands on it`
                  : `runner ${runner.name} is gone (404); nothing to cordon`,
              result: undefined,
            };
          },
        );
      } catch (err) {
        // recorded as failed above; the drain's own duty (holding the instance) goes on
        if (!(err instanceof GitHubApiError || err instanceof ThrottledError)) throw err;
        metrics.addMetric('CordonFailed', 'Count', 1);
        logger.warn('cordon failed; still holding the instance', { runnerId: runner.id, error: err });
      }
    }
  }

  async function drain(msg: Parsed, delivery: { deliveryId: string; attempt: number }): Promise<void> {
    const { event, attempt } = msg;
    const d = event.detail;
    const ref: LifecycleActionRef = {
      autoScalingGroupName: d.AutoScalingGroupName,
      lifecycleHookName: d.LifecycleHookName,
      lifecycleActionToken: d.LifecycleActionToken,
      instanceId: d.EC2InstanceId,
    };
    const ctx = contextOf(event, attempt, delivery);
    const subject = { instanceId: d.EC2InstanceId, autoScalingGroupName: d.AutoScalingGroupName };
    const verdict = await verify(msg, ctx, subject);
    if (!verdict) return;
    const at = now();
    const key = drainStateKey(d.EC2InstanceId, d.LifecycleActionToken);
    const expires = new Date(at.getTime() + DRAIN_STATE_TTL_MS);
    // the drain's own memory of this action, never the message's: first look, runners, absence
    const state = await orFailed(ctx, 'drain.state', subject, () => deps.state.begin(key, at, expires));
    const startedAt = drainStartedAt(verdict, state.firstLookAt, at);
    const pastDeadline = at.getTime() - startedAt.getTime() >= deps.deadlineMs;
    let { decision, absentOnce } = await findRunners(d.EC2InstanceId, state, {
      instanceId: d.EC2InstanceId,
      startedAt,
      now: at,
      deadlineMs: deps.deadlineMs,
    });
    if (verdict.warmPool) decision = keepForWarmPool(decision);
    if (deps.dryRun && decision.kind === 'wait') {
      decision = {
        kind: 'complete',
        deregister: [],
        reason: `dry run: would hold the instance (${decision.reason})`,
      };
    }
    decision = await deregister(decision, ctx, subject, pastDeadline);
    if (decision.kind === 'wait') {
      // a warm-pool instance comes back with its runner: cordoning would outlive the return
      if (!verdict.warmPool)
        await cordonRunners(decision.busy, ctx, subject, 'is busy on a terminating instance');
      // every runner of the instance seen so far (busy and idle) is read again on the next look
      const seen = new Set([...decision.busy, ...(decision.seen ?? [])].map((r) => r.id));
      const runnerIds = seen.size > 0 ? [...seen] : state.runnerIds;
      await orFailed(ctx, 'drain.state', subject, () =>
        deps.state.save(key, { runnerIds, absentOnce }, expires),
      );
      await holdAndLookAgain(msg, ref, ctx, subject, decision.reason, {
        delaySeconds: retryDelaySeconds(deps.retryDelaySeconds, verdict.heartbeatSeconds),
      });
      return;
    }
    await completeAction(ref, ctx, subject, decision);
  }

  /** A warm-pool instance comes back: its runners stay registered (idle ones are still read again). */
  function keepForWarmPool(decision: Settled): Settled {
    if (decision.kind === 'wait')
      return {
        ...decision,
        deregister: [],
        seen: [...(decision.seen ?? []), ...(decision.deregister ?? [])],
      };
    const kept = decision.deregister.map((r) => r.name);
    return {
      ...decision,
      deregister: [],
      reason: `${decision.reason.replace(/: deregistering before termination$/, '')}; the instance goes back to the warm pool (it comes back): ${kept.length ? `runner ${kept.join(', ')} kept registered` : 'nothing to deregister'}`,
    };
  }

  async function holdAndLookAgain(
    msg: Parsed,
    ref: LifecycleActionRef,
    ctx: AuditContext,
    subject: Subject,
    reason: string,
    next: { delaySeconds: number },
  ) {
    const alive = await auditedAction(
      deps.audit,
      ctx,
      { action: 'lifecycle.heartbeat', subject },
      async () => {
        const r = await deps.lifecycle.heartbeat(ref);
        return r === 'recorded'
          ? {
              decision: 'acted',
              reason: `${reason}; heartbeat recorded, looking again in ${next.delaySeconds} s`,
              result: true,
            }
          : {
              decision: 'skipped',
              reason:
                'No active Lifecycle Action found (token expired or already used): the instance is leaving without us; not retried',
              result: false,
            };
      },
    );
    if (alive) await lookAgain(ctx, subject, msg, next.delaySeconds);
  }

  async function completeAction(
    ref: LifecycleActionRef,
    ctx: AuditContext,
    subject: Subject,
    decision: DrainDecision,
  ) {
    const reason = decision.reason;
    if (decision.kind === 'deadline') metrics.addMetric('DrainDeadlineReached', 'Count', 1);
    await auditedAction(deps.audit, ctx, { action: 'lifecycle.complete', subject }, async () => {
      const r = await deps.lifecycle.complete(ref, 'CONTINUE');
      return r === 'completed'
        ? { decision: 'acted', reason: `${reason}; lifecycle action completed (CONTINUE)`, result: undefined }
        : {
            decision: 'skipped',
            reason: `${reason}; No active Lifecycle Action found (token expired or already used): recorded, not retried`,
            result: undefined,
          };
    });
  }

  /**
   * Spot interruption warning: cordon the runner of a fleet instance at once (two minutes' notice),
   * only when the instance is to be terminated: after a stop or hibernation it comes back, and
   * nothing would lift the cordon.
   */
  async function spot(event: SpotInterruptionEvent, delivery: { deliveryId: string; attempt: number }) {
    const id = event.detail['instance-id'];
    const action = event.detail['instance-action'];
    const ctx = contextOf(event, 0, delivery);
    const subject = { instanceId: id };
    const early = refuseTime(event.time, now());
    const view = early
      ? undefined
      : await orFailed(ctx, 'spot.interruption', subject, () => deps.lifecycle.inspect(id));
    const refusal = early ?? judgeSpotView(view, id, groups) ?? spotActionRefusal(id, action);
    if (refusal) {
      await record(ctx, 'spot.interruption', subject, refusal);
      return;
    }
    const found = await orFailed(ctx, 'spot.interruption', subject, async () => {
      const byName = await findByConventionalNames(deps.registry, [id]);
      const mine = (rs: GitHubRunner[]) => rs.filter((r) => instanceIdOf(r)?.instanceId === id);
      return mine(byName).length > 0 ? mine(byName) : mine(await deps.registry.listRunners());
    });
    if (found.length === 0) {
      await record(ctx, 'spot.interruption', subject, {
        decision: 'skipped',
        reason: `spot interruption of ${id}: no runner registered for it, nothing to cordon`,
      });
      return;
    }
    await cordonRunners(
      found,
      ctx,
      { ...subject, autoScalingGroupName: view?.autoScalingGroupName },
      'is on a spot instance being interrupted',
    );
  }

  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(
      event,
      async (r: SQSRecord) => {
        const delivery = sqsDelivery(r);
        const trigger = {
          source: 'aws.sqs',
          id: r.messageId,
          detailType: 'runner-drain message',
          time: now().toISOString(),
        };
        // a message that cannot be read is audited (failed, with its message id), then fails:
        // SQS redelivers it and the DLQ (alarmed) keeps it for a human
        const msg = await orFailed(
          { function: FUNCTION, trigger, mode, now, ...delivery },
          'drain.message',
          unreadableSubject(r.body, groups),
          async () => parse(r),
        );
        if (msg.kind === 'spot') await spot(msg.event, delivery);
        else await drain(msg, delivery);
      },
      processor,
      { context },
    );
}

/** runner-drain could not be wired (env, the GitHub App secret): every message of the batch fails. */
export class DrainWiringError extends FleetwardenError {}

/** What a failed wiring can still use to leave its records: the audit table alone. */
export interface AuditOnly {
  audit: AuditSink;
  dryRun: boolean;
  autoScalingGroupNames: ReadonlySet<string>;
}

/** A `failed` drain.message record per message of a batch the handler could not even be wired for. */
async function auditWiringFailure(event: SQSEvent, err: DrainWiringError, a: AuditOnly, now: () => Date) {
  for (const r of event.Records) {
    const ctx: AuditContext = {
      function: FUNCTION,
      trigger: {
        source: 'aws.sqs',
        id: r.messageId,
        detailType: 'runner-drain message',
        time: now().toISOString(),
      },
      mode: a.dryRun ? 'dry-run' : 'live',
      now,
      ...sqsDelivery(r),
    };
    const subject = unreadableSubject(r.body, a.autoScalingGroupNames);
    await auditedAction(a.audit, ctx, { action: 'drain.message', subject }, async () => {
      throw err;
    }).catch((e: unknown) => {
      if (e !== err) logger.error('could not audit a message the drain could not be wired for', { error: e });
    });
  }
}

/**
 * The handler, wired on first use. If wiring fails (a setting missing, the GitHub App secret not
 * filled in), each message still leaves a `failed` record when the audit table can be reached
 * (`auditOnly`), then the batch fails (SQS redelivers; the DLQ keeps it for a human).
 */
export function createLazyHandler(
  wire: () => Promise<RunnerDrainDeps>,
  auditOnly: () => AuditOnly | undefined,
  now: () => Date = () => new Date(),
) {
  let wired: ReturnType<typeof createHandler> | undefined;
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    if (!wired) {
      try {
        wired = createHandler(await wire());
      } catch (cause) {
        const err = new DrainWiringError(`runner-drain could not be wired: ${(cause as Error).message}`, {
          cause,
        });
        let sink: AuditOnly | undefined;
        try {
          sink = auditOnly();
        } catch {
          sink = undefined; // nothing to audit with: the error and the DLQ remain
        }
        if (sink) await auditWiringFailure(event, err, sink, now);
        throw err;
      }
    }
    return wired(event, context);
  };
}

const wiredHandler = createLazyHandler(
  async () => {
    const env = readEnv(RunnerDrainEnv);
    return {
      registry: await runnerRegistryFromEnv(),
      lifecycle: new AutoScalingLifecycleActions(),
      scheduler: new SqsDrainScheduler(env.DRAIN_QUEUE_URL),
      audit: new DynamoDbAuditSink(env[AUDIT_TABLE_ENV]),
      state: new DynamoDbDrainState(env[DRAIN_STATE_TABLE_ENV]),
      dryRun: env.DRY_RUN,
      deadlineMs: env.DRAIN_DEADLINE_SECONDS * 1000,
      retryDelaySeconds: env.RETRY_DELAY_SECONDS,
      autoScalingGroupNames: env.AUTO_SCALING_GROUP_NAMES,
      lifecycleHookName: env.LIFECYCLE_HOOK_NAME,
    };
  },
  () => {
    const table = process.env[AUDIT_TABLE_ENV];
    if (!table) return undefined;
    return {
      audit: new DynamoDbAuditSink(table),
      dryRun: process.env.DRY_RUN !== 'false',
      autoScalingGroupNames: new Set((process.env.AUTO_SCALING_GROUP_NAMES ?? '').split(',').filter(Boolean)),
    };
  },
);

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  try {
    const res = await wiredHandler(event, context);
    logger.info('runner-drain batch', {
      messages: event.Records.length,
      failed: res.batchItemFailures.length,
    });
    return res;
  } finally {
    metrics.publishStoredMetrics();
  }
};
