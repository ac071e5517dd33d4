import type { InstanceInfo } from '../ec2/port';

/**
 * When dns-reconcile reads the zone (issue 15: Route 53 allows 5 requests/s per account, and a
 * zone of 100k records is 335 pages). Reconcile repairs two kinds of drift:
 * - **drift the fleet caused**: an EC2 event lost or failed, so a launch, stop or termination never
 *   reached the zone. EC2 dates every such change (LaunchTime: the last start; the state-transition
 *   time of a leaving instance; a terminated instance stays listed about an hour), so a run reads the
 *   zone when an instance of the fleet launched or changed state within the look-back (two schedule
 *   periods plus the settle window: one lost run is tolerated), or when that time is unknown.
 * - **drift made outside the fleet** (a record deleted or edited by hand, a rename, a tombstone
 *   come due): no signal without reading, so the first run of every `fullReadEvery` period reads.
 *   Bound: such drift is repaired within `fullReadEvery` plus one schedule period.
 * Stateless: the decision depends on the scheduled time (the same for a retried delivery), the
 * periods and what DescribeInstances shows now; no table, nothing kept between invocations.
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
}

export interface ReadDue {
  read: boolean;
  reason: string;
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

/** Whether this run reads the zone, and why (the reason goes into the run's audit record). */
export function zoneReadDue(i: ReadDueInput): ReadDue {
  const t = i.scheduledAt.getTime();
  const slot = (ms: number) => Math.floor(ms / i.fullReadEveryMs);
  if (i.fullReadEveryMs <= i.periodMs || slot(t) !== slot(t - i.periodMs)) {
    return { read: true, reason: `the periodic full read (every ${i.fullReadEveryMs / 1000} s)` };
  }
  for (const info of i.fleet) {
    const at = changedAt(info);
    const what = LEAVING.has(info.state) ? `became ${info.state}` : 'launched';
    if (at === undefined) {
      return { read: true, reason: `${info.instanceId} is ${info.state} and EC2 gives no time of it` };
    }
    if (at > t - i.lookbackMs) return { read: true, reason: `${info.instanceId} ${what} at ${iso(at)}` };
  }
  return {
    read: false,
    reason: `no instance of the fleet launched or changed state since ${iso(t - i.lookbackMs)}; next full read at ${iso((slot(t) + 1) * i.fullReadEveryMs)}`,
  };
}
