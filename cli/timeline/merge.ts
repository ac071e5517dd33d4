import type { AuditRecord } from '../../shared/audit/schema';
import type { UnreadableRecord } from '../../shared/audit/store-port';
import type { TrailEvent } from '../../shared/cloudtrail/event';
import { type ApprovalDecision, approvalOf, proposalIdOf } from './approvals';

/** One line of a timeline. Every line carries the id(s) that prove it. */
export interface TimelineEntry {
  time: string;
  kind: 'decision' | 'approval' | 'aws-call' | 'github-call' | 'cause' | 'cloudtrail' | 'unreadable';
  summary: string;
  evidence: {
    recordId?: string;
    eventId?: string;
    requestId?: string;
    githubRequestId?: string;
    githubDeliveryId?: string;
    /** The proposal an approval line, a proposal note or an approved action is about. */
    proposalId?: string;
    /** A human decision's AWS request ids (STS GetCallerIdentity, AssumeRole). */
    requestIds?: string[];
  };
  /** Where the evidence stands: CloudTrail correlation status for fleet calls. */
  correlation?: string;
  /** A cause: every audit record it triggered (the line is shown once, however many cite it). */
  records?: string[];
}

/**
 * Merge audit records (with their AWS/GitHub calls and the correlated cause) and CloudTrail events
 * about the subject into one time-ordered list. A CloudTrail event already cited by a record (as a
 * call's event or as the cause) is shown once, on the record's line; so is an event whose requestID
 * and name match a call the correlator has not matched yet. Records that could not be read are
 * listed as such, with their id, so nothing disappears silently. Human decisions on proposals (the
 * approvals an executed action's `details.approval` carries, and `decisions` read from the decisions
 * table) are one line each, with the proposal id and their request ids.
 */
export function mergeTimeline(
  records: AuditRecord[],
  events: TrailEvent[],
  unreadable: UnreadableRecord[] = [],
  decisions: readonly ApprovalDecision[] = [],
): TimelineEntry[] {
  const entries: TimelineEntry[] = [];
  const cited = new Set<string>();
  const causes = new Map<string, TimelineEntry & { actions: string[] }>();
  // one line per cause, however many records it triggered (retries, duplicates, several functions)
  const addCause = (t: NonNullable<AuditRecord['correlation']['trigger']>, r: AuditRecord) => {
    cited.add(t.eventId);
    const known = causes.get(t.eventId);
    if (known) {
      known.records?.push(r.recordId);
      if (!known.actions.includes(r.action)) known.actions.push(r.action);
      return;
    }
    const entry = {
      time: t.eventTime,
      kind: 'cause' as const,
      summary: '',
      evidence: { eventId: t.eventId, recordId: r.recordId },
      records: [r.recordId],
      actions: [r.action],
    };
    causes.set(t.eventId, entry);
    entries.push(entry);
  };
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
    entries.push(decisionEntry(r));
    if (r.correlation.trigger) addCause(r.correlation.trigger, r);
    entries.push(...callEntries(r, eventByRequest, cited));
    entries.push(...githubCallEntries(r));
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
  for (const c of causes.values()) nameCause(c, records);
  entries.push(...approvalEntries(records, decisions));
  return sortEntries(entries);
}

/** " in <account>/<region>" of a record about a spoke (hub and spokes); nothing for the hub's own. */
export const whereOf = (r: AuditRecord) => (r.account ? ` in ${r.account}/${r.region ?? '?'}` : '');

/** The record's own line: what it decided, and where its CloudTrail evidence stands. */
function decisionEntry(r: AuditRecord): TimelineEntry {
  const c = r.correlation;
  const approval = approvalOf(r);
  const proposalId = proposalIdOf(r);
  return {
    time: r.time,
    kind: 'decision',
    summary:
      `${r.function}${whereOf(r)} ${r.action} ${decisionText(r)}${r.mode === 'dry-run' ? ' (dry-run)' : ''}: ${r.reason}` +
      (approval ? ` (approved: proposal ${approval.proposalId} by ${approval.by.join(', ')})` : ''),
    evidence: {
      recordId: r.recordId,
      ...(r.trigger.githubDeliveryId ? { githubDeliveryId: r.trigger.githubDeliveryId } : {}),
      ...(proposalId ? { proposalId } : {}),
    },
    correlation:
      r.decision === 'intended'
        ? outcomeUnknown(r)
        : `CloudTrail ${c.status}` +
          (c.status === 'unresolved' && c.unresolvedReason ? ` (${c.unresolvedReason})` : ''),
  };
}

