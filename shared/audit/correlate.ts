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
  /** How far before the trigger to look for the change that caused it. @default 1 h */
  triggerLookbackMs?: number;
  /** Pages per lookup before giving up on this attempt (50 events each). @default 10 */
  maxPages?: number;
}

/**
 * The CloudTrail events that explain a trigger: which API call changed the subject. Keyed by the
 * EventBridge source; the subject's instance id is the LookupEvents ResourceName.
 */
const TRIGGER_EVENT_NAMES: Record<string, string[]> = {
  'aws.ec2': ['TerminateInstances', 'StopInstances', 'StartInstances', 'RunInstances', 'RebootInstances'],
  'aws.autoscaling': ['TerminateInstances', 'RunInstances', 'TerminateInstanceInAutoScalingGroup'],
};

/**
 * One correlation attempt for one audit record. Returns undefined when it is too early to look
 * (record time + delivery delay is still in the future), otherwise the new correlation:
 * - each AWS call with an SDK request id is matched to the CloudTrail event with the same requestID,
 *   eventName == operation and eventTime within skew of the call (one EventName lookup per
 *   operation and region, covering all of the record's calls of that operation);
 * - for AWS-sourced triggers about an instance, the latest matching change to that instance at or
 *   before the trigger (ResourceName lookup) gives the actor (userIdentity);
 * - everything found -> resolved; past the deadline (or beyond LookupEvents' 90 days) -> unresolved
 *   with what is missing; otherwise still pending, with what was found so far kept.
 * ThrottledError from the lookup propagates: nothing is written and the record stays pending.
 */
export async function correlateRecord(
  record: AuditRecord,
  lookup: CloudTrailLookup,
  options: CorrelateOptions,
): Promise<Correlation | undefined> {
  if (record.correlation.status !== 'pending') return record.correlation;
  const delayMs = options.delayMs ?? DEFAULT_CLOUDTRAIL_DELAY_MS;
  const skewMs = options.skewMs ?? 120_000;
  const now = options.now.getTime();
  const recordTime = Date.parse(record.time);
  if (now < recordTime + delayMs) return undefined;

  const deadline =
    record.correlation.deadline ?? new Date(recordTime + (options.deadlineMs ?? 6 * 3_600_000)).toISOString();
  const previous = record.correlation;
  const base = {
    ...previous,
    deadline,
    attempts: previous.attempts + 1,
    lastAttemptAt: options.now.toISOString(),
  };

  if (now - recordTime > LOOKUP_WINDOW_MS - skewMs) {
    return {
      ...base,
      status: 'unresolved',
      unresolvedReason: 'older than the 90 days CloudTrail LookupEvents can search',
    };
  }

  const found = new Map(previous.calls.map((c) => [c.requestId, c]));
  const wanted = record.calls.filter((c) => c.requestId && !found.has(c.requestId));
  const groups = new Map<string, typeof wanted>();
  for (const call of wanted) {
    const key = `${trailRegionFor(call.service, options.homeRegion)}\u0000${call.operation}`;
    groups.set(key, [...(groups.get(key) ?? []), call]);
  }
  for (const [key, calls] of groups) {
    const [region = options.homeRegion, operation = ''] = key.split('\u0000');
    const times = calls.map((c) => Date.parse(c.time));
    const start = Math.min(...times) - skewMs;
    const end = Math.max(...times) + skewMs;
    const { events } = await lookupAll(
      lookup,
      {
        region,
        attribute: { key: 'EventName', value: operation },
        start: new Date(start),
        end: new Date(end),
      },
      { maxPages: options.maxPages ?? 10 },
    );
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
    }
  }

  let trigger = previous.trigger;
  const triggerNames = TRIGGER_EVENT_NAMES[record.trigger.source];
  const instanceId = record.subject.instanceId;
  const needsTrigger = triggerNames !== undefined && instanceId !== undefined;
  if (needsTrigger && !trigger) {
    const triggerTime = Date.parse(record.trigger.time ?? record.time);
    const { events } = await lookupAll(
      lookup,
      {
        region: options.homeRegion,
        attribute: { key: 'ResourceName', value: instanceId },
        start: new Date(triggerTime - (options.triggerLookbackMs ?? 3_600_000)),
        end: new Date(triggerTime + skewMs),
      },
      { maxPages: options.maxPages ?? 10 },
    );
    const cause = latest(events.filter((e) => triggerNames.includes(e.eventName) && !e.readOnly));
    if (cause)
      trigger = {
        eventId: cause.eventId,
        eventName: cause.eventName,
        eventTime: cause.eventTime,
        actor: cause.actor,
      };
  }

  const calls = [...found.values()];
  const missingCalls = record.calls.filter((c) => c.requestId && !found.has(c.requestId));
  const complete = missingCalls.length === 0 && (!needsTrigger || trigger !== undefined);
  const next: Correlation = { ...base, calls, ...(trigger ? { trigger } : {}), status: 'pending' };
  if (complete) return { ...next, status: 'resolved', resolvedAt: options.now.toISOString() };
  if (now >= Date.parse(deadline)) {
    const missing = [
      ...missingCalls.map((c) => `${c.service}.${c.operation} ${c.requestId}`),
      ...(needsTrigger && !trigger ? [`trigger change to ${instanceId}`] : []),
    ];
    return {
      ...next,
      status: 'unresolved',
      unresolvedReason: `not in CloudTrail by the deadline: ${missing.join(', ')}`,
    };
  }
  return next;
}

function latest(events: TrailEvent[]): TrailEvent | undefined {
  return [...events].sort((a, b) => b.eventTime.localeCompare(a.eventTime))[0];
}
