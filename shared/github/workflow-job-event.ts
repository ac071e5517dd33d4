import '../core/zod-locale';
import * as z from 'zod/mini';
import { DEFAULT_POOL, DEFAULT_WEBHOOK_HOST } from './workflow-job-names';

/**
 * The normalized event the webhook ingress puts on the fleet's EventBridge bus for every accepted
 * `workflow_job` webhook. Consumers (runner remediation) match on source + detail-type and parse
 * the detail with this schema. runnerId/runnerName are null while the job is queued (GitHub sends
 * them only once a runner picked the job up).
 *
 * `host` (the lowercase hostname of the GitHub that sent it: `github.com` or a GHES host) and `pool`
 * (the runner pool whose webhook secret verified the signature) are decided by the ingress from
 * WHICH POOL'S SECRET VERIFIED IT, never from unsigned headers. Optional on read: an event published
 * before pools existed is `github.com`, pool `default`.
 */
export {
  DEFAULT_POOL,
  DEFAULT_WEBHOOK_HOST,
  GITHUB_EVENT_SOURCE,
  WORKFLOW_JOB_DETAIL_TYPE,
} from './workflow-job-names';

export const WorkflowJobDetailSchema = z.object({
  /** X-GitHub-Delivery: shared by redeliveries of the same webhook. */
  deliveryId: z.string().check(z.minLength(1)),
  action: z.enum(['queued', 'waiting', 'in_progress', 'completed']),
  job: z.object({
    id: z.int(),
    runId: z.int(),
    name: z.string(),
    status: z.string(),
    conclusion: z.nullable(z.string()),
    labels: z.array(z.string()),
    runnerId: z.nullable(z.int()),
    runnerName: z.nullable(z.string()),
    startedAt: z.nullable(z.string()),
    completedAt: z.nullable(z.string()),
  }),
  repository: z.string().check(z.minLength(1)),
  organization: z.nullable(z.string()),
  host: z._default(z.string().check(z.minLength(1)), DEFAULT_WEBHOOK_HOST),
  pool: z._default(z.string().check(z.minLength(1)), DEFAULT_POOL),
});
/** A detail as it travels on the bus (events published before pools carry no host or pool). */
export type WorkflowJobDetail = z.input<typeof WorkflowJobDetailSchema>;
/** A detail as read (host and pool filled in). */
export type ParsedWorkflowJobDetail = z.output<typeof WorkflowJobDetailSchema>;
