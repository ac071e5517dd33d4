import type { TrailEvent } from '../cloudtrail/event';
import { type CloudTrailLookup, LOOKUP_WINDOW_MS, lookupAll, trailRegionFor } from '../cloudtrail/port';
import type { AuditRecord, Correlation } from './schema';
import { DEFAULT_CLOUDTRAIL_DELAY_MS } from './table-design';

export interface CorrelateOptions {
  now: Date;
  /** Region the fleet runs in; global services (Route 53) are looked up in us-east-1. */
  homeRegion: string;
  /** Do not look before record time + this (CloudTrail delivers in ~5 min on average). @default 5 min */
  delayMs?: number;
  /** Give up (mark unresolved) this long after the record time. @default 6 h */
  deadlineMs?: number;
  /** Clock skew allowed between our call time and CloudTrail's eventTime. @default 2 min */
  skewMs?: number;
  /** How far after the trigger time a cause may be stamped (clock skew only: a cause precedes). @default 5 s */
  triggerSkewMs?: number;
  /** How far before the trigger to look for the change that caused it. @default 1 h */
  triggerLookbackMs?: number;
  /** Pages per lookup before giving up on this attempt (50 events each). @default 10 */
  maxPages?: number;
}

/**
 * The CloudTrail events that can explain a trigger: which API call changed the subject. Keyed by
 * the EventBridge source, then by detail-type (`*` for any). `instance` names are looked up with the
 * instance id as ResourceName; `group` names with the Auto Scaling group name (ASG-level changes are
 * logged under the group, not the instance). A cause is never after the trigger: for a terminate
 * lifecycle action the ASG's own TerminateInstances comes after the fleet completes the action, so
 * it is an effect, not a cause (and RunInstances never causes a termination).
 */
interface CauseNames {
  instance: string[];
  group: string[];
}
const ASG_CAPACITY = ['SetDesiredCapacity', 'UpdateAutoScalingGroup', 'ExecutePolicy'];
/**
 * The calls that put an EC2 instance into a state: a launch never explains a termination, nor a
 * termination a launch. Spot interruptions are logged as BidEvictedEvent; a scale-in a person asked
 * for as TerminateInstanceInAutoScalingGroup (the group's own scale-in as its TerminateInstances).
 */
const EC2_CAUSES_BY_STATE: Record<string, string[]> = {
  pending: ['RunInstances', 'StartInstances'],
  running: ['RunInstances', 'StartInstances', 'RebootInstances'],
  stopping: ['StopInstances', 'BidEvictedEvent'],
  stopped: ['StopInstances', 'BidEvictedEvent'],
  'shutting-down': ['TerminateInstances', 'TerminateInstanceInAutoScalingGroup', 'BidEvictedEvent'],
  terminated: ['TerminateInstances', 'TerminateInstanceInAutoScalingGroup', 'BidEvictedEvent'],
};

const TRIGGER_EVENT_NAMES: Record<string, Record<string, CauseNames>> = {
  'aws.ec2': {
    '*': {
      instance: [...new Set(Object.values(EC2_CAUSES_BY_STATE).flat())],
      group: [],
    },
  },
  'aws.autoscaling': {
    'EC2 Instance-terminate Lifecycle Action': {
      instance: ['TerminateInstanceInAutoScalingGroup', 'TerminateInstances', 'DetachInstances'],
      group: [...ASG_CAPACITY, 'DetachInstances', 'TerminateInstanceInAutoScalingGroup'],
    },
    'EC2 Instance-launch Lifecycle Action': {
      instance: ['RunInstances'],
      group: [...ASG_CAPACITY, 'AttachInstances'],
    },
    '*': {
      instance: ['TerminateInstances', 'RunInstances', 'TerminateInstanceInAutoScalingGroup'],
      group: [...ASG_CAPACITY, 'DetachInstances', 'AttachInstances', 'TerminateInstanceInAutoScalingGroup'],
    },
  },
};

function causeNamesFor(
  trigger: AuditRecord['trigger'],
  details: Record<string, unknown> | undefined,
): CauseNames | undefined {
  const bySource = TRIGGER_EVENT_NAMES[trigger.source];
  if (!bySource) return undefined;
  const names = (trigger.detailType ? bySource[trigger.detailType] : undefined) ?? bySource['*'];
  // a state-change record says which state it acted on (details.state): only that state's causes
  const forState = typeof details?.state === 'string' ? EC2_CAUSES_BY_STATE[details.state] : undefined;
  if (trigger.source === 'aws.ec2' && names && forState) return { ...names, instance: forState };
  return names;
}

