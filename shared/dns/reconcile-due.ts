import type { InstanceInfo, InstanceState } from '../ec2/port';

/**
 * When dns-reconcile reads the zone (issue 15: Route 53 allows 5 requests/s per account, and a
 * zone of 100k records is 335 pages). Reconcile repairs two kinds of drift:
 * - **drift the fleet caused**: an EC2 event lost or failed, so a launch, stop or termination never
 *   reached the zone. EC2 dates every such change (LaunchTime: the last start; the state-transition
 *   time of a leaving instance; a terminated instance stays listed about an hour), so the run looks
 *   at each instance of the fleet that launched or changed state within the look-back (two schedule
 *   periods plus the settle window: one lost run is tolerated), and reads the zone **on evidence,
 *   not on activity**: only when dns-sync's audit trail does not prove it handled that change
 *   (shared/dns/reconcile-evidence.ts; one audit query per changed instance), when the time of a
 *   change is unknown, or when more than `maxChecked` instances changed (a burst: reading the zone
 *   is then cheaper than the queries, and a burst is when events get lost).
 * - **drift made outside the fleet** (a record deleted or edited by hand, a rename, a tombstone
 *   come due): no signal without reading, so the first run of every `fullReadEvery` period reads.
 *   Bound: such drift is repaired within `fullReadEvery` plus one schedule period (`driftBound`).
 *   It is also the bound of any repair a skipped read can delay: a read is skipped only on a record
 *   that the zone held the instance's current state after its change, so the zone can be wrong then
 *   only by a change made outside the fleet's event path.
 * Stateless: the decision depends on the scheduled time (the same for a retried delivery), the
 * periods, what DescribeInstances shows now and the audit trail; nothing kept between invocations.
 */
export interface ReadDueInput {
  /** The schedule event's time (stable across a retried delivery). */
  scheduledAt: Date;
  /** How often reconcile runs. */
  periodMs: number;
  /** The first run of each such period reads the zone whatever the fleet did. */
  fullReadEveryMs: number;
  /** A change this recent may not have reached the zone yet. */
  lookbackMs: number;
  /** The instances that opt in to DNS, in every state DescribeInstances lists (terminated included). */
  fleet: readonly InstanceInfo[];
  /** At most this many changed instances are checked against the audit trail; more: read (0: always read). */
  maxChecked: number;
}

/** One changed instance, as the run record lists it: the record that proves it handled, or why none does. */
export interface EvidenceLine {
  instanceId: string;
  state: InstanceState;
  changedAt: string;
  /** The dns-sync record that proves the change handled. */
  recordId?: string;
  /** Why no record proves it (then the zone is read). */
  why?: string;
  /** The records that were not proof. */
  recordIds?: string[];
}

export interface ReadDue {
  read: boolean;
  reason: string;
  /** The changes checked against the audit trail, in the order checked. */
  evidence?: EvidenceLine[];
  /** The CloudTrail lookup of zone changes (reconcile-trail.ts): its window and the event ids it judged. */
  trail?: {
    since: string;
    until: string;
    foreignEventIds?: string[];
    fleetEventIds?: string[];
    error?: string;
  };
}

/** An instance of the fleet that launched or changed state within the look-back. */
export interface ChangedInstance {
  info: InstanceInfo;
  /** When (ms), as EC2 dates it. */
  at: number;
  /** "launched" or "became <state>". */
  what: string;
}

/** The zone is read unless the audit trail proves every change handled (`readOnEvidence`). */
export interface EvidenceDue {
  read: 'unless-handled';
  /** Most recent first (the likeliest not to be recorded yet: an unproven one ends the checks). */
  changes: ChangedInstance[];
  /** Start of the look-back. */
  since: string;
  nextFullRead: string;
}

const LEAVING = new Set(['stopping', 'stopped', 'shutting-down', 'terminated']);
const iso = (ms: number) => new Date(ms).toISOString();

/** Worst case between drift made outside the fleet and its repair (no scheduled run lost). */
export function driftBound(i: Pick<ReadDueInput, 'periodMs' | 'fullReadEveryMs'>): number {
  return i.fullReadEveryMs <= i.periodMs ? i.periodMs : i.fullReadEveryMs + i.periodMs;
}

/** When the instance last launched or changed state, as EC2 dates it; undefined when it does not. */
function changedAt(info: InstanceInfo): number | undefined {
  const at = LEAVING.has(info.state) ? info.stateChangedAt : info.launchTime;
  const ms = at === undefined ? Number.NaN : Date.parse(at);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Whether this run reads the zone, and why (the reason goes into the run's audit record); or, when
 * instances of the fleet changed lately, which changes the audit trail must prove handled.
 */
export function zoneReadDue(i: ReadDueInput): ReadDue | EvidenceDue {
  const t = i.scheduledAt.getTime();
  const slot = (ms: number) => Math.floor(ms / i.fullReadEveryMs);
  if (i.fullReadEveryMs <= i.periodMs || slot(t) !== slot(t - i.periodMs)) {
    return { read: true, reason: `the periodic full read (every ${i.fullReadEveryMs / 1000} s)` };
  }
  const since = t - i.lookbackMs;
  const changes: ChangedInstance[] = [];
  for (const info of i.fleet) {
    const at = changedAt(info);
    const what = LEAVING.has(info.state) ? `became ${info.state}` : 'launched';
    if (at === undefined) {
      return { read: true, reason: `${info.instanceId} is ${info.state} and EC2 gives no time of it` };
    }
    if (at > since) changes.push({ info, at, what });
  }
  const nextFullRead = iso((slot(t) + 1) * i.fullReadEveryMs);
  if (changes.length === 0) {
    return {
      read: false,
      reason: `no instance of the fleet launched or changed state since ${iso(since)}; next full read at ${nextFullRead}`,
    };
  }
  if (changes.length > i.maxChecked) {
    const first = changes.reduce((x, y) => (y.at > x.at ? y : x));
    return {
      read: true,
      reason: `${changes.length} instances of the fleet changed since ${iso(since)} (more than ${i.maxChecked} to check against the audit trail), e.g. ${first.info.instanceId} ${first.what} at ${iso(first.at)}`,
    };
  }
  changes.sort((x, y) => y.at - x.at);
  return { read: 'unless-handled', changes, since: iso(since), nextFullRead };
}
