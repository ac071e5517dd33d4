/** The on-call runbooks, relative to the repository root. */
export const RUNBOOKS_DOC = 'docs/runbooks.md';

/**
 * Sections of docs/runbooks.md an alarm can link to (GitHub heading anchors). The stack test checks
 * that every alarm links to one and that each exists as a heading.
 */
export type RunbookAnchor =
  | 'function-errors'
  | 'function-throttles'
  | 'function-dead-letters'
  | 'function-duration-near-timeout'
  | 'dns-sync-queue-dead-letters'
  | 'webhook-signatures-refused'
  | 'drain-queue-dead-letters'
  | 'drain-deadline-reached'
  | 'cordon-failed'
  | 'sweep-circuit-open'
  | 'sweep-budget-exhausted'
  | 'job-on-a-leaving-instance'
  | 'remediation-queue-dead-letters';

/** CloudWatch's limit on an alarm description. */
const MAX_DESCRIPTION = 1024;

/** An alarm description: what happened, then `Runbook: docs/runbooks.md#<anchor>` (never cut off). */
export function alarmDescription(summary: string, anchor: RunbookAnchor): string {
  const link = ` Runbook: ${RUNBOOKS_DOC}#${anchor}`;
  const text = summary.trim().replace(/\.?$/, '.');
  const room = MAX_DESCRIPTION - link.length;
  return `${text.length > room ? `${text.slice(0, room - 1)}…` : text}${link}`;
}
