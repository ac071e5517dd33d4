import type { AuditRecord } from '../../shared/audit/schema';
import type { UnreadableRecord } from '../../shared/audit/store-port';
import type { TrailEvent } from '../../shared/cloudtrail/event';

/** One line of a timeline. Every line carries the id(s) that prove it. */
export interface TimelineEntry {
  time: string;
  kind: 'decision' | 'aws-call' | 'github-call' | 'cause' | 'cloudtrail' | 'unreadable';
  summary: string;
  evidence: {
    recordId?: string;
    eventId?: string;
    requestId?: string;
    githubRequestId?: string;
    githubDeliveryId?: string;
  };
  /** Where the evidence stands: CloudTrail correlation status for fleet calls. */
  correlation?: string;
}

/**
 * Merge audit records (with their AWS/GitHub calls and the correlated cause) and CloudTrail events
 * about the subject into one time-ordered list. A CloudTrail event already cited by a record (as a
 * call's event or as the cause) is shown once, on the record's line; so is an event whose requestID
 * and name match a call the correlator has not matched yet. Records that could not be read are
 * listed as such, with their id, so nothing disappears silently.
 */
export function mergeTimeline(
  records: AuditRecord[],
  events: TrailEvent[],
  unreadable: UnreadableRecord[] = [],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const cited = new Set<string>();
  const eventByRequest = new Map(events.filter((e) => e.requestId).map((e) => [e.requestId as string, e]));
  for (const u of unreadable) {
    entries.push({
      time: u.time ?? '',
      kind: 'unreadable',
      summary: `audit record this CLI cannot read: ${u.reason}`,
      evidence: { recordId: u.recordId },
    });
  }
  for (const r of records) {
    const c = r.correlation;
    entries.push({
      time: r.time,
      kind: 'decision',
      summary: `${r.function} ${r.action} ${decisionText(r)}${r.mode === 'dry-run' ? ' (dry-run)' : ''}: ${r.reason}`,
      evidence: {
        recordId: r.recordId,
        ...(r.trigger.githubDeliveryId ? { githubDeliveryId: r.trigger.githubDeliveryId } : {}),
      },
      correlation:
        r.decision === 'intended'
          ? outcomeUnknown(r)
          : `CloudTrail ${c.status}` +
            (c.status === 'unresolved' && c.unresolvedReason ? ` (${c.unresolvedReason})` : ''),
    });
    if (c.trigger) {
      cited.add(c.trigger.eventId);
      entries.push({
        time: c.trigger.eventTime,
        kind: 'cause',
        summary: `${c.trigger.eventName} by ${c.trigger.actor} (triggered ${r.action})`,
        evidence: { eventId: c.trigger.eventId, recordId: r.recordId },
      });
    }
    const byRequest = new Map(c.calls.map((m) => [m.requestId, m]));
    for (const call of r.calls) {
      const correlated = call.requestId ? byRequest.get(call.requestId) : undefined;
      const seen = call.requestId && !correlated ? eventByRequest.get(call.requestId) : undefined;
      const uncorrelated = seen && seen.eventName === call.operation ? seen : undefined;
      const match = correlated ?? uncorrelated;
      if (match) cited.add(match.eventId);
      entries.push({
        time: call.time,
        kind: 'aws-call',
        summary: `${call.service}.${call.operation} ${call.outcome}${call.errorName ? ` (${call.errorName})` : ''}`,
        evidence: {
          recordId: r.recordId,
          ...(call.requestId ? { requestId: call.requestId } : {}),
          ...(match ? { eventId: match.eventId } : {}),
        },
        correlation: correlated
          ? 'in CloudTrail'
          : uncorrelated
            ? 'in CloudTrail (matched by request id; not yet correlated)'
            : call.requestId
              ? `CloudTrail ${c.status}`
              : 'no request id (call did not reach AWS)',
      });
    }
    for (const call of r.githubCalls) {
      entries.push({
        time: call.time,
        kind: 'github-call',
        summary: `GitHub ${call.route} -> ${call.status}`,
        evidence: { recordId: r.recordId, ...(call.requestId ? { githubRequestId: call.requestId } : {}) },
      });
    }
  }
  for (const e of events) {
    if (cited.has(e.eventId)) continue;
    cited.add(e.eventId);
    entries.push({
      time: e.eventTime,
      kind: 'cloudtrail',
      summary: `${e.eventName} by ${e.actor}`,
      evidence: { eventId: e.eventId, ...(e.requestId ? { requestId: e.requestId } : {}) },
    });
  }
  const order: Record<TimelineEntry['kind'], number> = {
    unreadable: 0,
    cause: 0,
    cloudtrail: 1,
    decision: 2,
    'aws-call': 3,
    'github-call': 3,
  };
  // an unreadable record without a time sorts first
  const t = (e: TimelineEntry) => (e.time ? Date.parse(e.time) : Number.NEGATIVE_INFINITY);
  return entries.sort((a, b) => t(a) - t(b) || order[a.kind] - order[b.kind]);
}

/**
 * An 'intended' record is the intent written before a fleet-mutating call, never replaced by its
 * outcome: the step stopped (crash, timeout, lost outcome write) between the two. Say so plainly.
 */
function decisionText(r: AuditRecord): string {
  return r.decision === 'intended' ? 'intended, outcome unknown' : r.decision;
}

function outcomeUnknown(r: AuditRecord): string {
  const call = typeof r.details.intendedCall === 'string' ? r.details.intendedCall : 'the intended call';
  return `no outcome recorded: the step did not finish; ${call} may or may not have been sent (check CloudTrail)`;
}

export function evidenceText(e: TimelineEntry['evidence']): string {
  return [
    e.recordId && `record=${e.recordId}`,
    e.eventId && `event=${e.eventId}`,
    e.requestId && `request=${e.requestId}`,
    e.githubRequestId && `github-request=${e.githubRequestId}`,
    e.githubDeliveryId && `delivery=${e.githubDeliveryId}`,
  ]
    .filter(Boolean)
    .join(' ');
}

const KIND_LABEL: Record<TimelineEntry['kind'], string> = {
  decision: 'audit',
  'aws-call': '  aws call',
  'github-call': '  github',
  cause: 'cause',
  cloudtrail: 'cloudtrail',
  unreadable: 'unreadable',
};

/** A fixed-width table for people: TIME, SOURCE, WHAT, EVIDENCE (evidence on every line). */
export function renderTable(subject: string, entries: TimelineEntry[], notes: string[] = []): string {
  const rows = entries.map((e) => [
    (e.time || '?').replace('T', ' ').replace(/\.\d{3}Z$/, 'Z'),
    KIND_LABEL[e.kind],
    e.summary + (e.correlation ? ` [${e.correlation}]` : ''),
    evidenceText(e.evidence),
  ]);
  const header = ['TIME', 'SOURCE', 'WHAT', 'EVIDENCE'];
  const width = (i: number) =>
    Math.min(i === 2 ? 90 : 40, Math.max(header[i]?.length ?? 0, ...rows.map((r) => r[i]?.length ?? 0)));
  // never truncate: actors, reasons and ids are the evidence; long cells just push the row wider
  const pad = (s: string, w: number) => s.padEnd(w);
  const line = (r: string[]) =>
    [pad(r[0] ?? '', width(0)), pad(r[1] ?? '', width(1)), pad(r[2] ?? '', width(2)), r[3]]
      .join('  ')
      .trimEnd();
  return [
    `Timeline for ${subject}: ${entries.length} entries`,
    ...notes,
    line(header),
    ...rows.map(line),
    '',
  ].join('\n');
}
