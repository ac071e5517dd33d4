import type { AuditRecord } from '../../../shared/audit/schema';
import type { UnreadableRecord } from '../../../shared/audit/store-port';
import type { TrailEvent } from '../../../shared/cloudtrail/event';

/** A message (SQS) or async event that ended in a dead-letter queue after its last try. */
export interface DeadLetter {
  /** When it was dead-lettered (ISO). */
  time: string;
  /** The function that failed on it. */
  function: string;
  /** SQS message id, or the async event's id. */
  messageId: string;
  tries: number;
  /** Subjects (instance ids, runner or record names) the message is about. */
  subjects: string[];
  /** The message body (shown escaped, shortened). */
  body: string;
}

export type LaneKey = 'instance' | 'dns' | 'runner' | 'jobs' | 'lifecycle' | 'dead-letter' | 'other';

export type MarkStatus =
  | 'acted'
  | 'skipped'
  | 'refused'
  | 'failed'
  | 'reported'
  | 'intended'
  | 'event'
  | 'state'
  | 'dead-letter'
  | 'unreadable';

/** One mark on a swimlane: a fact with the ids that prove it. */
export interface Mark {
  lane: LaneKey;
  kind: 'decision' | 'state' | 'cloudtrail' | 'dead-letter' | 'unreadable';
  /** ISO time; absent only for an unreadable record whose item has none. */
  time?: string;
  title: string;
  status: MarkStatus;
  recordIds: string[];
  /** CloudTrail event ids (eventID) that prove it. */
  eventIds: string[];
  /** Who: the fleetwarden function for a decision, the CloudTrail identity for an event. */
  actor?: string;
  /** Something went wrong: a failed decision or call, unresolved evidence, a dead letter. */
  error: boolean;
  /** Label/value lines for the detail card. */
  facts: Array<[string, string]>;
}

export interface SubjectTimeline {
  subject: string;
  marks: Mark[];
}

export interface TimelineInput {
  records: AuditRecord[];
  events?: TrailEvent[];
  unreadable?: UnreadableRecord[];
  deadLetters?: DeadLetter[];
}

/** The swimlanes, top to bottom (proposals join when the issue-12 proposals store exists). */
export const LANES: ReadonlyArray<{ key: LaneKey; label: string }> = [
  { key: 'instance', label: 'Instance state' },
  { key: 'dns', label: 'DNS record' },
  { key: 'runner', label: 'Runner' },
  { key: 'jobs', label: 'Jobs' },
  { key: 'lifecycle', label: 'Lifecycle hook' },
  { key: 'dead-letter', label: 'Dead-lettered' },
  { key: 'other', label: 'Other' },
];

/** The lane of a decision, from its dotted action ("dns.upsert", "runner.job-started", ...). */
export function laneOfAction(action: string): LaneKey {
  if (action.startsWith('runner.job-')) return 'jobs';
  const area = action.split('.')[0];
  if (area === 'dns') return 'dns';
  if (area === 'runner') return 'runner';
  if (area === 'lifecycle') return 'lifecycle';
  if (area === 'instance') return 'instance';
  return 'other';
}

/** The lane of a CloudTrail event: what it changed. */
export function laneOfEvent(eventName: string, eventSource?: string): LaneKey {
  if (/LifecycleAction|LifecycleHook/.test(eventName)) return 'lifecycle';
  if (eventSource === 'route53.amazonaws.com' || /ResourceRecordSets|HostedZone/.test(eventName))
    return 'dns';
  if (
    eventSource === 'ec2.amazonaws.com' ||
    eventSource === 'autoscaling.amazonaws.com' ||
    /Instances?\b|InstanceIn|Tags$/.test(eventName)
  )
    return 'instance';
  return 'other';
}

/**
 * The marks of one subject's swimlanes: a mark per audit record (its decision), per cause
 * (the CloudTrail event that triggered records, once however many cite it), per instance state a
 * record saw, per CloudTrail event no record already proves, per dead-lettered message and per
 * record this version cannot read. Every mark carries the record ids and CloudTrail event ids
 * that prove it. Pure: the caller reads the audit table, CloudTrail and the queues.
 */
