import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { AUDIT_TABLE_ENV } from '../../infra/constructs/audit-access';
import { type AuditContext, auditedAction, sqsDelivery } from '../../shared/audit/audited-action';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import type { AuditSink } from '../../shared/audit/port';
import { AutoScalingLifecycleActions } from '../../shared/autoscaling/autoscaling-lifecycle-actions';
import type { LifecycleActionRef, LifecycleActions } from '../../shared/autoscaling/port';
import { envBoolean, readEnv } from '../../shared/core/env';
import { MalformedEventError, ThrottledError } from '../../shared/core/errors';
import { GitHubApiError, RunnerBusyError, RunnerListingError } from '../../shared/github/errors';
import type { GitHubRunner, RunnerRegistry } from '../../shared/github/port';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { logger, metrics } from '../../shared/observability/powertools';
import { DrainInvariantError, decideDrain } from '../../shared/runners/drain';
import { type DrainScheduler, SqsDrainScheduler } from '../../shared/runners/drain-scheduler';
import { findByConventionalNames } from '../../shared/runners/find-by-name';
import {
  DrainRetrySchema,
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
  DRAIN_QUEUE_URL: z.string().url(),
  AUTO_SCALING_GROUP_NAMES: z.string().transform((s) => new Set(s.split(',').filter(Boolean))),
  DRAIN_DEADLINE_SECONDS: z.coerce.number().int().min(60).max(172_800).default(1800),
  RETRY_DELAY_SECONDS: z.coerce.number().int().min(10).max(900).default(60),
  DRY_RUN: envBoolean.default(true),
});

export interface RunnerDrainDeps {
  registry: RunnerRegistry;
  lifecycle: LifecycleActions;
  scheduler: DrainScheduler;
  audit: AuditSink;
  dryRun: boolean;
  deadlineMs: number;
  retryDelaySeconds: number;
  autoScalingGroupNames: ReadonlySet<string>;
  now?: () => Date;
}

const FUNCTION = 'runner-drain';

interface Parsed {
  event: TerminateLifecycleEvent;
  attempt: number;
  runnerIds: number[];
  absentOnce: boolean;
}

function parse(record: SQSRecord): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (err) {
    throw new MalformedEventError(`message ${record.messageId} is not JSON`, { cause: err });
  }
  const retry = DrainRetrySchema.safeParse(body);
  if (retry.success)
    return {
      event: retry.data.event,
      attempt: retry.data.attempt,
      runnerIds: retry.data.runnerIds ?? [],
      absentOnce: retry.data.absentOnce ?? false,
    };
  const first = TerminateLifecycleEventSchema.safeParse(body);
  if (first.success) return { event: first.data, attempt: 0, runnerIds: [], absentOnce: false };
  throw new MalformedEventError(
    `message ${record.messageId} is neither a terminate lifecycle event nor a drain retry: ${first.error.message}`,
    { cause: first.error },
  );
}

/**
 * Drain one terminating runner instance per message: idle runner -> deregister, then
 * CompleteLifecycleAction(CONTINUE); busy -> heartbeat and look again in `retryDelaySeconds` (the
 * message re-enqueues itself) until idle or the drain deadline. "No active Lifecycle Action" is
 * recorded and ends the drain. Dry run: deregister nothing, but complete the action at once so the
 * fleet behaves as if fleetwarden were not there. Errors fail the message (SQS redelivers, then DLQ).
 */
