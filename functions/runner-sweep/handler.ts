import type { Context, ScheduledEvent } from 'aws-lambda';
import { z } from 'zod';
import { type AuditContext, auditedAction } from '../../shared/audit/audited-action';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import { AuditWriteError } from '../../shared/audit/errors';
import type { AuditSink } from '../../shared/audit/port';
import {
  AutoScalingInstanceLifecycle,
  type InstanceLifecycle,
} from '../../shared/autoscaling/instance-lifecycle';
import { AutoScalingWarmPool, type WarmPool } from '../../shared/autoscaling/warm-pool';
import { DynamoDbSweepState, SWEEP_STATE_TABLE_ENV } from '../../shared/budget/dynamodb-sweep-state';
import type { SweepStateStore } from '../../shared/budget/port';
import { envBoolean, readEnv } from '../../shared/core/env';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { Ec2InstanceTerminator, type InstanceTerminator } from '../../shared/ec2/instance-terminator';
import type { InstanceInfo, InstanceInventory } from '../../shared/ec2/port';
import { RunnerBusyError } from '../../shared/github/errors';
import type { GitHubRunner, RunnerRegistry } from '../../shared/github/port';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { logger, metrics } from '../../shared/observability/powertools';
import { findByConventionalNames } from '../../shared/runners/find-by-name';
import { fleetIdOf, instanceIdOf } from '../../shared/runners/matching';
import {
  confirmTerminations,
  type Listing,
  planSweep,
  type SweepAction,
  type SweepConfig,
  type SweepPlan,
} from '../../shared/runners/sweep-planner';

export const RunnerSweepEnv = z.object({
  [AUDIT_TABLE_ENV]: z.string().min(1),
  [SWEEP_STATE_TABLE_ENV]: z.string().min(1),
  FLEET_TAG_KEY: z.string().min(1),
  FLEET_TAG_VALUE: z.string().min(1),
  /** This fleet's id: runners carry `fleetwarden-fleet:<FLEET_ID>`; others' runners are never touched. */
  FLEET_ID: z.string().min(1),
  GRACE_PERIOD_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  BOOT_TIMEOUT_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  ALLOW_TERMINATE: envBoolean.default(false),
  MAX_REMOVAL_SHARE: z.coerce.number().gt(0).max(1).default(0.2),
  MAX_REMOVALS_PER_RUN: z.coerce.number().int().min(1).max(1000).default(100),
  /** The rolling removal budget's window. */
  BUDGET_WINDOW_SECONDS: z.coerce.number().int().min(300).max(604_800).default(3600),
  /** Set by Lambda: the region swept (runners labelled with another region are not touched). */
  AWS_REGION: z.string().min(1).optional(),
  DRY_RUN: envBoolean.default(true),
  AUTO_SCALING_GROUP_NAMES: z
    .string()
    .default('')
    .transform((v) => v.split(',').filter(Boolean)),
});

export interface RunnerSweepDeps {
  registry: RunnerRegistry;
  inventory: InstanceInventory;
  lifecycle: InstanceLifecycle;
  /** The runner ASGs' warm pools: a stopped instance parked there comes back (not a departure). */
  warmPool: WarmPool;
  terminator: InstanceTerminator;
  audit: AuditSink;
  /** The rolling removal budget and first sightings, kept across runs. */
  state: SweepStateStore;
  dryRun: boolean;
  fleetTag: { key: string; value: string };
  /** This fleet's id (label `fleetwarden-fleet:<id>`). */
  fleetId: string;
  config: SweepConfig;
  /**
   * The runner ASGs: their terminating instances are read in one call per 100 groups, and only
   * their instances may be terminated.
   */
  autoScalingGroupNames?: readonly string[];
  /** The region swept: runners labelled `fleetwarden-region:<another>` are left alone. */
  region?: string;
  now?: () => Date;
}

