import type { Context, EventBridgeEvent } from 'aws-lambda';
import { MalformedEventError, ThrottledError } from '../../shared/core/errors';
import type { GitHubRunner, RunnerRegistry } from '../../shared/github/port';
import {
  GITHUB_EVENT_SOURCE,
  WORKFLOW_JOB_DETAIL_TYPE,
  type WorkflowJobDetail,
  WorkflowJobDetailSchema,
} from '../../shared/github/workflow-job-event';
import { allowance, type RunKit, recordNote } from '../../shared/kernel/perform';
import type { PortsOf } from '../../shared/kernel/ports';
import type { Remediation, Runtime } from '../../shared/kernel/remediation';
import { AUDIT_TABLE_SETTING, type SettingsOf, setting } from '../../shared/kernel/settings';
import { logger, metrics } from '../../shared/observability/powertools';
import { instanceIdOf } from '../../shared/runners/matching';
import { carriesPoolLabels, DEFAULT_POOL, POOL_SETTINGS, poolAudit } from '../../shared/runners/pool';

const NAME = 'runner-job-watch';
const LEAVING = new Set(['shutting-down', 'stopping', 'stopped', 'terminated']);

const settings = {
  auditTable: AUDIT_TABLE_SETTING,
  fleetTagKey: setting.string('FLEET_TAG_KEY', { doc: "Tag key that marks the fleet's instances." }),
  fleetTagValue: setting.string('FLEET_TAG_VALUE', {
    doc: "Value of the fleet tag on the fleet's instances.",
  }),
  ...POOL_SETTINGS,
};
type Settings = SettingsOf<typeof settings>;
type Ports = PortsOf<'registry' | 'inventory' | 'instanceLifecycle' | 'audit'>;
type JobEvent = EventBridgeEvent<string, unknown>;

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

/** Where the job runs: its runner (looked up, or named by the job alone under a rate limit) and instance. */
interface Placement {
  who: { runnerName?: string; runnerId?: number };
  runnerName: string | undefined;
  /** The runner's name, else its id (for reasons). */
  label: string | number | undefined;
  throttled: ThrottledError | undefined;
  /** Appended to reasons when the runner was not looked up (rate limit), else empty. */
  limit: string;
  resets: string;
  instanceId: string | undefined;
  /** The runner's labels, when it was looked up. */
  labels: readonly string[] | undefined;
}

async function place(registry: RunnerRegistry, job: WorkflowJobDetail): Promise<Placement> {
  const { runner, throttled } = await lookUpRunner(registry, job.job);
  const runnerId = runner?.id ?? job.job.runnerId ?? undefined;
  const runnerName = runner?.name ?? job.job.runnerName ?? undefined;
  const who = { ...(runnerName ? { runnerName } : {}), ...(runnerId !== undefined ? { runnerId } : {}) };
  const resets = `resets in ${Math.ceil((throttled?.retryAfterMs ?? 0) / 1000)} s`;
  const limit = throttled
    ? ` (GitHub rate limit: runner not looked up, placed by the job's runner name alone; ${resets})`
    : '';
  const match = instanceIdOf({ name: runnerName ?? '', labels: runner?.labels ?? [] });
  const label = runnerName ?? runnerId;
  return {
    who,
    runnerName,
    label,
    throttled,
    limit,
    resets,
    instanceId: match?.instanceId,
    labels: runner?.labels,
  };
}

/** One job's watch: its ports and settings, the kernel's kit for its records, the job's details. */
interface Watch {
  ports: Ports;
  settings: Settings;
  kit: RunKit;
  job: WorkflowJobDetail;
  details: Record<string, unknown>;
}

/** Every decision is audited (AGENTS.md): the quiet outcomes too, as skipped with their reason. */
async function quiet(
  w: Watch,
  outcome: 'not-fleet' | 'healthy' | 'rate-limited',
  subject: { instanceId?: string; runnerName?: string; runnerId?: number },
  reason: string,
): Promise<JobWatchOutcome> {
  metrics.addMetric(`JobWatch-${outcome}`, 'Count', 1);
  await recordNote(w.kit, {
    kind: 'note',
    audit: 'runner.job-started',
    decision: 'skipped',
    subject,
    reason,
    details: { ...w.details, outcome },
  });
  return outcome;
}

/** The runner names no instance: not the fleet's, or (under a rate limit) not placeable. */
function unplaced(w: Watch, p: Placement): Promise<JobWatchOutcome> {
  if (p.throttled)
    return quiet(
      w,
      'rate-limited',
      p.who,
      `GitHub rate limit (${p.resets}): runner ${p.label} not looked up, and its name names no instance; skipped`,
    );
  return quiet(w, 'not-fleet', p.who, `runner ${p.label} is not the fleet's (no instance label or name)`);
}

/** The failure fleetwarden exists to prevent: reported (audit + the JobOnLeavingInstance metric). */
async function reportLeaving(w: Watch, p: Placement, instanceId: string, leaving: string) {
  const { job } = w;
  metrics.addMetric('JobOnLeavingInstance', 'Count', 1);
  await recordNote(w.kit, {
    kind: 'note',
    audit: 'runner.job-on-leaving-instance',
    decision: 'reported',
    subject: { ...p.who, instanceId },
    reason: `job ${job.job.name} (${job.repository} run ${job.job.runId}) started on runner ${p.label} while instance ${instanceId} is ${leaving}${p.limit}`,
    details: w.details,
  });
  logger.warn('job started on a leaving instance', {
    instanceId,
    runnerName: p.runnerName,
    jobId: job.job.id,
  });
  return 'job-on-leaving-instance' as const;
}

