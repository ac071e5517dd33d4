import type { AuditRecord } from '../../shared/audit/schema';
import { mergeTimeline, type TimelineEntry } from '../timeline/merge';
import { type Evidence, evidenceOfEntries } from './evidence';

/** One audit record explained: what was decided, the calls with their CloudTrail events, the cause. */
export interface RecordExplanation {
  recordId: string;
  time: string;
  function: string;
  action: string;
  decision: AuditRecord['decision'];
  reason: string;
  mode: AuditRecord['mode'];
  subject: AuditRecord['subject'];
  trigger: AuditRecord['trigger'];
  details: AuditRecord['details'];
  calls: {
    call: string;
    time: string;
    outcome: string;
    errorName?: string;
    requestId?: string;
    /** The CloudTrail event audit-correlate matched to this call's request id, once correlated. */
    cloudTrailEventId?: string;
  }[];
  githubCalls: AuditRecord['githubCalls'];
  /** The CloudTrail event of the change that triggered the decision (who did it), once correlated. */
  cause: NonNullable<AuditRecord['correlation']['trigger']> | null;
  correlation: Pick<AuditRecord['correlation'], 'status' | 'unresolvedReason' | 'lastError' | 'attempts'>;
  /** The record as timeline lines (the same merge as `fleetwarden timeline`). */
  entries: TimelineEntry[];
  evidence: Evidence;
}

export function explainRecord(r: AuditRecord): RecordExplanation {
  const eventOf = new Map(r.correlation.calls.map((c) => [c.requestId, c.eventId]));
  const entries = mergeTimeline([r], []);
  const { status, unresolvedReason, lastError, attempts } = r.correlation;
  return {
    recordId: r.recordId,
    time: r.time,
    function: r.function,
    action: r.action,
    decision: r.decision,
    reason: r.reason,
    mode: r.mode,
    subject: r.subject,
    trigger: r.trigger,
    details: r.details,
    calls: r.calls.map((c) => {
      const eventId = c.requestId ? eventOf.get(c.requestId) : undefined;
      return {
        call: `${c.service}.${c.operation}`,
        time: c.time,
        outcome: c.outcome,
        ...(c.errorName ? { errorName: c.errorName } : {}),
        ...(c.requestId ? { requestId: c.requestId } : {}),
        ...(eventId ? { cloudTrailEventId: eventId } : {}),
      };
    }),
    githubCalls: r.githubCalls,
    cause: r.correlation.trigger ?? null,
    correlation: {
      status,
      attempts,
      ...(unresolvedReason ? { unresolvedReason } : {}),
      ...(lastError ? { lastError } : {}),
    },
    entries,
    evidence: evidenceOfEntries(entries),
  };
}