export interface SweepSummary {
  runners: number;
  instances: number;
  deregistered: number;
  terminated: number;
  reported: number;
  skipped: number;
  failed: number;
  /** Removals left for the next run by maxRemovalsPerRun. */
  deferred: number;
  refused: boolean;
}

const FUNCTION = 'runner-sweep';
const LEAVING = new Set(['shutting-down', 'stopping', 'stopped', 'terminated']);
/** First sightings outlive the longest grace period by a day (refreshed on every sighting). */
const SEEN_KEPT_MS = 86_400_000;

async function listing<T>(what: string, fn: () => Promise<T[]>): Promise<Listing<T>> {
  try {
    return { ok: true, items: await fn() };
  } catch (err) {
    logger.warn(`${what} listing failed`, { error: err as Error });
    const e = err as Error;
    return { ok: false, error: e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message };
  }
}

interface Observed {
  runners: Listing<GitHubRunner>;
  fleet: Listing<InstanceInfo>;
  described: InstanceInfo[];
  terminating: Set<string>;
  /** The groups' warm-pool instances (one DescribeWarmPool per group), its failure, or unread (no groups). */
  warmPool?: Listing<[string, string]>;
}

/** Every runner page, every fleet instance, the runners' other instances and the ASGs' Terminating ones. */
async function observe(deps: RunnerSweepDeps): Promise<Observed> {
  const runners = await listing('runner', () => deps.registry.listRunners());
  let fleet = await listing('instance', () =>
    deps.inventory.listByTag(deps.fleetTag.key, deps.fleetTag.value),
  );
  if (!runners.ok || !fleet.ok) return { runners, fleet, described: [], terminating: new Set() };
  const inFleet = new Set(fleet.items.map((i) => i.instanceId));
  const missing = [...new Set(runners.items.flatMap((r) => instanceIdOf(r)?.instanceId ?? []))].filter(
    (id) => !inFleet.has(id),
  );
  const extra = await listing('instance (describe)', () => deps.inventory.describe(missing));
  const groups = deps.autoScalingGroupNames ?? [];
  const leaving = await listing('ASG lifecycle', async () => [
    ...(groups.length > 0
      ? await deps.lifecycle.terminatingInGroups(groups)
      : await deps.lifecycle.terminating([...inFleet])),
  ]);
  if (!extra.ok) fleet = extra;
  else if (!leaving.ok) fleet = leaving as Listing<InstanceInfo>;
  else {
    // a failure here only withholds stopped-instance removals and terminations (the planner says so)
    const warmPool =
      groups.length > 0
        ? await listing('warm pool', async () => [...(await deps.warmPool.warmedInGroups(groups))])
        : undefined;
    return {
      runners,
      fleet,
      described: extra.items,
      terminating: new Set(leaving.items),
      ...(warmPool ? { warmPool } : {}),
    };
  }
  return { runners, fleet, described: [], terminating: new Set() };
}

/**
 * What the state table knows: removals in the budget window, and the first sightings of this
 * fleet's runners' instances that EC2 no longer describes or that are leaving without a time.
 */
async function remembered(deps: RunnerSweepDeps, seen: Observed, now: Date) {
  const windowMs = deps.config.budgetWindowMs ?? 3_600_000;
  const tally = await deps.state.removalsSince(new Date(now.getTime() - windowMs));
  const spent = { removalsInWindow: tally.total, unconfirmedRemovalsInWindow: tally.unconfirmed };
  if (!seen.runners.ok || !seen.fleet.ok) return spent;
  const known = new Map([...seen.fleet.items, ...seen.described].map((i) => [i.instanceId, i]));
  const gone: string[] = [];
  const leaving: string[] = [];
  for (const r of seen.runners.items) {
    const id = instanceIdOf(r)?.instanceId;
    if (!id) continue;
    const info = known.get(id);
    if (!info && fleetIdOf(r) === deps.fleetId) gone.push(`gone:${id}`);
    else if (info && LEAVING.has(info.state) && !info.stateChangedAt) leaving.push(`leaving:${id}`);
  }
  const expires = new Date(now.getTime() + deps.config.gracePeriodMs + SEEN_KEPT_MS);
  const first = await deps.state.firstSeen([...new Set([...gone, ...leaving])], now, expires);
  const pick = (prefix: string) =>
    new Map(
      [...first].flatMap(([k, v]) => (k.startsWith(prefix) ? [[k.slice(prefix.length), v] as const] : [])),
    );
  return { ...spent, goneSince: pick('gone:'), leavingSince: pick('leaving:') };
}