export function createHandler(deps: RunnerDrainDeps) {
  const now = deps.now ?? (() => new Date());
  const mode = deps.dryRun ? 'dry-run' : 'live';

  /** A listing (or lookup) as data: a GitHub failure means "could not look", never "no runner". */
  async function look(fn: () => Promise<GitHubRunner[]>): Promise<Listing<GitHubRunner>> {
    try {
      return { ok: true, items: await fn() };
    } catch (err) {
      if (
        !(err instanceof RunnerListingError || err instanceof ThrottledError || err instanceof GitHubApiError)
      )
        throw err;
      return { ok: false, error: err.cause instanceof Error ? err.cause.message : err.message };
    }
  }

  async function drain(
    event: TerminateLifecycleEvent,
    attempt: number,
    knownRunnerIds: number[],
    delivery: { deliveryId: string; attempt: number },
    absentBefore: boolean,
  ): Promise<void> {
    const d = event.detail;
    const ref: LifecycleActionRef = {
      autoScalingGroupName: d.AutoScalingGroupName,
      lifecycleHookName: d.LifecycleHookName,
      lifecycleActionToken: d.LifecycleActionToken,
      instanceId: d.EC2InstanceId,
    };
    const ctx: AuditContext = {
      function: FUNCTION,
      trigger: {
        source: event.source,
        id: attempt ? `${event.id}#${attempt}` : event.id,
        detailType: event['detail-type'],
        time: new Date(event.time).toISOString(),
      },
      mode,
      now,
      ...delivery,
    };
    const subject = { instanceId: d.EC2InstanceId, autoScalingGroupName: d.AutoScalingGroupName };
    if (!deps.autoScalingGroupNames.has(d.AutoScalingGroupName)) {
      await auditedAction(deps.audit, ctx, { action: 'lifecycle.complete', subject }, async () => ({
        decision: 'skipped',
        reason: `Auto Scaling group ${d.AutoScalingGroupName} is not one of the fleet's; not touching its lifecycle action`,
        result: undefined,
      }));
      return;
    }

    // Known runners (from an earlier look) are read by id: one request each instead of every page.
    // If all of them are gone (404), fall back to a full listing: an ephemeral runner may have
    // re-registered under a new id.
    let runners: Listing<GitHubRunner> = { ok: true, items: [] };
    if (knownRunnerIds.length > 0) {
      runners = await look(async () =>
        (await Promise.all(knownRunnerIds.map((id) => deps.registry.getRunner(id)))).filter(
          (r): r is GitHubRunner => r !== undefined,
        ),
      );
    }
    if (!runners.ok || runners.items.length === 0) runners = await look(() => deps.registry.listRunners());
    const drainInput = {
      instanceId: d.EC2InstanceId,
      startedAt: new Date(event.time),
      now: now(),
      deadlineMs: deps.deadlineMs,
      runners,
      absentBefore,
    };
    let decision = decideDrain(drainInput);
    // an absence seen once is carried while listings fail; a runner seen ends it
    let absentOnce = absentBefore && !runners.ok;
    if (decision.kind === 'confirm') {
      // absent from one offset-paginated listing of a live list is not proof: look up the documented
      // names (?name=, immune to page shifts); found nowhere (a custom name?), the next look's
      // listing is the second listing, so no invocation reads every page twice
      const confirmation = await look(() => findByConventionalNames(deps.registry, [d.EC2InstanceId]));
      const found =
        confirmation.ok && confirmation.items.some((r) => instanceIdOf(r)?.instanceId === d.EC2InstanceId);
      if (found || !confirmation.ok) decision = decideDrain({ ...drainInput, confirmation });
      else {
        absentOnce = true;
        decision = {
          kind: 'wait',
          busy: [],
          reason: `no runner for ${d.EC2InstanceId} in one listing nor by name (${conventionalRunnerNames(d.EC2InstanceId).join(', ')}); one more listing on the next look before letting the instance go`,
        };
      }
    }
    if (decision.kind === 'confirm')
      throw new DrainInvariantError(`drain of ${d.EC2InstanceId} still unconfirmed after the confirmation`);
    if (deps.dryRun && decision.kind === 'wait') {
      decision = {
        kind: 'complete',
        deregister: [],
        reason: `dry run: would hold the instance (${decision.reason})`,
      };
    }

    if (decision.kind === 'complete' || decision.kind === 'deadline') {
      for (const runner of decision.deregister) {
        const becameBusy = await auditedAction(
          deps.audit,
          ctx,
          {
            action: 'runner.deregister',
            subject: { ...subject, runnerName: runner.name, runnerId: runner.id },
          },
          async () => {
            if (deps.dryRun)
              return {
                decision: 'reported',
                reason: `dry run: would deregister idle runner ${runner.name}`,
                result: false,
              };
            try {
              const r = await deps.registry.deleteRunner(runner.id);
              return {
                decision: 'acted',
                reason:
                  r === 'deleted'
                    ? `deregistered idle runner ${runner.name} before termination`
                    : `runner ${runner.name} was already gone (404)`,
                result: false,
              };
            } catch (err) {
              if (!(err instanceof RunnerBusyError)) throw err;
              return {
                decision: 'skipped',
                reason: `runner ${runner.name} picked up a job meanwhile; holding the instance`,
                result: true,
              };
            }
          },
        );
        if (becameBusy) {
          decision = { kind: 'wait', busy: [runner], reason: 'runner became busy during drain' };
          break;
        }
      }
    }

    if (decision.kind === 'wait') {
      const seenIds = decision.busy.length > 0 ? decision.busy.map((r) => r.id) : knownRunnerIds;
      // a busy non-ephemeral runner takes the next job within milliseconds of finishing this one:
      // take its custom labels away (once) so the jobs asking for them go elsewhere
      const cordon = deps.registry.cordonRunner?.bind(deps.registry);
      for (const runner of cordon ? decision.busy : []) {
        if (!cordon || runner.labels.includes(DRAINING_LABEL)) continue;
        const labels = cordonLabels(runner);
        try {
          await auditedAction(
            deps.audit,
            ctx,
            {
              action: 'runner.cordon',
              subject: { ...subject, runnerName: runner.name, runnerId: runner.id },
            },
            async () => {
              const r = await cordon(runner.id, labels);
              return {
                decision: r === 'cordoned' ? 'acted' : 'skipped',
                reason:
                  r === 'cordoned'
                    ? `runner ${runner.name} is busy on a terminating instance: custom labels replaced by ${labels.join(', ')} so no job asking for them lands on it`
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
      const alive = await auditedAction(
        deps.audit,
        ctx,
        { action: 'lifecycle.heartbeat', subject },
        async () => {
          const r = await deps.lifecycle.heartbeat(ref);
          return r === 'recorded'
            ? {
                decision: 'acted',
                reason: `${decision.reason}; heartbeat recorded, looking again in ${deps.retryDelaySeconds} s`,
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
      if (alive)
        await deps.scheduler.later(
          {
            fleetwarden: 'drain-retry',
            attempt: attempt + 1,
            event,
            ...(seenIds.length > 0 ? { runnerIds: seenIds } : {}),
            ...(absentOnce ? { absentOnce } : {}),
          },
          deps.retryDelaySeconds,
        );
      return;
    }

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

  const processor = new BatchProcessor(EventType.SQS);
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
    processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const { event: e, attempt, runnerIds, absentOnce } = parse(record);
        await drain(e, attempt, runnerIds, sqsDelivery(record), absentOnce);
      },
      processor,
      { context },
    );
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  if (!wired) {
    const env = readEnv(RunnerDrainEnv);
    wired = createHandler({
      registry: await runnerRegistryFromEnv(),
      lifecycle: new AutoScalingLifecycleActions(),
      scheduler: new SqsDrainScheduler(env.DRAIN_QUEUE_URL),
      audit: new DynamoDbAuditSink(env[AUDIT_TABLE_ENV]),
      dryRun: env.DRY_RUN,
      deadlineMs: env.DRAIN_DEADLINE_SECONDS * 1000,
      retryDelaySeconds: env.RETRY_DELAY_SECONDS,
      autoScalingGroupNames: env.AUTO_SCALING_GROUP_NAMES,
    });
  }
  try {
    const res = await wired(event, context);
    logger.info('runner-drain batch', {
      messages: event.Records.length,
      failed: res.batchItemFailures.length,
    });
    return res;
  } finally {
    metrics.publishStoredMetrics();
  }
};
