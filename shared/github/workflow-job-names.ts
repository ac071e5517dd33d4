/**
 * The names of the `workflow_job` event on the fleet's bus (its schema: workflow-job-event.ts). The
 * ingress, which builds the detail and never parses one, imports these alone, so its bundle carries
 * no schema of the consumers'.
 */
export const GITHUB_EVENT_SOURCE = 'fleetwarden.github';
export const WORKFLOW_JOB_DETAIL_TYPE = 'workflow_job';
/** The pool of today's single-pool setup (and of events published before pools existed). */
export const DEFAULT_POOL = 'default';
/** The host of github.com deliveries (no X-GitHub-Enterprise-Host header). */
export const DEFAULT_WEBHOOK_HOST = 'github.com';