/**
 * Scheduled sweep: read EVERY page of runners and fleet instances, plan (shared/runners), then act
 * through the circuit breaker and the rolling removal budget (persisted in the sweep state table,
 * spent BEFORE removing), one audit record per decision plus one for the run. A failed action is
 * audited as failed and the run rethrows at the end; an audit write failure stops the run at once
 * (no further action without its record), and so does a state table failure (nothing removed).
 */
export function createHandler(deps: RunnerSweepDeps) {
  const now = deps.now ?? (() => new Date());
  return async (event: ScheduledEvent, context?: Context): Promise<SweepSummary> => {
    // EventBridge / Lambda async can deliver one event twice (another request id), and Lambda
    // retries a failed run under the same request id: each invocation keeps its own records
    const deliveryId = context?.awsRequestId ? `${context.awsRequestId}@${now().toISOString()}` : undefined;
    const ctx: AuditContext = {
      function: FUNCTION,
      trigger: {
        source: 'fleetwarden.schedule',
        id: event.id,
        detailType: event['detail-type'],
        time: new Date(event.time).toISOString(),
      },
      mode: deps.dryRun ? 'dry-run' : 'live',
      now,
      ...(deliveryId ? { deliveryId } : {}),
    };
    const runRecord = { action: 'runner.sweep', subject: { runnerName: `fleet:${deps.fleetTag.value}` } };
    const seen = await observe(deps);
    let plan: SweepPlan;
    try {
      const at = now();
      plan = await planAndConfirm(deps, seen, { now: at, ...(await remembered(deps, seen, at)) });
      await spendBudget(deps, plan, deliveryId ? `${event.id}@${deliveryId}` : event.id, at);
    } catch (err) {
      // the budget or the first sightings could not be read or spent: act on nothing, say so, fail
      await auditedAction(deps.audit, ctx, runRecord, async () => {
        throw err;
      });
      throw err;
    }
    const summary = summarise(seen, plan);
    const errors: Error[] = [];
    for (const action of plan.actions) {
      try {
        await act(deps, ctx, action, summary);
      } catch (err) {
        // no further action once a record cannot be written: the next one would go unrecorded too
        if (err instanceof AuditWriteError) throw err;
        summary.failed++;
        errors.push(err as Error);
      }
    }
    if (plan.refused) metrics.addMetric('SweepCircuitOpen', 'Count', 1);
    if (plan.refusedBy === 'budget') metrics.addMetric('SweepBudgetExhausted', 'Count', 1);
    await auditedAction(deps.audit, ctx, runRecord, async () => ({
      decision: plan.refused
        ? 'refused'
        : summary.deregistered + summary.terminated > 0
          ? deps.dryRun
            ? 'reported'
            : 'acted'
          : 'skipped',
      reason: plan.refused ?? runReason(deps, summary),
      details: {
        ...summary,
        wouldRemove: plan.wouldRemove,
        fleetSize: plan.fleetSize,
        ...(plan.fleetRunners !== undefined ? { fleetRunners: plan.fleetRunners } : {}),
        ...(plan.deferred?.length ? { deferred: plan.deferred } : {}),
        // stopped-instance removals and terminations were withheld this run
        ...(seen.warmPool?.ok === false ? { warmPoolUnread: seen.warmPool.error } : {}),
      },
      result: undefined,
    }));
    logger.info('runner-sweep', { ...summary });
    if (errors.length > 0) {
      throw errors.length === 1
        ? errors[0]
        : new AggregateError(
            errors,
            `${errors.length} sweep actions failed: ${errors.map((e) => e.message).join('; ')}`,
          );
    }
    return summary;
  };
}