export function buildSubjectTimeline(subject: string, input: TimelineInput): SubjectTimeline {
  const events = input.events ?? [];
  const byRequest = new Map(events.filter((e) => e.requestId).map((e) => [e.requestId as string, e]));
  const cited = new Set<string>();
  const marks: Mark[] = [];
  const causes = new Map<string, Mark>();
  const states = new Map<string, Mark>();
  for (const r of input.records) {
    const decision = decisionMark(r, byRequest);
    for (const id of decision.eventIds) cited.add(id);
    marks.push(decision);
    const trigger = r.correlation.trigger;
    if (trigger) {
      const cause = causes.get(trigger.eventId) ?? causeMark(trigger, events);
      if (!causes.has(trigger.eventId)) marks.push(cause);
      causes.set(trigger.eventId, cause);
      cause.recordIds.push(r.recordId);
    }
    const state = stateSeen(r);
    if (state) {
      const key = `${state.state}|${state.time}`;
      const mark = states.get(key) ?? stateMark(state.state, state.time);
      if (!states.has(key)) marks.push(mark);
      states.set(key, mark);
      mark.recordIds.push(r.recordId);
    }
  }
  for (const e of events) if (!cited.has(e.eventId)) marks.push(eventMark(e));
  for (const u of input.unreadable ?? []) marks.push(unreadableMark(u.recordId, u.reason, u.time));
  for (const d of input.deadLetters ?? []) marks.push(deadLetterMark(d));
  return { subject, marks: sortByTime(marks) };
}

function sortByTime(marks: Mark[]): Mark[] {
  const t = (m: Mark) => (m.time ? Date.parse(m.time) : Number.NEGATIVE_INFINITY);
  return marks
    .map((m, i) => ({ m, i }))
    .sort((a, b) => t(a.m) - t(b.m) || a.i - b.i)
    .map(({ m }) => m);
}

function decisionMark(r: AuditRecord, byRequest: Map<string, TrailEvent>): Mark {
  const c = r.correlation;
  const correlated = new Map(c.calls.map((m) => [m.requestId, m.eventId]));
  const eventIds: string[] = [];
  const facts: Array<[string, string]> = [['reason', r.reason]];
  if (r.account) facts.push(['where', `${r.account}/${r.region ?? '?'}`]);
  const callError = r.calls.some((x) => x.outcome === 'error') || r.githubCalls.some((g) => g.status >= 400);
  facts.push(['trigger', triggerText(r)]);
  if (c.trigger)
    facts.push(['cause', `${c.trigger.eventName} by ${c.trigger.actor} (event ${c.trigger.eventId})`]);
  for (const call of r.calls) {
    const matched = call.requestId ? byRequest.get(call.requestId) : undefined;
    const eventId =
      (call.requestId ? correlated.get(call.requestId) : undefined) ??
      (matched?.eventName === call.operation ? matched.eventId : undefined);
    if (eventId) eventIds.push(eventId);
    facts.push(['AWS call', callText(call, eventId)]);
  }
  for (const g of r.githubCalls)
    facts.push(['GitHub call', `${g.route} -> ${g.status}${g.requestId ? ` (request ${g.requestId})` : ''}`]);
  if (c.trigger) eventIds.push(c.trigger.eventId);
  facts.push(['evidence', evidenceText(r)]);
  if (c.lastError) facts.push(['last correlation error', c.lastError]);
  return {
    lane: laneOfAction(r.action),
    kind: 'decision',
    time: r.time,
    title: `${r.function} ${r.action} ${r.decision === 'intended' ? 'intended, outcome unknown' : r.decision}${r.mode === 'dry-run' ? ' (dry-run)' : ''}`,
    status: r.decision,
    recordIds: [r.recordId],
    eventIds: [...new Set(eventIds)],
    actor: r.function,
    error: r.decision === 'failed' || callError || c.status === 'unresolved' || c.lastError !== undefined,
    facts,
  };
}