/** The cause lookups a record needs: by instance id and/or by Auto Scaling group name. */
function causeSearches(
  record: Pick<AuditRecord, 'trigger' | 'subject'> & { details?: Record<string, unknown> | undefined },
): { value: string; names: string[] }[] {
  const causes = causeNamesFor(record.trigger, record.details);
  const { instanceId, autoScalingGroupName: groupName } = record.subject;
  const searches: { value: string; names: string[] }[] = [];
  if (causes && instanceId && causes.instance.length > 0)
    searches.push({ value: instanceId, names: causes.instance });
  if (causes && groupName && causes.group.length > 0)
    searches.push({ value: groupName, names: causes.group });
  return searches;
}

/**
 * Operations CloudTrail records only as data events, which LookupEvents never returns: waiting for
 * them would spend the 2 req/s budget until the deadline and end "unresolved" for nothing.
 */
const DATA_EVENTS: Record<string, RegExp> = {
  SQS: /^(SendMessage|SendMessageBatch|ReceiveMessage|DeleteMessage|DeleteMessageBatch|ChangeMessageVisibility|ChangeMessageVisibilityBatch)$/,
  DynamoDB:
    /^(GetItem|PutItem|UpdateItem|DeleteItem|Query|Scan|BatchGetItem|BatchWriteItem|TransactGetItems|TransactWriteItems)$/,
  EventBridge: /^PutEvents$/,
  Lambda: /^Invoke$/,
};
const READ_ONLY = /^(Describe|List|Get|Lookup|Head)/;

/** A call LookupEvents can show: it has the SDK request id and is a management event. */
type AwsCall = AuditRecord['calls'][number];
function correlatable(call: AwsCall): call is AwsCall & { requestId: string } {
  return call.requestId !== undefined && !DATA_EVENTS[call.service]?.test(call.operation);
}

/**
 * Whether a new record has anything for audit-correlate to find: a change (not a read) that
 * CloudTrail logs as a management event, with its SDK request id, or an AWS-sourced trigger about an
 * instance or Auto Scaling group whose cause CloudTrail can name.
 * The writer (auditedAction) should queue exactly these as "pending", the rest "not-applicable".
 */
export function needsCorrelation(record: Pick<AuditRecord, 'calls' | 'trigger' | 'subject'>): boolean {
  // reads alone prove nothing an auditor asks for; once queued, a record's reads are matched too
  return (
    record.calls.some((c) => correlatable(c) && !READ_ONLY.test(c.operation)) ||
    causeSearches(record).length > 0
  );
}