async function planAndConfirm(
  deps: RunnerSweepDeps,
  seen: Observed,
  memory: { now: Date } & Awaited<ReturnType<typeof remembered>>,
): Promise<SweepPlan> {
  const plan = planSweep(
    {
      ...memory,
      runners: seen.runners,
      fleet: seen.fleet,
      described: seen.described,
      terminating: seen.terminating,
      ...(seen.warmPool ? { warmPool: seen.warmPool } : {}),
      fleetTag: deps.fleetTag,
      fleetId: deps.fleetId,
      autoScalingGroupNames: deps.autoScalingGroupNames ?? [],
      ...(deps.region ? { region: deps.region } : {}),
    },
    deps.config,
  );
  // a never-registered verdict rests on absence from one offset-paginated listing of a live list:
  // look again (the documented names by ?name=, then a second listing) just before terminating
  const candidates = plan.actions.flatMap((a) => (a.kind === 'terminate' ? [a.instanceId] : []));
  if (candidates.length === 0) return plan;
  const confirmation = await listing('runner (re-check before terminating)', async () => {
    const byName = await findByConventionalNames(deps.registry, candidates);
    return [...byName, ...(await deps.registry.listRunners())];
  });
  return confirmTerminations(plan, confirmation);
}

/**
 * Record the removals about to be made in the rolling budget, before making any (live runs only),
 * with how many of them EC2 did not confirm. `runId` names the delivery, so a duplicate delivery
 * of one schedule spends its own share instead of overwriting the first one's.
 */
async function spendBudget(deps: RunnerSweepDeps, plan: SweepPlan, runId: string, at: Date): Promise<void> {
  const removals = plan.actions.filter((a) => a.kind === 'deregister' || a.kind === 'terminate');
  if (deps.dryRun || removals.length === 0) return;
  const unconfirmed = removals.filter((a) => a.kind === 'deregister' && a.unconfirmed).length;
  const windowMs = deps.config.budgetWindowMs ?? 3_600_000;
  const expires = new Date(at.getTime() + 2 * windowMs);
  await deps.state.recordRemovals(removals.length, runId, at, expires, unconfirmed);
}

function summarise(seen: Observed, plan: SweepPlan): SweepSummary {
  return {
    runners: seen.runners.ok ? seen.runners.items.length : 0,
    instances: seen.fleet.ok ? seen.fleet.items.length : 0,
    deregistered: 0,
    terminated: 0,
    reported: 0,
    skipped: 0,
    failed: 0,
    deferred: plan.deferred?.length ?? 0,
    refused: plan.refused !== undefined,
  };
}

function runReason(deps: RunnerSweepDeps, s: SweepSummary): string {
  return `${s.runners} runners, ${s.instances} instances: ${s.deregistered} deregistered, ${s.terminated} terminated, ${s.reported} reported, ${s.skipped} skipped, ${s.failed} failed, ${s.deferred} deferred to the next run (at most ${deps.config.maxRemovalsPerRun ?? 100} removals a run)${deps.dryRun ? ' (dry run)' : ''}`;
}