function triggerText(r: AuditRecord): string {
  const t = r.trigger;
  return [
    t.source,
    t.detailType,
    `id ${t.id}`,
    t.time && `at ${t.time}`,
    t.githubDeliveryId && `GitHub delivery ${t.githubDeliveryId}`,
  ]
    .filter(Boolean)
    .join(', ');
}

function callText(call: AuditRecord['calls'][number], eventId: string | undefined): string {
  const what = `${call.service}.${call.operation} ${call.outcome}${call.errorName ? ` (${call.errorName})` : ''}`;
  if (!call.requestId) return `${what}; no request id (did not reach AWS)`;
  return `${what} request ${call.requestId}; ${eventId ? `CloudTrail event ${eventId}` : 'not in CloudTrail'}`;
}

function evidenceText(r: AuditRecord): string {
  if (r.decision === 'intended') {
    const call = typeof r.details.intendedCall === 'string' ? r.details.intendedCall : 'the intended call';
    return `no outcome recorded: the step did not finish; ${call} may or may not have been sent (check CloudTrail)`;
  }
  const c = r.correlation;
  return `CloudTrail ${c.status}${c.status === 'unresolved' && c.unresolvedReason ? `: ${c.unresolvedReason}` : ''}`;
}

type Cause = NonNullable<AuditRecord['correlation']['trigger']>;

function causeMark(cause: Cause, events: TrailEvent[]): Mark {
  const source = events.find((e) => e.eventId === cause.eventId)?.eventSource;
  return {
    lane: laneOfEvent(cause.eventName, source),
    kind: 'cloudtrail',
    time: cause.eventTime,
    title: cause.eventName,
    status: 'event',
    recordIds: [],
    eventIds: [cause.eventId],
    actor: cause.actor,
    error: false,
    facts: [['what', `${cause.eventName}: the change that triggered the linked records`]],
  };
}

/** The instance state a record saw (dns-sync and dns-reconcile note it), at the event's time. */
function stateSeen(r: AuditRecord): { state: string; time: string } | undefined {
  const state = r.details.state;
  if (typeof state !== 'string' || !r.subject.instanceId) return undefined;
  return { state, time: r.trigger.time ?? r.time };
}

function stateMark(state: string, time: string): Mark {
  return {
    lane: 'instance',
    kind: 'state',
    time,
    title: state,
    status: 'state',
    recordIds: [],
    eventIds: [],
    error: false,
    facts: [['state', `${state} (from the EC2 state-change event the records acted on)`]],
  };
}

function eventMark(e: TrailEvent): Mark {
  return {
    lane: laneOfEvent(e.eventName, e.eventSource),
    kind: 'cloudtrail',
    time: e.eventTime,
    title: e.eventName,
    status: 'event',
    recordIds: [],
    eventIds: [e.eventId],
    actor: e.actor,
    error: false,
    facts: [
      [
        'what',
        `${e.eventName} (${e.eventSource}${e.region ? `, ${e.region}` : ''}); no audit record cites it`,
      ],
      ...(e.requestId ? [['request', e.requestId] as [string, string]] : []),
    ],
  };
}

function unreadableMark(recordId: string, reason: string, time: string | undefined): Mark {
  return {
    lane: 'other',
    kind: 'unreadable',
    ...(time ? { time } : {}),
    title: `audit record this version cannot read: ${reason}`,
    status: 'unreadable',
    recordIds: [recordId],
    eventIds: [],
    error: true,
    facts: [['why', `${reason}; upgrade fleetwarden to read it`]],
  };
}

const BODY_SHOWN = 600;

function deadLetterMark(d: DeadLetter): Mark {
  return {
    lane: 'dead-letter',
    kind: 'dead-letter',
    time: d.time,
    title: `${d.function} message dead-lettered after ${d.tries} ${d.tries === 1 ? 'try' : 'tries'}`,
    status: 'dead-letter',
    recordIds: [],
    eventIds: [],
    actor: d.function,
    error: true,
    facts: [
      ['message', d.messageId],
      [
        'body',
        d.body.length > BODY_SHOWN ? `${d.body.slice(0, BODY_SHOWN)}… (${d.body.length} characters)` : d.body,
      ],
    ],
  };
}