/** Place the job's runner, confirm its instance is the fleet's (EC2 tag), then whether it is leaving. */
async function watchJob(w: Watch): Promise<JobWatchOutcome> {
  const p = await place(w.ports.registry, w.job);
  const id = p.instanceId;
  if (!id) return unplaced(w, p);
  const pool = w.settings.runnerLabels ?? [];
  if (p.labels && !carriesPoolLabels({ labels: p.labels }, pool))
    return quiet(
      w,
      'not-fleet',
      { ...p.who, instanceId: id },
      `runner ${p.label} lacks the pool's labels (${pool.join(', ')}): another pool's`,
    );
  const [info] = await w.ports.inventory.describe([id]);
  const at = { ...p.who, instanceId: id };
  const { fleetTagKey: key, fleetTagValue: value } = w.settings;
  if (!info || info.tags[key] !== value)
    return quiet(
      w,
      'not-fleet',
      at,
      `instance ${id} is not the fleet's (${info ? `no ${key}=${value} tag` : 'EC2 does not describe it'})${p.limit}`,
    );
  const terminating = (await w.ports.instanceLifecycle.terminating([id])).has(id);
  if (!terminating && !LEAVING.has(info.state))
    return quiet(
      w,
      'healthy',
      at,
      `job ${w.job.job.name} started on a healthy instance ${id} (${info.state})${p.limit}`,
    );
  return reportLeaving(w, p, id, terminating ? 'being terminated by its ASG' : info.state);
}

/** The job-watch rule's `detail.pool` condition for a pool (none for the shorthand's). */
function poolFilter(pool: string | undefined): { pool?: unknown[] } {
  if (!pool) return {};
  return { pool: pool === DEFAULT_POOL ? [pool, { exists: false }] : [pool] };
}

function kitFor(ports: Ports, runtime: Runtime, event: JobEvent, job: WorkflowJobDetail): RunKit {
  return {
    spec: runnerJobWatch,
    audit: ports.audit,
    ctx: {
      function: NAME,
      trigger: {
        source: event.source,
        id: event.id,
        detailType: event['detail-type'],
        time: new Date(event.time).toISOString(),
        githubDeliveryId: job.deliveryId,
      },
      mode: 'live',
      now: runtime.now,
    },
    dryRun: false,
    gate: runtime.gate,
    allowance: allowance(0),
  };
}

/**
 * A job started (workflow_job in_progress) on a runner whose instance is leaving: the failure
 * fleetwarden exists to prevent has happened or is about to. Record it with the delivery id and
 * publish the metric the JobOnLeavingInstance alarm watches. Read-only: nothing is removed here (and
 * the deployed function's GitHub token can only read). Under a GitHub rate limit it degrades: the
 * runner is placed by the job's runner name alone, and when that names no instance the job is skipped
 * with an audit record naming the rate limit.
 */
export const runnerJobWatch: Remediation<typeof settings, never, keyof Ports, JobEvent, JobWatchOutcome> = {
  name: NAME,
  summary: 'Reports jobs that start on runners whose instance is leaving',
  entry: 'functions/runner-job-watch/index.ts',
  triggers: [
    {
      kind: 'events',
      id: 'JobStartedRule',
      bus: 'github',
      // a pool's own events (the ingress names the pool whose secret verified the delivery); the
      // shorthand's single pool takes every one, as before pools; the pool `default` also takes the
      // events of an ingress from before pools (no pool: read as `default`)
      pattern: (s) => ({
        source: [GITHUB_EVENT_SOURCE],
        detailType: [WORKFLOW_JOB_DETAIL_TYPE],
        detail: { action: ['in_progress'], ...poolFilter(s.poolName) },
      }),
      delivery: 'direct',
    },
  ],
  settings,
  // read-only: its reports are notes (runner.job-started skipped, runner.job-on-leaving-instance reported)
  actions: {},
  reads: () => [
    {
      // EC2 state and the ASG lifecycle state of the runner's instance: no resource-level permissions
      actions: [
        'ec2:DescribeInstances',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeAutoScalingGroups',
      ],
      resources: ['*'],
    },
  ],
  needs: ['github-app'],
  ports: ['registry', 'inventory', 'instanceLifecycle', 'audit'],
  create: (ports, settings, runtime) => async (event: JobEvent, _context?: Context) => {
    const parsed = WorkflowJobDetailSchema.safeParse(event.detail);
    if (!parsed.success) {
      throw new MalformedEventError(
        `event ${event.id} is not a workflow_job detail: ${parsed.error.message}`,
        {
          cause: parsed.error,
        },
      );
    }
    const job = parsed.data;
    if (job.action !== 'in_progress' || (job.job.runnerId === null && !job.job.runnerName)) {
      // no runner to decide about (the rule routes only in_progress): counted, nothing to audit
      metrics.addMetric('JobWatch-ignored', 'Count', 1);
      return 'ignored';
    }
    const details = { jobId: job.job.id, runId: job.job.runId, repository: job.repository };
    // a pool's records name it (details.pool)
    const audited = { ...ports, audit: poolAudit(ports.audit, settings.poolName) };
    return watchJob({ ports: audited, settings, kit: kitFor(audited, runtime, event, job), job, details });
  },
};