async function act(
  deps: RunnerSweepDeps,
  ctx: AuditContext,
  action: SweepAction,
  s: SweepSummary,
): Promise<void> {
  if (action.kind === 'deregister' || action.kind === 'skip') return deregister(deps, ctx, action, s);
  if (action.kind === 'keep' || action.kind === 'terminate') {
    await auditedAction(
      deps.audit,
      ctx,
      { action: 'instance.terminate', subject: { instanceId: action.instanceId } },
      async () => {
        if (action.kind === 'keep') {
          s.skipped++;
          return { decision: 'skipped', reason: action.reason, result: undefined };
        }
        s.terminated++;
        if (deps.dryRun)
          return {
            decision: 'reported',
            reason: `dry run: would terminate: ${action.reason}`,
            result: undefined,
          };
        await deps.terminator.terminate([action.instanceId]);
        return { decision: 'acted', reason: action.reason, result: undefined };
      },
    );
    return;
  }
  s.reported++;
  metrics.addMetric(`Finding-${action.finding}`, 'Count', 1);
  const prefix = action.finding === 'never-registered' ? 'instance' : 'runner';
  const name = action.finding === 'unverifiable-runner' ? 'unverifiable' : action.finding;
  await auditedAction(
    deps.audit,
    ctx,
    { action: `${prefix}.${name}`, subject: action.subject },
    async () => ({
      decision: 'reported',
      reason: action.reason,
      result: undefined,
    }),
  );
}

async function deregister(
  deps: RunnerSweepDeps,
  ctx: AuditContext,
  action: Extract<SweepAction, { kind: 'deregister' | 'skip' }>,
  s: SweepSummary,
): Promise<void> {
  const runner: GitHubRunner = action.runner;
  await auditedAction(
    deps.audit,
    ctx,
    {
      action: 'runner.deregister',
      subject: { instanceId: action.instanceId, runnerName: runner.name, runnerId: runner.id },
    },
    async () => {
      if (action.kind === 'skip') {
        s.skipped++;
        return { decision: 'skipped', reason: action.reason, result: undefined };
      }
      if (deps.dryRun) {
        s.deregistered++;
        return {
          decision: 'reported',
          reason: `dry run: would deregister: ${action.reason}`,
          result: undefined,
        };
      }
      try {
        const r = await deps.registry.deleteRunner(runner.id);
        s.deregistered++;
        return {
          decision: 'acted',
          reason: r === 'deleted' ? action.reason : `${action.reason} (already gone: 404)`,
          result: undefined,
        };
      } catch (err) {
        if (!(err instanceof RunnerBusyError)) throw err;
        s.skipped++;
        return {
          decision: 'skipped',
          reason: `runner ${runner.name} took a job since the listing; a busy runner is never removed`,
          result: undefined,
        };
      }
    },
  );
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: ScheduledEvent, context: Context): Promise<SweepSummary> => {
  if (!wired) {
    const env = readEnv(RunnerSweepEnv);
    wired = createHandler({
      registry: await runnerRegistryFromEnv(),
      inventory: new Ec2InstanceInventory(),
      lifecycle: new AutoScalingInstanceLifecycle(),
      warmPool: new AutoScalingWarmPool(),
      terminator: new Ec2InstanceTerminator(),
      audit: new DynamoDbAuditSink(env[AUDIT_TABLE_ENV]),
      state: new DynamoDbSweepState(env[SWEEP_STATE_TABLE_ENV]),
      dryRun: env.DRY_RUN,
      fleetId: env.FLEET_ID,
      fleetTag: { key: env.FLEET_TAG_KEY, value: env.FLEET_TAG_VALUE },
      autoScalingGroupNames: env.AUTO_SCALING_GROUP_NAMES,
      ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
      config: {
        gracePeriodMs: env.GRACE_PERIOD_SECONDS * 1000,
        bootTimeoutMs: env.BOOT_TIMEOUT_SECONDS * 1000,
        allowTerminate: env.ALLOW_TERMINATE,
        maxRemovalShare: env.MAX_REMOVAL_SHARE,
        maxRemovalsPerRun: env.MAX_REMOVALS_PER_RUN,
        budgetWindowMs: env.BUDGET_WINDOW_SECONDS * 1000,
      },
    });
  }
  try {
    return await wired(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
};