function githubCallEntries(r: AuditRecord): TimelineEntry[] {
  return r.githubCalls.map((call) => ({
    time: call.time,
    kind: 'github-call',
    summary: `GitHub ${call.route} -> ${call.status}`,
    evidence: { recordId: r.recordId, ...(call.requestId ? { githubRequestId: call.requestId } : {}) },
  }));
}

/** A cause line's summary, once every record citing it is known: the change, and what it triggered. */
function nameCause(c: TimelineEntry & { actions: string[] }, records: readonly AuditRecord[]): void {
  const t = records.find((r) => r.correlation.trigger?.eventId === c.evidence.eventId)?.correlation.trigger;
  c.summary = `${t?.eventName} by ${t?.actor} (triggered ${c.actions.join(', ')}${(c.records?.length ?? 0) > 1 ? `; ${c.records?.length} records` : ''})`;
  delete (c as { actions?: string[] }).actions;
}

/** A record's AWS calls, each with the CloudTrail event that proves it when one is known. */
function callEntries(
  r: AuditRecord,
  eventByRequest: Map<string, TrailEvent>,
  cited: Set<string>,
): TimelineEntry[] {
  const c = r.correlation;
  const out: TimelineEntry[] = [];
  const byRequest = new Map(c.calls.map((m) => [m.requestId, m]));
  for (const call of r.calls) {
    const correlated = call.requestId ? byRequest.get(call.requestId) : undefined;
    const seen = call.requestId && !correlated ? eventByRequest.get(call.requestId) : undefined;
    const uncorrelated = seen && seen.eventName === call.operation ? seen : undefined;
    const match = correlated ?? uncorrelated;
    if (match) cited.add(match.eventId);
    out.push({
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
  return out;
}

const ORDER: Record<TimelineEntry['kind'], number> = {
  unreadable: 0,
  cause: 0,
  cloudtrail: 1,
  approval: 1,
  decision: 2,
  'aws-call': 3,
  'github-call': 3,
};

/** Oldest first; at the same time, causes before what they caused. */
function sortEntries(entries: TimelineEntry[]): TimelineEntry[] {
  // an unreadable record without a time sorts first
  const t = (e: TimelineEntry) => (e.time ? Date.parse(e.time) : Number.NEGATIVE_INFINITY);
  return entries.sort((a, b) => t(a) - t(b) || ORDER[a.kind] - ORDER[b.kind]);
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
    e.proposalId && `proposal=${e.proposalId}`,
    e.requestIds && e.requestIds.length > 0 && `requests=${e.requestIds.join(',')}`,
  ]
    .filter(Boolean)
    .join(' ');
}

const KIND_LABEL: Record<TimelineEntry['kind'], string> = {
  decision: 'audit',
  approval: 'approval',
  'aws-call': '  aws call',
  'github-call': '  github',
  cause: 'cause',
  cloudtrail: 'cloudtrail',
  unreadable: 'unreadable',
};

/** Only the lines inside [since, until]; a line without a time (unreadable record) is kept. */
export function withinWindow(entries: TimelineEntry[], since?: Date, until?: Date): TimelineEntry[] {
  return entries.filter((e) => {
    if (!e.time) return true;
    const t = Date.parse(e.time);
    return (!since || t >= since.getTime()) && (!until || t <= until.getTime());
  });
}

export const TEXT_WIDTH = 120;

/**
 * A table for people: TIME, SOURCE, WHAT, EVIDENCE. By default it fits 120 columns: one evidence id
 * per line (the one to look up next), assumed-role ARNs shown as their session name, and WHAT cut
 * with "…"; `wide` shows every id and the full text (so does --json).
 */
export function renderTable(
  subject: string,
  entries: TimelineEntry[],
  notes: string[] = [],
  opts: { wide?: boolean } = {},
): string {
  if (opts.wide) return renderWide(subject, entries, notes);
  const days = new Set(entries.map((e) => (e.time || '?').slice(0, 10)));
  const oneDay = days.size === 1 && !days.has('?');
  const time = (e: TimelineEntry) =>
    e.time ? `${oneDay ? e.time.slice(11, 19) : e.time.slice(5, 19).replace('T', ' ')}Z` : '?';
  const rows = entries.map((e) => [
    time(e),
    KIND_LABEL[e.kind],
    shortArns(withoutFunction(e)) + (e.correlation ? ` [${e.correlation}]` : ''),
    primaryEvidence(e),
  ]);
  const header = ['TIME', 'SOURCE', 'WHAT', 'EVIDENCE'];
  const width = (i: number) => Math.max(header[i]?.length ?? 0, ...rows.map((r) => r[i]?.length ?? 0));
  const what = Math.max(20, TEXT_WIDTH - width(0) - width(1) - width(3) - 6);
  const cut = (s: string) => (s.length > what ? `${s.slice(0, what - 1)}…` : s.padEnd(what));
  const line = (r: string[]) =>
    [(r[0] ?? '').padEnd(width(0)), (r[1] ?? '').padEnd(width(1)), cut(r[2] ?? ''), r[3]]
      .join('  ')
      .trimEnd();
  const first = entries.find((e) => e.time)?.time;
  const title = `Timeline for ${subject}: ${entries.length} lines${oneDay && first ? `, ${first.slice(0, 10)} (UTC)` : ' (UTC)'}; --wide or --json for every id`;
  return [title.slice(0, TEXT_WIDTH), ...notes.flatMap(wrap), line(header), ...rows.map(line), ''].join('\n');
}

/** A note wrapped at 120 columns on spaces (continuation lines indented): notes are never cut. */
function wrap(note: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of note.split(' ')) {
    if (current && current.length + 1 + word.length > TEXT_WIDTH) {
      out.push(current);
      current = `  ${word}`;
    } else current = current ? `${current} ${word}` : word;
  }
  return [...out, current];
}

/** The id to look up next: the CloudTrail event when there is one, else the request, else the record. */
function primaryEvidence(e: TimelineEntry): string {
  const v = e.evidence;
  if (e.kind === 'approval') return `proposal=${v.proposalId}`;
  if (e.kind === 'decision' || e.kind === 'unreadable') return `record=${v.recordId}`;
  if (v.eventId) return `event=${v.eventId}`;
  if (v.requestId) return `request=${v.requestId}`;
  if (v.githubRequestId) return `github-request=${v.githubRequestId}`;
  return v.recordId ? `record=${v.recordId}` : evidenceText(v);
}

/** A decision's summary without its function name: the record id beside it starts with it. */
function withoutFunction(e: TimelineEntry): string {
  const fn = e.kind === 'decision' ? e.evidence.recordId?.split(':')[0] : undefined;
  return fn && e.summary.startsWith(`${fn} `) ? e.summary.slice(fn.length + 1) : e.summary;
}

/** arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION -> SESSION (role ROLE): who, first. */
function shortArns(text: string): string {
  return text.replace(/arn:aws[\w-]*:sts::\d+:assumed-role\/([^/\s]+)\/([^\s)]+)/g, '$2 (role $1)');
}

