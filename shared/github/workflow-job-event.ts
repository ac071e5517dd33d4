import * as z from 'zod';

/**
 * The normalized event the webhook ingress puts on the fleet's EventBridge bus for every accepted
 * `workflow_job` webhook. Consumers (runner remediation) match on source + detail-type and parse
 * the detail with this schema. runnerId/runnerName are null while the job is queued (GitHub sends
 * them only once a runner picked the job up).
 */
export const GITHUB_EVENT_SOURCE = 'fleetwarden.github';
export const WORKFLOW_JOB_DETAIL_TYPE = 'workflow_job';

export const WorkflowJobDetailSchema = z.object({
  /** X-GitHub-Delivery: shared by redeliveries of the same webhook. */
  deliveryId: z.string().min(1),
  action: z.enum(['queued', 'waiting', 'in_progress', 'completed']),
  job: z.object({
    id: z.number().int(),
    runId: z.number().int(),
    name: z.string(),
    status: z.string(),
    conclusion: z.string().nullable(),
    labels: z.array(z.string()),
    runnerId: z.number().int().nullable(),
    runnerName: z.string().nullable(),
    startedAt: z.string().nullable(),
    completedAt: z.string().nullable(),
  }),
  repository: z.string().min(1),
  organization: z.string().nullable(),
});
export type WorkflowJobDetail = z.infer<typeof WorkflowJobDetailSchema>;
