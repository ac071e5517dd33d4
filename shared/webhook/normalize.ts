import { z } from 'zod';
import {
  GITHUB_EVENT_SOURCE,
  WORKFLOW_JOB_DETAIL_TYPE,
  type WorkflowJobDetail,
} from '../github/workflow-job-event';
import type { BusEvent } from './publisher';

/** The workflow_job actions fleetwarden publishes; GitHub may add others (accepted and ignored). */
export const KNOWN_WORKFLOW_JOB_ACTIONS = ['queued', 'waiting', 'in_progress', 'completed'] as const;

/** The part of GitHub's workflow_job webhook payload fleetwarden reads (the rest is ignored). */
export const WorkflowJobPayloadSchema = z.object({
  action: z.enum(KNOWN_WORKFLOW_JOB_ACTIONS),
  workflow_job: z.object({
    id: z.number().int(),
    run_id: z.number().int(),
    name: z.string(),
    status: z.string(),
    conclusion: z.string().nullable(),
    labels: z.array(z.string()),
    runner_id: z.number().int().nullable(),
    runner_name: z.string().nullable(),
    started_at: z.string().nullable(),
    completed_at: z.string().nullable().optional(),
  }),
  repository: z.object({ full_name: z.string().min(1) }),
  organization: z.object({ login: z.string() }).nullable().optional(),
});

export function normalizeWorkflowJob(
  deliveryId: string,
  payload: z.infer<typeof WorkflowJobPayloadSchema>,
): BusEvent {
  const j = payload.workflow_job;
  const detail: WorkflowJobDetail = {
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
  };
  return { source: GITHUB_EVENT_SOURCE, detailType: WORKFLOW_JOB_DETAIL_TYPE, detail };
}