/** The full table (--wide): every id and the whole text on every line, however wide. */
function renderWide(subject: string, entries: TimelineEntry[], notes: string[]): string {
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

/**
 * One line per human decision: those the records' `details.approval` carry, then those of the
 * decisions table that no record carries (a rejection, an approval not acted on yet).
 */
function approvalEntries(
  records: readonly AuditRecord[],
  table: readonly ApprovalDecision[],
): TimelineEntry[] {
  const carried = records.flatMap((r) => {
    const a = approvalOf(r);
    return (a?.decisions ?? []).map((d) => ({ ...d, proposalId: a?.proposalId ?? '', recordId: r.recordId }));
  });
  const seen = new Set<string>();
  const out: TimelineEntry[] = [];
  for (const d of [...carried, ...table]) {
    const key = `${d.proposalId}|${d.approver}|${d.decidedAt}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({
      time: d.decidedAt,
      kind: 'approval',
      summary: `${d.proposalId} ${d.decision} by ${d.approver}${d.session ? ` (session ${d.session})` : ''}${d.reason ? `: ${d.reason}` : ''}`,
      evidence: {
        proposalId: d.proposalId,
        ...(d.recordId ? { recordId: d.recordId } : {}),
        requestIds: d.requestIds,
      },
    });
  }
  return out;
}
