import type { Context, ScheduledEvent } from 'aws-lambda';
import { z } from 'zod';
import { AUDIT_TABLE_ENV } from '../../infra/constructs/audit-access';
import { type AuditContext, auditedAction } from '../../shared/audit/audited-action';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AuditWriteError } from '../../shared/audit/errors';
import type { AuditSink } from '../../shared/audit/port';
import {
  AutoScalingInstanceLifecycle,
  type InstanceLifecycle,
} from '../../shared/autoscaling/instance-lifecycle';
import { envBoolean, readEnv } from '../../shared/core/env';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { Ec2InstanceTerminator, type InstanceTerminator } from '../../shared/ec2/instance-terminator';
import type { InstanceInfo, InstanceInventory } from '../../shared/ec2/port';
import { RunnerBusyError } from '../../shared/github/errors';
import type { GitHubRunner, RunnerRegistry } from '../../shared/github/port';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { logger, metrics } from '../../shared/observability/powertools';
import { findByConventionalNames } from '../../shared/runners/find-by-name';
import { instanceIdOf } from '../../shared/runners/matching';
import {
  confirmTerminations,
  type Listing,
  planSweep,
  type SweepAction,
  type SweepConfig,
} from '../../shared/runners/sweep-planner';

export const RunnerSweepEnv = z.object({
  [AUDIT_TABLE_ENV]: z.string().min(1),
  FLEET_TAG_KEY: z.string().min(1),
  FLEET_TAG_VALUE: z.string().min(1),
  GRACE_PERIOD_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  BOOT_TIMEOUT_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  ALLOW_TERMINATE: envBoolean.default(false),
  MAX_REMOVAL_SHARE: z.coerce.number().gt(0).max(1).default(0.2),
  MAX_REMOVALS_PER_RUN: z.coerce.number().int().min(1).max(1000).default(100),
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
  terminator: InstanceTerminator;
  audit: AuditSink;
  dryRun: boolean;
  fleetTag: { key: string; value: string };
  config: SweepConfig;
  /** The runner ASGs: their terminating instances are read in one call per 100 groups. */
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

async function listing<T>(what: string, fn: () => Promise<T[]>): Promise<Listing<T>> {
  try {
    return { ok: true, items: await fn() };
  } catch (err) {
    logger.warn(`${what} listing failed`, { error: err as Error });
    const e = err as Error;
    return { ok: false, error: e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message };
  }
}

/**
 * Scheduled sweep: read EVERY page of runners and fleet instances, plan (shared/runners), then act
 * through the circuit breaker, one audit record per decision plus one for the run. A failed action
 * is audited as failed and the run rethrows at the end (after the other decisions), so the schedule
 * shows an error and the function's error alarm fires.
 */
export function createHandler(deps: RunnerSweepDeps) {
  const now = deps.now ?? (() => new Date());
  return async (event: ScheduledEvent, _context?: Context): Promise<SweepSummary> => {
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
    };
    const runners = await listing('runner', () => deps.registry.listRunners());
    let fleet = await listing('instance', () =>
      deps.inventory.listByTag(deps.fleetTag.key, deps.fleetTag.value),
    );
    let described: InstanceInfo[] = [];
    let terminating = new Set<string>();
    if (runners.ok && fleet.ok) {
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
        described = extra.items;
        terminating = new Set(leaving.items);
      }
    }
    let plan = planSweep(
      {
        now: now(),
        runners,
        fleet,
        described,
        terminating,
        fleetTag: deps.fleetTag,
        ...(deps.region ? { region: deps.region } : {}),
      },
      deps.config,
    );
    // a never-registered verdict rests on absence from one offset-paginated listing of a live list:
    // look again (the documented names by ?name=, then a second listing) just before terminating
    const candidates = plan.actions.flatMap((a) => (a.kind === 'terminate' ? [a.instanceId] : []));
    if (candidates.length > 0) {
      const confirmation = await listing('runner (re-check before terminating)', async () => {
        const byName = await findByConventionalNames(deps.registry, candidates);
        return [...byName, ...(await deps.registry.listRunners())];
      });
      plan = confirmTerminations(plan, confirmation);
    }

    const summary: SweepSummary = {
      runners: runners.ok ? runners.items.length : 0,
      instances: fleet.ok ? fleet.items.length : 0,
      deregistered: 0,
      terminated: 0,
      reported: 0,
      skipped: 0,
      failed: 0,
      deferred: plan.deferred?.length ?? 0,
      refused: plan.refused !== undefined,
    };
    const errors: Error[] = [];
    for (const action of plan.actions) {
      try {
        await act(action, summary);
      } catch (err) {
        summary.failed++;
        errors.push(err as Error);
        // no audit, no action: the run stops at the first audit failure (the schedule retries)
        if (err instanceof AuditWriteError) break;
      }
    }

    if (plan.refused) metrics.addMetric('SweepCircuitOpen', 'Count', 1);
    await auditedAction(
      deps.audit,
      ctx,
      { action: 'runner.sweep', subject: { runnerName: `fleet:${deps.fleetTag.value}` } },
      async () => ({
        decision: plan.refused
          ? 'refused'
          : summary.deregistered + summary.terminated > 0
            ? deps.dryRun
              ? 'reported'
              : 'acted'
            : 'skipped',
        reason:
          plan.refused ??
          `${summary.runners} runners, ${summary.instances} instances: ${summary.deregistered} deregistered, ${summary.terminated} terminated, ${summary.reported} reported, ${summary.skipped} skipped, ${summary.failed} failed, ${summary.deferred} deferred to the next run (at most ${deps.config.maxRemovalsPerRun ?? 100} removals a run)${deps.dryRun ? ' (dry run)' : ''}`,
        details: {
          ...summary,
          wouldRemove: plan.wouldRemove,
          fleetSize: plan.fleetSize,
          ...(plan.deferred?.length ? { deferred: plan.deferred } : {}),
        },
        result: undefined,
      }),
    );
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

    async function act(action: SweepAction, s: SweepSummary): Promise<void> {
      if (action.kind === 'deregister' || action.kind === 'skip') {
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
        return;
      }
      if (action.kind === 'keep') {
        s.skipped++;
        await auditedAction(
          deps.audit,
          ctx,
          { action: 'instance.terminate', subject: { instanceId: action.instanceId } },
          async () => ({ decision: 'skipped', reason: action.reason, result: undefined }),
        );
        return;
      }
      if (action.kind === 'terminate') {
        await auditedAction(
          deps.audit,
          ctx,
          { action: 'instance.terminate', subject: { instanceId: action.instanceId } },
          async () => {
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
  };
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: ScheduledEvent, context: Context): Promise<SweepSummary> => {
  if (!wired) {
    const env = readEnv(RunnerSweepEnv);
    wired = createHandler({
      registry: await runnerRegistryFromEnv(),
      inventory: new Ec2InstanceInventory(),
      lifecycle: new AutoScalingInstanceLifecycle(),
      terminator: new Ec2InstanceTerminator(),
      audit: new DynamoDbAuditSink(env[AUDIT_TABLE_ENV]),
      dryRun: env.DRY_RUN,
      fleetTag: { key: env.FLEET_TAG_KEY, value: env.FLEET_TAG_VALUE },
      autoScalingGroupNames: env.AUTO_SCALING_GROUP_NAMES,
      ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
      config: {
        gracePeriodMs: env.GRACE_PERIOD_SECONDS * 1000,
        bootTimeoutMs: env.BOOT_TIMEOUT_SECONDS * 1000,
        allowTerminate: env.ALLOW_TERMINATE,
        maxRemovalShare: env.MAX_REMOVAL_SHARE,
        maxRemovalsPerRun: env.MAX_REMOVALS_PER_RUN,
      },
    });
  }
  try {
    return await wired(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
};
