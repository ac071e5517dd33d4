import type { Context, EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { auditedAction } from '../../shared/audit/audited-action';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import type { AuditSink } from '../../shared/audit/port';
import {
  AutoScalingInstanceLifecycle,
  type InstanceLifecycle,
} from '../../shared/autoscaling/instance-lifecycle';
import { readEnv } from '../../shared/core/env';
import { MalformedEventError, ThrottledError } from '../../shared/core/errors';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import type { InstanceInventory } from '../../shared/ec2/port';
import type { GitHubRunner, RunnerRegistry } from '../../shared/github/port';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { type WorkflowJobDetail, WorkflowJobDetailSchema } from '../../shared/github/workflow-job-event';
import { logger, metrics } from '../../shared/observability/powertools';
import { instanceIdOf } from '../../shared/runners/matching';

export const RunnerJobWatchEnv = z.object({
  [AUDIT_TABLE_ENV]: z.string().min(1),
  FLEET_TAG_KEY: z.string().min(1),
  FLEET_TAG_VALUE: z.string().min(1),
});

export interface RunnerJobWatchDeps {
  registry: RunnerRegistry;
  inventory: InstanceInventory;
  lifecycle: InstanceLifecycle;
  audit: AuditSink;
  fleetTag: { key: string; value: string };
  now?: () => Date;
}

const FUNCTION = 'runner-job-watch';
const LEAVING = new Set(['shutting-down', 'stopping', 'stopped', 'terminated']);

export type JobWatchOutcome =
  | 'ignored'
  | 'not-fleet'
  | 'healthy'
  | 'job-on-leaving-instance'
  | 'rate-limited';

/** The throttle in an error's cause chain (a listing wraps it), if any. */
function throttleOf(err: unknown): ThrottledError | undefined {
  let current: unknown = err;
  for (let depth = 0; current && depth < 10; depth++) {
    if (current instanceof ThrottledError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * The runner that took the job: by id, or by its name when GitHub sent runner_id null with a
 * runner_name (spec-valid). A GitHub rate limit does not fail the invocation (EventBridge would retry
 * into the same limit): it is returned, and the caller places the runner by the job's name alone.
 */
async function lookUpRunner(
  registry: RunnerRegistry,
  job: WorkflowJobDetail['job'],
): Promise<{ runner?: GitHubRunner | undefined; throttled?: ThrottledError }> {
  try {
    if (job.runnerId !== null) return { runner: await registry.getRunner(job.runnerId) };
    const named = job.runnerName ? ((await registry.findRunnersByName?.(job.runnerName)) ?? []) : [];
    return { runner: named.length === 1 ? named[0] : undefined };
  } catch (err) {
    const throttled = throttleOf(err);
    if (!throttled) throw err;
    metrics.addMetric('JobWatch-rate-limited', 'Count', 1);
    return { throttled };
  }
}

/**
 * A job started (workflow_job in_progress) on a runner whose instance is leaving: the failure
 * fleetwarden exists to prevent has happened or is about to. Record it with the delivery id and
 * publish the metric the JobOnLeavingInstance alarm watches. Read-only: nothing is removed here (and
 * the deployed function's GitHub token can only read). Under a GitHub rate limit it degrades: the
 * runner is placed by the job's runner name alone, and when that names no instance the job is skipped
 * with an audit record naming the rate limit.
 */
export function createHandler(deps: RunnerJobWatchDeps) {
  return async (event: EventBridgeEvent<string, unknown>, _context?: Context): Promise<JobWatchOutcome> => {
    const parsed = WorkflowJobDetailSchema.safeParse(event.detail);
    if (!parsed.success) {
      throw new MalformedEventError(
        `event ${event.id} is not a workflow_job detail: ${parsed.error.message}`,
        { cause: parsed.error },
      );
    }
    const job = parsed.data;
    if (job.action !== 'in_progress' || (job.job.runnerId === null && !job.job.runnerName)) {
      // no runner to decide about (the rule routes only in_progress): counted, nothing to audit
      metrics.addMetric('JobWatch-ignored', 'Count', 1);
      return 'ignored';
    }
    return watchJob(deps, event, job);
  };
}

async function watchJob(
  deps: RunnerJobWatchDeps,
  event: EventBridgeEvent<string, unknown>,
  job: WorkflowJobDetail,
): Promise<JobWatchOutcome> {
  const ctx = {
    function: FUNCTION,
    trigger: {
      source: event.source,
      id: event.id,
      detailType: event['detail-type'],
      time: new Date(event.time).toISOString(),
      githubDeliveryId: job.deliveryId,
    },
    mode: 'live' as const,
    ...(deps.now ? { now: deps.now } : {}),
  };
  const details = { jobId: job.job.id, runId: job.job.runId, repository: job.repository };
  /** Every decision is audited (AGENTS.md): the quiet outcomes too, as skipped with their reason. */
  const quiet = async (
    outcome: 'not-fleet' | 'healthy' | 'rate-limited',
    subject: { instanceId?: string; runnerName?: string; runnerId?: number },
    reason: string,
  ): Promise<JobWatchOutcome> => {
    metrics.addMetric(`JobWatch-${outcome}`, 'Count', 1);
    await auditedAction(deps.audit, ctx, { action: 'runner.job-started', subject }, async () => ({
      decision: 'skipped',
      reason,
      details: { ...details, outcome },
      result: undefined,
    }));
    return outcome;
  };
  const { runner, throttled } = await lookUpRunner(deps.registry, job.job);
  const runnerId = runner?.id ?? job.job.runnerId ?? undefined;
  const runnerName = runner?.name ?? job.job.runnerName ?? undefined;
  const who = { ...(runnerName ? { runnerName } : {}), ...(runnerId !== undefined ? { runnerId } : {}) };
  const resets = `resets in ${Math.ceil((throttled?.retryAfterMs ?? 0) / 1000)} s`;
  const limit = throttled
    ? ` (GitHub rate limit: runner not looked up, placed by the job's runner name alone; ${resets})`
    : '';
  const match = instanceIdOf({ name: runnerName ?? '', labels: runner?.labels ?? [] });
  if (!match && throttled)
    return quiet(
      'rate-limited',
      who,
      `GitHub rate limit (${resets}): runner ${runnerName ?? runnerId} not looked up, and its name names no instance; skipped`,
    );
  if (!match)
    return quiet(
      'not-fleet',
      who,
      `runner ${runnerName ?? runnerId} is not the fleet's (no instance label or name)`,
    );
  const [info] = await deps.inventory.describe([match.instanceId]);
  const at = { ...who, instanceId: match.instanceId };
  if (!info || info.tags[deps.fleetTag.key] !== deps.fleetTag.value)
    return quiet(
      'not-fleet',
      at,
      `instance ${match.instanceId} is not the fleet's (${info ? `no ${deps.fleetTag.key}=${deps.fleetTag.value} tag` : 'EC2 does not describe it'})${limit}`,
    );
  const terminating = (await deps.lifecycle.terminating([match.instanceId])).has(match.instanceId);
  if (!terminating && !LEAVING.has(info.state))
    return quiet(
      'healthy',
      at,
      `job ${job.job.name} started on a healthy instance ${match.instanceId} (${info.state})${limit}`,
    );

  metrics.addMetric('JobOnLeavingInstance', 'Count', 1);
  await auditedAction(
    deps.audit,
    ctx,
    { action: 'runner.job-on-leaving-instance', subject: at },
    async () => ({
      decision: 'reported',
      reason: `job ${job.job.name} (${job.repository} run ${job.job.runId}) started on runner ${runnerName ?? runnerId} while instance ${match.instanceId} is ${terminating ? 'being terminated by its ASG' : info.state}${limit}`,
      details,
      result: undefined,
    }),
  );
  logger.warn('job started on a leaving instance', {
    instanceId: match.instanceId,
    runnerName,
    jobId: job.job.id,
  });
  return 'job-on-leaving-instance';
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (
  event: EventBridgeEvent<string, unknown>,
  context: Context,
): Promise<JobWatchOutcome> => {
  if (!wired) {
    const env = readEnv(RunnerJobWatchEnv);
    wired = createHandler({
      // read-only installation token: this function only reads runners (README: GitHub App permissions)
      registry: await runnerRegistryFromEnv(undefined, undefined, { access: 'read' }),
      inventory: new Ec2InstanceInventory(),
      lifecycle: new AutoScalingInstanceLifecycle(),
      audit: new DynamoDbAuditSink(env[AUDIT_TABLE_ENV]),
      fleetTag: { key: env.FLEET_TAG_KEY, value: env.FLEET_TAG_VALUE },
    });
  }
  try {
    return await wired(event, context);
  } finally {
    metrics.publishStoredMetrics();
  }
};
