import type { TrailEvent } from '../cloudtrail/event';

/**
 * Drift made outside the fleet, read on evidence (issue 15): every change to a hosted zone is a
 * ChangeResourceRecordSets management event in CloudTrail (Route 53 is global: us-east-1 of the
 * zone's account). A run looks up those events (LookupEvents, attribute EventName: one attribute per
 * call, and EventName is indexed for every service) and reads the zone when one touched a zone of
 * ours (`requestParameters.hostedZoneId`) and was not made by the fleet's own DNS writers (the
 * session issuer, i.e. the role, is one of theirs: `sessionContext.sessionIssuer.arn`, which no
 * caller chooses; an IAM user, root or any other role is foreign). An incomplete lookup, an event
 * that does not parse or a change event without a zone id reads (the safe direction).
 *
 * Stateless: the window ends at the run's scheduled time and starts one schedule period plus the
 * delivery allowance before it. A change CloudTrail delivers within the allowance is therefore inside
 * the window of the first run after its delivery (consecutive windows overlap by the allowance), and
 * that run reads the zone: such drift is repaired within the allowance plus one period.
 */
export interface TrailWindow {
  start: Date;
  end: Date;
}

export function trailWindow(scheduledAt: Date, periodMs: number, allowanceMs: number): TrailWindow {
  const end = scheduledAt.getTime();
  return { start: new Date(end - periodMs - allowanceMs), end: new Date(end) };
}

/** What a lookup returned: its events, whether every page was read, the ids of events that did not parse. */
export interface TrailLook {
  events: readonly TrailEvent[];
  complete: boolean;
  skipped: readonly string[];
}

export interface TrailVerdict {
  read: boolean;
  reason: string;
  /** Changes to our zones made by someone else (the evidence of a read). */
  foreignEventIds: string[];
  /** Changes to our zones made by the fleet's writers (checked, not drift). */
  fleetEventIds: string[];
}

const zoneIdOf = (id: string) => id.replace(/^\/?hostedzone\//, '');

function zoneOfEvent(e: TrailEvent): string | undefined {
  const id = e.requestParameters?.hostedZoneId;
  return typeof id === 'string' && id.length > 0 ? zoneIdOf(id) : undefined;
}

/** Whether the looked-up changes show our zones changed outside the fleet. */
export function foreignZoneChanges(
  look: TrailLook,
  zoneIds: readonly string[],
  writerRoleArns: readonly string[],
): TrailVerdict {
  const ours = new Set(zoneIds.map(zoneIdOf));
  const writers = new Set(writerRoleArns);
  const foreign: TrailEvent[] = [];
  const fleet: string[] = [];
  const unknown: string[] = [];
  for (const e of look.events) {
    if (e.eventName !== 'ChangeResourceRecordSets') continue;
    const zone = zoneOfEvent(e);
    if (zone === undefined) unknown.push(e.eventId);
    else if (!ours.has(zone)) continue;
    else if (e.sessionIssuer !== undefined && writers.has(e.sessionIssuer)) fleet.push(e.eventId);
    else foreign.push(e);
  }
  const ids = { foreignEventIds: foreign.map((e) => e.eventId), fleetEventIds: fleet };
  const first = foreign.at(-1); // newest first: the oldest change is the last one listed
  if (first) {
    const more = foreign.length > 1 ? ` (and ${foreign.length - 1} more)` : '';
    return {
      read: true,
      reason: `CloudTrail event ${first.eventId}: ${first.actor} changed zone ${zoneOfEvent(first)} at ${first.eventTime}${more}`,
      ...ids,
    };
  }
  if (unknown.length > 0) {
    return {
      read: true,
      reason: `CloudTrail change event(s) without a zone id: ${unknown.join(', ')}`,
      ...ids,
    };
  }
  if (look.skipped.length > 0) {
    return {
      read: true,
      reason: `CloudTrail event(s) that do not parse: ${look.skipped.join(', ')}`,
      ...ids,
    };
  }
  if (!look.complete) {
    return { read: true, reason: 'the CloudTrail lookup has more pages than a run reads', ...ids };
  }
  return {
    read: false,
    reason: `no change to the zone outside the fleet in CloudTrail (${fleet.length} by the fleet's writers)`,
    ...ids,
  };
}