/** Delay before the next attempt: the delivery delay, doubling per attempt, at most 1 h. */
export function backoffMs(attempts: number, delayMs = DEFAULT_CLOUDTRAIL_DELAY_MS): number {
  return Math.min(Math.max(delayMs, 60_000) * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

/**
 * One correlation attempt for one audit record. Returns undefined when it is too early to look
 * (record time + delivery delay is still in the future), otherwise the new correlation:
 * - each AWS call with an SDK request id is matched to the CloudTrail event with the same requestID,
 *   eventName == operation and eventTime within skew of the call (one EventName lookup per
 *   operation and region, covering all of the record's calls of that operation);
 * - for AWS-sourced triggers about an instance (or an Auto Scaling group), the latest matching
 *   change at or before the trigger time (+ a few seconds of clock skew) gives the actor
 *   (userIdentity): ResourceName lookups by instance id and, when the record names it, by ASG name;
 * - everything found -> resolved; past the deadline (or beyond LookupEvents' 90 days) -> unresolved
 *   with what is missing (and which searches were cut short); otherwise still pending, with what was
 *   found so far kept and `nextAttemptAt` pushed back (backoffMs) so older records that CloudTrail
 *   does not have do not crowd out newer ones.
 * An 'intended' record (intent written, outcome never) is not correlated: it becomes not-applicable
 * without a lookup (auditedAction never queues one; this keeps an older writer's from waiting).
 * Whether the deadline has passed is decided before any lookup. Errors propagate (ThrottledError:
 * nothing is written and the record stays pending; anything else: see correlationAfterError).
 */
export async function correlateRecord(
  record: AuditRecord,
  lookup: CloudTrailLookup,
  options: CorrelateOptions,
): Promise<Correlation | undefined> {
  if (record.correlation.status !== 'pending') return record.correlation;
  // an intent whose outcome was never written lists only the reads made before it: nothing to wait
  // for. It leaves the queue; if the outcome comes later it replaces the record and queues itself.
  if (record.decision === 'intended')
    return { ...record.correlation, status: 'not-applicable', lastAttemptAt: options.now.toISOString() };
  const delayMs = options.delayMs ?? DEFAULT_CLOUDTRAIL_DELAY_MS;
  const skewMs = options.skewMs ?? 120_000;
  const now = options.now.getTime();
  const recordTime = Date.parse(record.time);
  if (now < recordTime + delayMs) return undefined;

  const base = attemptBase(record, options);
  const pastDeadline = now >= Date.parse(base.deadline);

  if (now - recordTime > LOOKUP_WINDOW_MS - skewMs) {
    return {
      ...base,
      status: 'unresolved',
      unresolvedReason: 'older than the 90 days CloudTrail LookupEvents can search',
    };
  }

  const search: Search = { lookup, options, skewMs, maxPages: options.maxPages ?? 10, truncated: [] };
  const found = await matchCalls(record, search);
  const needsTrigger = causeSearches(record).length > 0;
  const trigger = record.correlation.trigger ?? (needsTrigger ? await findCause(record, search) : undefined);
  const { lastError: _cleared, ...clean } = base;
  const next: Correlation = {
    ...clean,
    calls: [...found.values()],
    ...(trigger ? { trigger } : {}),
    status: 'pending',
  };
  const missingCalls = record.calls.filter((c) => correlatable(c) && !found.has(c.requestId));
  if (missingCalls.length === 0 && (!needsTrigger || trigger !== undefined)) {
    const { nextAttemptAt: _n, ...done } = next;
    return { ...done, status: 'resolved', resolvedAt: options.now.toISOString() };
  }
  if (pastDeadline) {
    const { nextAttemptAt: _n, ...done } = next;
    return {
      ...done,
      status: 'unresolved',
      unresolvedReason: unresolvedReason(record, missingCalls, trigger, search),
    };
  }
  return next;
}

/** One correlation attempt's CloudTrail searches: their bounds, and the ones cut short. */
interface Search {
  lookup: CloudTrailLookup;
  options: CorrelateOptions;
  skewMs: number;
  maxPages: number;
  /** Searches that hit `maxPages` without finding what they looked for (absence not proven). */
  truncated: string[];
}

type FoundCall = Correlation['calls'][number];

/**
 * The record's AWS calls matched to CloudTrail events, those found by earlier attempts included:
 * one EventName lookup per operation and region, covering all of the record's calls of that operation.
 */
async function matchCalls(record: AuditRecord, search: Search): Promise<Map<string, FoundCall>> {
  const { options } = search;
  const found = new Map(record.correlation.calls.map((c) => [c.requestId, c]));
  const wanted = record.calls.filter((c) => correlatable(c) && !found.has(c.requestId));
  const groups = new Map<string, typeof wanted>();
  const where = whereCalled(record, options.homeRegion);
  for (const call of wanted) {
    const key = `${where(call.service)}\u0000${call.operation}`;
    groups.set(key, [...(groups.get(key) ?? []), call]);
  }
  for (const [key, calls] of groups) {
    const [trail = '', operation = ''] = key.split('\u0000');
    const [account = '', region = options.homeRegion] = trail.split('/');
    await matchOperation({ region, ...(account ? { account } : {}) }, operation, calls, found, search);
  }
  return found;
}

/** Services a hub function calls in a spoke through the spoke role (infra SPOKE_SERVICES). */
const SPOKE_SIDE = ['EC2', 'AutoScaling'];

/**
 * Whose trail holds a call of `service` (`account/region`, account empty: the function's own): a
 * record about a spoke made its EC2/Auto Scaling calls there; every other call (Route 53, DynamoDB,
 * SQS) is the hub's, global services in us-east-1.
 */
function whereCalled(record: AuditRecord, homeRegion: string): (service: string) => string {
  return (service) =>
    record.account && SPOKE_SIDE.includes(service)
      ? `${record.account}/${record.region ?? homeRegion}`
      : `/${trailRegionFor(service, homeRegion)}`;
}

/** One EventName lookup around `calls` (all of one operation in one region); matches go into `found`. */
async function matchOperation(
  trail: { region: string; account?: string },
  operation: string,
  calls: readonly AwsCall[],
  found: Map<string, FoundCall>,
  search: Search,
): Promise<void> {
  const { skewMs } = search;
  const times = calls.map((c) => Date.parse(c.time));
  const { events, complete } = await lookupAll(
    search.lookup,
    {
      ...trail,
      attribute: { key: 'EventName', value: operation },
      start: new Date(Math.min(...times) - skewMs),
      end: new Date(Math.max(...times) + skewMs),
    },
    { maxPages: search.maxPages },
  );
  let missed = false;
  for (const call of calls) {
    const match = events.find(
      (e) =>
        e.requestId === call.requestId &&
        e.eventName === call.operation &&
        Math.abs(Date.parse(e.eventTime) - Date.parse(call.time)) <= skewMs,
    );
    if (match && call.requestId)
      found.set(call.requestId, {
        requestId: call.requestId,
        eventId: match.eventId,
        eventName: match.eventName,
        eventTime: match.eventTime,
      });
    else missed = true;
  }
  if (missed && !complete) search.truncated.push(`EventName=${operation} in ${trail.region}`);
}

/**
 * The change that caused an AWS-sourced trigger: the latest matching, non-read-only event at or
 * before the trigger time (+ a few seconds of skew), by instance id and/or Auto Scaling group name.
 */
async function findCause(record: AuditRecord, search: Search): Promise<Correlation['trigger']> {
  const { options } = search;
  const searches = causeSearches(record);
  const triggerTime = Date.parse(record.trigger.time ?? record.time);
  const latestAllowed = triggerTime + (options.triggerSkewMs ?? 5_000);
  const candidates: TrailEvent[] = [];
  let searchTruncated = false;
  for (const { value, names } of searches) {
    const { events, complete } = await lookupAll(
      search.lookup,
      {
        // the change to a spoke's instance or group is in the spoke's own trail
        ...(record.account ? { account: record.account } : {}),
        region: record.region ?? options.homeRegion,
        attribute: { key: 'ResourceName', value },
        start: new Date(triggerTime - (options.triggerLookbackMs ?? 3_600_000)),
        end: new Date(latestAllowed),
      },
      { maxPages: search.maxPages },
    );
    if (!complete) searchTruncated = true;
    candidates.push(
      ...events.filter(
        (e) => names.includes(e.eventName) && !e.readOnly && Date.parse(e.eventTime) <= latestAllowed,
      ),
    );
  }
  const cause = latest(candidates);
  if (cause)
    return {
      eventId: cause.eventId,
      eventName: cause.eventName,
      eventTime: cause.eventTime,
      actor: cause.actor,
    };
  if (searchTruncated)
    search.truncated.push(`ResourceName=${searches.map((x) => x.value).join('/')} in ${options.homeRegion}`);
  return undefined;
}

/** What was still missing at the deadline, and which searches were cut short. */
function unresolvedReason(
  record: AuditRecord,
  missingCalls: readonly AwsCall[],
  trigger: Correlation['trigger'],
  search: Search,
): string {
  const { instanceId, autoScalingGroupName: groupName } = record.subject;
  const missing = [
    ...missingCalls.map((c) => `${c.service}.${c.operation} ${c.requestId}`),
    ...(causeSearches(record).length > 0 && !trigger
      ? [`trigger change to ${[instanceId, groupName].filter(Boolean).join(' / ')}`]
      : []),
  ];
  const cut =
    search.truncated.length > 0
      ? `; search truncated after ${search.maxPages} pages (${search.truncated.join(', ')}), so absence is not proven`
      : '';
  return `not in CloudTrail by the deadline: ${missing.join(', ')}${cut}`;
}

/**
 * The correlation to store when an attempt failed with an error other than throttling (a rejected
 * lookup, a bug): the record stays pending with the error and a backoff, or — once past its
 * deadline — is marked unresolved naming the error, so one bad record can never block correlation.
 */
export function correlationAfterError(
  record: AuditRecord,
  error: string,
  options: CorrelateOptions,
): Correlation {
  const base = attemptBase(record, options);
  if (options.now.getTime() >= Date.parse(base.deadline)) {
    const { nextAttemptAt: _n, ...done } = base;
    return {
      ...done,
      status: 'unresolved',
      lastError: error,
      unresolvedReason: `correlation failed until the deadline: ${error}`,
    };
  }
  return { ...base, status: 'pending', lastError: error };
}

/** What every attempt updates: deadline, attempts, lastAttemptAt and the backed-off nextAttemptAt. */
function attemptBase(record: AuditRecord, options: CorrelateOptions) {
  const recordTime = Date.parse(record.time);
  const now = options.now.getTime();
  const deadline =
    record.correlation.deadline ?? new Date(recordTime + (options.deadlineMs ?? 6 * 3_600_000)).toISOString();
  const attempts = record.correlation.attempts + 1;
  const next = Math.min(now + backoffMs(attempts, options.delayMs), Math.max(Date.parse(deadline), now));
  return {
    ...record.correlation,
    deadline,
    attempts,
    lastAttemptAt: options.now.toISOString(),
    nextAttemptAt: new Date(next).toISOString(),
  };
}

function latest(events: TrailEvent[]): TrailEvent | undefined {
  return [...events].sort((a, b) => b.eventTime.localeCompare(a.eventTime))[0];
}
