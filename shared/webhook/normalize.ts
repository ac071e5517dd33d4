import '../core/zod-locale';
import * as z from 'zod/mini';
import type { ParsedWorkflowJobDetail } from '../github/workflow-job-event';
import { GITHUB_EVENT_SOURCE, WORKFLOW_JOB_DETAIL_TYPE } from '../github/workflow-job-names';
import type { BusEvent } from './publisher';

/** The workflow_job actions fleetwarden publishes; GitHub may add others (accepted and ignored). */
export const KNOWN_WORKFLOW_JOB_ACTIONS = ['queued', 'waiting', 'in_progress', 'completed'] as const;

/** The part of GitHub's workflow_job webhook payload fleetwarden reads (the rest is ignored). */
export const WorkflowJobPayloadSchema = z.object({
  action: z.enum(KNOWN_WORKFLOW_JOB_ACTIONS),
  workflow_job: z.object({
    id: z.int(),
    run_id: z.int(),
    name: z.string(),
    status: z.string(),
    conclusion: z.nullable(z.string()),
    labels: z.array(z.string()),
    runner_id: z.nullable(z.int()),
    runner_name: z.nullable(z.string()),
    started_at: z.nullable(z.string()),
    completed_at: z.optional(z.nullable(z.string())),
    created_at: z.optional(z.nullable(z.string())),
  }),
  repository: z.object({ full_name: z.string().check(z.minLength(1)) }),
  organization: z.optional(z.nullable(z.object({ login: z.string() }))),
});

export function normalizeWorkflowJob(
  deliveryId: string,
  payload: z.infer<typeof WorkflowJobPayloadSchema>,
  origin: { host: string; pool: string },
): BusEvent {
  const j = payload.workflow_job;
  const detail: ParsedWorkflowJobDetail = {
    deliveryId,
    action: payload.action,
    job: {
      id: j.id,
      runId: j.run_id,
      name: j.name,
      status: j.status,
      conclusion: j.conclusion,
      labels: j.labels,
      runnerId: j.runner_id,
      runnerName: j.runner_name,
      startedAt: j.started_at,
      completedAt: j.completed_at ?? null,
    },
    repository: payload.repository.full_name,
    organization: payload.organization?.login ?? null,
    host: origin.host,
    pool: origin.pool,
  };
  return { source: GITHUB_EVENT_SOURCE, detailType: WORKFLOW_JOB_DETAIL_TYPE, detail };
}

type WorkflowJobPayload = z.infer<typeof WorkflowJobPayloadSchema>;

/**
 * When the action a delivery reports happened, by the job's own timestamps (covered by the
 * signature, unlike the headers): queued/waiting -> created_at, in_progress -> started_at,
 * completed -> completed_at; each falls back to started_at when GitHub left it out. A replayed body
 * carries its original time, so the ingress can refuse old ones. `undefined` names no usable time.
 */
export function jobActionTime(payload: WorkflowJobPayload): { field: string; ms: number } | undefined {
  const j = payload.workflow_job;
  const [field, value] =
    payload.action === 'in_progress'
      ? ['started_at', j.started_at]
      : payload.action === 'completed'
        ? j.completed_at
          ? ['completed_at', j.completed_at]
          : ['started_at', j.started_at]
        : j.created_at
          ? ['created_at', j.created_at]
          : ['started_at', j.started_at];
  const ms = value ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? { field, ms } : undefined;
}
