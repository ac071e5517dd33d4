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

/** What EC2 and Auto Scaling say of an instance: not the fleet's, healthy, or leaving (and how). */
type Verdict =
  | { kind: 'not-fleet'; why: string }
  | { kind: 'healthy'; state: string }
  | { kind: 'leaving'; leaving: string };

/** The instance's fleet tag (EC2), then whether it is leaving (its EC2 state, its ASG's Terminating). */
async function inspect(w: Watch, id: string): Promise<Verdict> {
  const [info] = await w.ports.inventory.describe([id]);
  const { fleetTagKey: key, fleetTagValue: value } = w.settings;
  if (!info || info.tags[key] !== value)
    return { kind: 'not-fleet', why: info ? `no ${key}=${value} tag` : 'EC2 does not describe it' };
  const terminating = (await w.ports.instanceLifecycle.terminating([id])).has(id);
  if (!terminating && !LEAVING.has(info.state)) return { kind: 'healthy', state: info.state };
  return { kind: 'leaving', leaving: terminating ? 'being terminated by its ASG' : info.state };
}

/**
 * The job's runner placed (looked up, or by its name under a rate limit): its pool's labels, then
 * its instance decide. `known` is a verdict already read for an instance (not read twice).
 */
async function watchPlaced(
  w: Watch,
  p: Placement,
  known?: { id: string; verdict: Verdict },
): Promise<JobWatchOutcome> {
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
  const v = known?.id === id ? known.verdict : await inspect(w, id);
  const at = { ...p.who, instanceId: id };
  if (v.kind === 'not-fleet')
    return quiet(w, 'not-fleet', at, `instance ${id} is not the fleet's (${v.why})${p.limit}`);
  if (v.kind === 'healthy')
    return quiet(
      w,
      'healthy',
      at,
      `job ${w.job.job.name} started on a healthy instance ${id} (${v.state})${p.limit}`,
    );
  return reportLeaving(w, p, id, v.leaving);
}

/** The runner as the webhook names it (unverified: the payload's runner_name and runner_id). */
function hinted(job: WorkflowJobDetail['job']): { runnerName?: string; runnerId?: number } {
  return {
    ...(job.runnerName ? { runnerName: job.runnerName } : {}),
    ...(job.runnerId !== null ? { runnerId: job.runnerId } : {}),
  };
}

/**
 * The runner's name names its instance (the documented `ci-<instance-id>`): EC2/Auto Scaling first,
 * GitHub only when the instance is the fleet's and leaving (to confirm the runner before a report).
 * A quiet outcome here says what was verified (the instance) and what was not (the runner).
 */
async function watchNamed(w: Watch, id: string): Promise<JobWatchOutcome> {
  const verdict = await inspect(w, id);
  const who = hinted(w.job.job);
  const name = w.job.job.runnerName;
  const unverified = `runner ${name} placed by its name alone: its labels and pool not looked up (no GitHub request: nothing to report)`;
  if (verdict.kind === 'not-fleet')
    return quiet(
      w,
      'not-fleet',
      { ...who, instanceId: id },
      `instance ${id} is not the fleet's (${verdict.why}); ${unverified}`,
    );
  if (verdict.kind === 'healthy')
    return quiet(
      w,
      'healthy',
      { ...who, instanceId: id },
      `job ${w.job.job.name} started on a healthy instance ${id} (${verdict.state}; the fleet's tag and no Terminating lifecycle verified); ${unverified}`,
    );
  // leaving: GitHub decides whose runner it is (its labels' instance, its pool) before any report
  return watchPlaced(w, await place(w.ports.registry, w.job), { id, verdict });
}

/**
 * Where the job runs: by the runner's name when it names an instance (GitHub asked only if that
 * instance is the fleet's and leaving), else by the runner GitHub describes (as it always was).
 */
async function watchJob(w: Watch): Promise<JobWatchOutcome> {
  const named = instanceIdOf({ name: w.job.job.runnerName ?? '', labels: [] });
  if (named) return watchNamed(w, named.instanceId);
  return watchPlaced(w, await place(w.ports.registry, w.job));
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
 *
 * GitHub is asked only when its answer can matter. When the webhook's runner_name names an instance
 * the documented way (`ci-<instance-id>` or the bare id; shared/runners/matching.ts), EC2 and Auto
 * Scaling are read first, and the runner is looked up (one GET) only when that instance is the fleet's
 * and leaving: its labels (which instance, which pool) decide before any report. A job on a healthy
 * instance costs no GitHub request and is audited as healthy, its reason saying the runner was placed
 * by its name and its labels and pool were not looked up. Runners whose name names no instance are
 * looked up first, as before.
 *
 * A webhook is a hint. The ingress verifies the delivery's signature, but runner_name is whatever the
 * payload says (a misconfigured runner, or a forged delivery signed with a leaked secret). What such a
 * name can do: (a) name a healthy or foreign instance, so the job is audited as healthy/not-fleet
 * while its runner's labels would have placed it on a leaving instance — a missed note; the genuine
 * delivery of that job carries the runner's own name; (b) name a leaving fleet instance, which costs
 * one GET, after which the runner's labels and pool decide, exactly as before. Either way the worst
 * is a note written or not written: this function never acts (no action, a read-only token), so a
 * forged name can change no runner and no instance, as before.
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
