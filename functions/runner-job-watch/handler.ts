import type { Context, EventBridgeEvent } from 'aws-lambda';
import { z } from 'zod';
import { AUDIT_TABLE_ENV } from '../../infra/constructs/audit-access';
import { auditedAction } from '../../shared/audit/audited-action';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import type { AuditSink } from '../../shared/audit/port';
import {
  AutoScalingInstanceLifecycle,
  type InstanceLifecycle,
} from '../../shared/autoscaling/instance-lifecycle';
import { readEnv } from '../../shared/core/env';
import { MalformedEventError } from '../../shared/core/errors';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import type { InstanceInventory } from '../../shared/ec2/port';
import type { RunnerRegistry } from '../../shared/github/port';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { WorkflowJobDetailSchema } from '../../shared/github/workflow-job-event';
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

export type JobWatchOutcome = 'ignored' | 'not-fleet' | 'healthy' | 'job-on-leaving-instance';

/**
 * A job started (workflow_job in_progress) on a runner whose instance is leaving: the failure
 * fleetwarden exists to prevent has happened or is about to. Record it with the delivery id and
 * publish the metric the JobOnLeavingInstance alarm watches. Read-only: nothing is removed here.
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
    /** Every decision is audited (AGENTS.md): the quiet outcomes too, as skipped with their reason. */
    const quiet = async (
      outcome: 'not-fleet' | 'healthy',
      subject: { instanceId?: string; runnerName?: string; runnerId?: number },
      reason: string,
    ): Promise<JobWatchOutcome> => {
      metrics.addMetric(`JobWatch-${outcome}`, 'Count', 1);
      await auditedAction(deps.audit, ctx, { action: 'runner.job-started', subject }, async () => ({
        decision: 'skipped',
        reason,
        details: { jobId: job.job.id, runId: job.job.runId, repository: job.repository, outcome },
        result: undefined,
      }));
      return outcome;
    };
    const named = job.job.runnerName ? { runnerName: job.job.runnerName } : {};
    if (job.action !== 'in_progress' || job.job.runnerId === null) {
      // no runner to decide about (the rule routes only in_progress): counted, nothing to audit
      metrics.addMetric('JobWatch-ignored', 'Count', 1);
      return 'ignored';
    }
    const runner = await deps.registry.getRunner(job.job.runnerId);
    const match = instanceIdOf({
      name: runner?.name ?? job.job.runnerName ?? '',
      labels: runner?.labels ?? [],
    });
    const who = { ...named, runnerId: job.job.runnerId };
    if (!match)
      return quiet(
        'not-fleet',
        who,
        `runner ${job.job.runnerName ?? job.job.runnerId} is not the fleet's (no instance label or name)`,
      );
    const [info] = await deps.inventory.describe([match.instanceId]);
    if (!info || info.tags[deps.fleetTag.key] !== deps.fleetTag.value)
      return quiet(
        'not-fleet',
        { ...who, instanceId: match.instanceId },
        `instance ${match.instanceId} is not the fleet's (${info ? `no ${deps.fleetTag.key}=${deps.fleetTag.value} tag` : 'EC2 does not describe it'})`,
      );
    const terminating = (await deps.lifecycle.terminating([match.instanceId])).has(match.instanceId);
    if (!terminating && !LEAVING.has(info.state))
      return quiet(
        'healthy',
        { ...who, instanceId: match.instanceId },
        `job ${job.job.name} started on a healthy instance ${match.instanceId} (${info.state})`,
      );

    metrics.addMetric('JobOnLeavingInstance', 'Count', 1);
    const runnerName = runner?.name ?? job.job.runnerName ?? undefined;
    await auditedAction(
      deps.audit,
      ctx,
      {
        action: 'runner.job-on-leaving-instance',
        subject: {
          instanceId: match.instanceId,
          ...(runnerName ? { runnerName } : {}),
          runnerId: job.job.runnerId,
        },
      },
      async () => ({
        decision: 'reported',
        reason: `job ${job.job.name} (${job.repository} run ${job.job.runId}) started on runner ${runnerName ?? job.job.runnerId} while instance ${match.instanceId} is ${terminating ? 'being terminated by its ASG' : info.state}`,
        details: { jobId: job.job.id, runId: job.job.runId, repository: job.repository },
        result: undefined,
      }),
    );
    logger.warn('job started on a leaving instance', {
      instanceId: match.instanceId,
      runnerName,
      jobId: job.job.id,
    });
    return 'job-on-leaving-instance';
  };
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (
  event: EventBridgeEvent<string, unknown>,
  context: Context,
): Promise<JobWatchOutcome> => {
  if (!wired) {
    const env = readEnv(RunnerJobWatchEnv);
    wired = createHandler({
      registry: await runnerRegistryFromEnv(),
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
