import type { InstanceState } from '../ec2/port';
import { PlannedChangeRejectedError } from './errors';
import { compareEvents, formatMarker, type Marker, parseMarker } from './marker';
import {
  isInZone,
  markerNameFor,
  normalizeName,
  ptrNameFor,
  recordNameOfMarker,
  resolveRecordName,
} from './names';
import type { RecordChange, RecordSet } from './port';
import { ZoneRecords } from './zone-records';

/**
 * The pure DNS planner. Given what we know about instances (one fact per instance: the latest event,
 * or an observation from DescribeInstances) and the zones as they are, it returns the minimal
 * changes per zone and one decision per instance. It never plans a change to a record without our
 * ownership marker, never uses UPSERT (DELETE of the exact current values + CREATE is Route 53's
 * compare-and-swap: a concurrent writer makes the batch fail instead of being overwritten), and
 * orders by event time against the stored marker so late or duplicate events change nothing.
 */
export interface DnsPlanConfig {
  /** Forward zone, e.g. "example.com". */
  zoneName: string;
  /** Reverse zone for PTR records, e.g. "10.in-addr.arpa"; no PTR records when absent. */
  reverseZoneName?: string | undefined;
  /** Owner id written into every marker; only records with our owner are ours. */
  ownerId: string;
  ttl: number;
  /**
   * The A record holds the public IP; an instance without one is refused (audited) and any record we
   * published for it is removed. Never falls back to the private IP. Off: the private IP.
   */
  publishPublicIp: boolean;
}

export interface InstanceFact {
  instanceId: string;
  state: InstanceState;
  /** Event time (ISO), or for observations the time they are taken to represent. */
  time: string;
  /** `event`: a state-change event; `observation`: what reconcile saw (does not bump marker times). */
  source: 'event' | 'observation';
  /** Raw value of the name tag; the instance id is used when absent or blank. */
  name?: string | undefined;
  privateIp?: string | undefined;
  publicIp?: string | undefined;
  /**
   * A tag change: it may rename or refresh the live record of a running instance, never create one
   * (DescribeInstances can still show a just-stopped instance running; the running event publishes).
   */
  renameOnly?: boolean | undefined;
  /**
   * The instance opts in to DNS (name tag, fleet tag or a configured Auto Scaling group; see
   * opt-in.ts). `false`: nothing is published for it, and a leaving one gets no tombstone, but
   * records of ours it still holds are removed when it leaves. The fact producers always set it.
   */
  optedIn?: boolean | undefined;
}

/** Changes that must land in the same request (a record and its marker). */
export interface ChangeUnit {
  instanceId: string;
  changes: RecordChange[];
}

export type PlanAction = 'dns.upsert' | 'dns.delete' | 'dns.expire-tombstone';

export interface PlanDecision {
  instanceId: string;
  time: string;
  action: PlanAction;
  decision: 'acted' | 'skipped' | 'refused';
  reason: string;
  recordName?: string | undefined;
  details: Record<string, unknown>;
}

export interface Plan {
  forward: ChangeUnit[];
  reverse: ChangeUnit[];
  decisions: PlanDecision[];
}

interface Owned {
  recordName: string;
  markerRecord: RecordSet;
  marker: Marker;
}

/** A zone being planned: the records as they will be after the changes planned so far. */
class PlanningView {
  readonly records: ZoneRecords;
  private readonly byInstance = new Map<string, Set<string>>();

  constructor(
    zoneName: string,
    records: readonly RecordSet[],
    private readonly owner: string,
  ) {
    this.records = new ZoneRecords(zoneName, records);
    for (const r of this.records.all()) this.index(r, true);
  }

  private index(r: RecordSet, add: boolean): void {
    const m = this.ours(r);
    if (!m) return;
    let set = this.byInstance.get(m.instanceId);
    if (!set) {
      set = new Set();
      this.byInstance.set(m.instanceId, set);
    }
    if (add) set.add(r.name);
    else set.delete(r.name);
  }

  /** The marker in `r` if it is one of ours. */
  ours(r: RecordSet | undefined): Marker | undefined {
    if (r?.type !== 'TXT' || r.values.length !== 1 || !recordNameOfMarker(r.name)) return undefined;
    if (r.alias || r.setIdentifier !== undefined) return undefined;
    const m = parseMarker(r.values[0] ?? '');
    return m && m.owner === this.owner ? m : undefined;
  }

  ownedBy(instanceId: string): Owned[] {
    const out: Owned[] = [];
    for (const name of this.byInstance.get(instanceId) ?? []) {
      const markerRecord = this.records.get(name, 'TXT');
      const marker = this.ours(markerRecord);
      const recordName = recordNameOfMarker(name);
      if (markerRecord && marker && recordName && marker.instanceId === instanceId) {
        out.push({ recordName, markerRecord, marker });
      }
    }
    return out.sort((a, b) => a.recordName.localeCompare(b.recordName));
  }

  apply(change: RecordChange, into: RecordChange[]): void {
    const problem = this.records.apply(change);
    if (problem) throw new PlannedChangeRejectedError(change, problem);
    this.index(change.record, change.action !== 'DELETE');
    into.push(change);
  }

  /** Undo changes applied by `apply` (newest first), e.g. those of an instance that is then refused. */
  revert(changes: readonly RecordChange[]): void {
    for (const c of [...changes].reverse()) {
      this.apply({ action: c.action === 'DELETE' ? 'CREATE' : 'DELETE', record: c.record }, []);
    }
  }
}

/**
 * The ownership rule: a record is ours only if our marker at its name guards it, the marker is not a
 * tombstone, and the record holds exactly the value the marker says we wrote. A record a human edited,
 * or created at a name we only hold a tombstone for, is foreign: refused, audited, never touched.
 */
export const holdsMarkerValue = (record: RecordSet, m: Marker): boolean =>
  !record.alias &&
  record.setIdentifier === undefined &&
  m.value !== undefined &&
  record.values.length === 1 &&
  record.values[0] === m.value;

const sameRecord = (a: RecordSet, b: RecordSet) =>
  a.ttl === b.ttl &&
  a.values.length === b.values.length &&
  a.values.every((v, i) => v === b.values[i]) &&
  !a.alias &&
  a.setIdentifier === undefined;

export function planDns(input: {
  config: DnsPlanConfig;
  forward: readonly RecordSet[];
  reverse?: readonly RecordSet[] | undefined;
  facts: readonly InstanceFact[];
}): Plan {
  const planner = new DnsPlanner(input.config, input.forward, input.reverse);
  for (const fact of input.facts) planner.planInstance(fact);
  return planner.plan;
}

type DecisionInput = Omit<PlanDecision, 'instanceId' | 'time' | 'action' | 'details'> & {
  details?: Record<string, unknown>;
};

/** One fact being planned: the records its instance owns and the changes planned for it per zone. */
interface FactPlan {
  fact: InstanceFact;
  fOwned: Owned[];
  rOwned: Owned[];
  fChanges: RecordChange[];
  rChanges: RecordChange[];
  decide(d: DecisionInput): void;
}

const removedRecords = (p: FactPlan) =>
  [...p.fChanges, ...p.rChanges].filter((c) => c.action === 'DELETE' && c.record.type !== 'TXT');

const listRemoved = (removed: readonly RecordChange[]) =>
  removed.map((c) => `${c.record.type} ${c.record.name}`).join(', ');

const removedDetails = (removed: readonly RecordChange[]) =>
  removed.map((c) => ({ name: c.record.name, type: c.record.type, values: c.record.values }));

/** An observation of an unchanged running record keeps the marker's time (it does not bump it). */
const keepTime = (fact: InstanceFact, owned: Owned[], recordName: string, value: string) => {
  const same = owned.find((o) => o.recordName === recordName)?.marker;
  return fact.source === 'observation' && same && same.state === 'running' && same.value === value
    ? same.time
    : fact.time;
};

/**
 * Remove an owned record (if present and still ours) and its marker. A record at the name that
 * does not hold the marker's value is foreign: it is left as it is and returned, for the audit.
 */
function removeOwned(view: PlanningView, owned: Owned, type: string, out: RecordChange[]): RecordSet[] {
  const record = view.records.get(owned.recordName, type);
  const ours = record !== undefined && holdsMarkerValue(record, owned.marker);
  if (record && ours) view.apply({ action: 'DELETE', record }, out);
  // next to a tombstone nothing was ours: only a record we had written and a human changed is news
  const foreign = record && !ours && owned.marker.value !== undefined ? [record] : [];
  view.apply({ action: 'DELETE', record: owned.markerRecord }, out);
  return foreign;
}

/** planDns's state: both zones as they will be after the changes planned so far, and the plan. */
class DnsPlanner {
  readonly plan: Plan = { forward: [], reverse: [], decisions: [] };
  private readonly zone: string;
  private readonly fwd: PlanningView;
  private readonly rev: PlanningView | undefined;

  constructor(
    private readonly config: DnsPlanConfig,
    forward: readonly RecordSet[],
    reverse: readonly RecordSet[] | undefined,
  ) {
    this.zone = normalizeName(config.zoneName);
    this.fwd = new PlanningView(this.zone, forward, config.ownerId);
    this.rev = config.reverseZoneName
      ? new PlanningView(normalizeName(config.reverseZoneName), reverse ?? [], config.ownerId)
      : undefined;
  }

  planInstance(fact: InstanceFact): void {
    const id = fact.instanceId;
    const fChanges: RecordChange[] = [];
    const rChanges: RecordChange[] = [];
    try {
      this.planFact(fact, fChanges, rChanges);
    } catch (err) {
      if (!(err instanceof PlannedChangeRejectedError)) throw err;
      this.refuseConflict(fact, err, fChanges, rChanges);
      return;
    }
    if (fChanges.length > 0) this.plan.forward.push({ instanceId: id, changes: fChanges });
    if (rChanges.length > 0) this.plan.reverse.push({ instanceId: id, changes: rChanges });
  }

  /**
   * Something at the name the ownership rules did not foresee (e.g. a CNAME at our marker name):
   * Route 53 would reject the change, and with it the whole batch. Refuse this instance alone, leave
   * its names as they are, and go on with the others.
   */
  private refuseConflict(
    fact: InstanceFact,
    err: PlannedChangeRejectedError,
    fChanges: readonly RecordChange[],
    rChanges: readonly RecordChange[],
  ): void {
    const id = fact.instanceId;
    this.fwd.revert(fChanges);
    this.rev?.revert(rChanges);
    this.plan.decisions = this.plan.decisions.filter((d) => d.instanceId !== id);
    this.plan.decisions.push({
      instanceId: id,
      time: fact.time,
      action: fact.state === 'running' ? 'dns.upsert' : 'dns.delete',
      decision: 'refused',
      reason: `Route 53 would reject the change: ${err.problem}`,
      recordName: err.change.record.name,
      details: { refusal: 'conflict', change: err.change },
    });
  }

  private planFact(fact: InstanceFact, fChanges: RecordChange[], rChanges: RecordChange[]): void {
    const id = fact.instanceId;
    const action: PlanAction = fact.state === 'running' ? 'dns.upsert' : 'dns.delete';
    const p: FactPlan = {
      fact,
      fOwned: this.fwd.ownedBy(id),
      rOwned: this.rev?.ownedBy(id) ?? [],
      fChanges,
      rChanges,
      decide: (d) => this.plan.decisions.push({ instanceId: id, time: fact.time, action, details: {}, ...d }),
    };
    const skip = this.earlySkip(p);
    if (skip) p.decide(skip);
    else if (fact.state === 'running') this.planRunning(p);
    else this.planLeaving(p);
  }

  /** Facts that change nothing: stale, a tag change without a live record, pending, not opted in. */
  private earlySkip({ fact, fOwned, rOwned }: FactPlan): DecisionInput | undefined {
    const latest = [...fOwned, ...rOwned]
      .map((o) => o.marker)
      .sort((a, b) => compareEvents(b.time, b.state, a.time, a.state))[0];
    if (latest && compareEvents(fact.time, fact.state, latest.time, latest.state) < 0) {
      return {
        decision: 'skipped',
        reason: `stale event: ${fact.state} at ${fact.time} is older than the marker's ${latest.state} at ${latest.time}`,
        recordName: fOwned[0]?.recordName,
        details: { markerState: latest.state, markerTime: latest.time },
      };
    }
    if (fact.renameOnly && latest?.state !== 'running') {
      return {
        decision: 'skipped',
        reason: `tag change at ${fact.time}: no live record of ours for the instance (${latest ? `marker ${latest.state} at ${latest.time}` : 'no marker'}); the running event publishes it, with the tags`,
        recordName: fOwned[0]?.recordName,
      };
    }
    if (fact.state === 'pending') {
      return { decision: 'skipped', reason: 'pending: the record is written when the instance is running' };
    }
    if (fact.state === 'running' && fact.optedIn === false) {
      return {
        decision: 'skipped',
        reason:
          'not opted in to DNS (no name tag, no fleet tag, not in a configured Auto Scaling group): no record published',
        recordName: fOwned[0]?.recordName,
        details: { optedIn: false },
      };
    }
    return undefined;
  }

  private planRunning(p: FactPlan): void {
    const { fact } = p;
    const raw = fact.name?.trim() ? fact.name : fact.instanceId;
    const resolved = resolveRecordName(raw, this.zone);
    if (!resolved.ok) {
      p.decide({
        decision: 'refused',
        reason: resolved.message,
        details: { refusal: resolved.reason, name: raw },
      });
      return;
    }
    const name = resolved.fqdn;
    if (this.config.publishPublicIp && !fact.publicIp) {
      this.refuseWithoutPublicIp(p, name);
      return;
    }
    const ip = this.config.publishPublicIp ? fact.publicIp : fact.privateIp;
    if (!ip) {
      p.decide({
        decision: 'skipped',
        reason: 'no IP address known for a running instance',
        recordName: name,
      });
      return;
    }
    const problem = this.claimProblem(this.fwd, name, 'A', fact.instanceId);
    if (problem) {
      p.decide({ decision: 'refused', reason: problem, recordName: name, details: { refusal: 'not-owned' } });
      return;
    }
    this.publish(p, name, ip);
  }

  /**
   * The A record is the public IP or nothing: the private IP would make the name flip between
   * networks, and a record kept for a public IP the instance no longer has would dangle.
   */
  private refuseWithoutPublicIp(p: FactPlan, name: string): void {
    const notOwned: RecordSet[] = [];
    for (const o of p.fOwned) notOwned.push(...removeOwned(this.fwd, o, 'A', p.fChanges));
    for (const o of p.rOwned) notOwned.push(...removeOwned(this.rev as PlanningView, o, 'PTR', p.rChanges));
    const removed = removedRecords(p);
    p.decide({
      decision: 'refused',
      reason: `publishPublicIp is set and the instance has no public IP: no A record for ${name}${removed.length > 0 ? `; removed ${listRemoved(removed)}` : ''}`,
      recordName: name,
      details: {
        refusal: 'no-public-ip',
        removed: removedDetails(removed),
        ...(notOwned.length > 0 ? { notOwned } : {}),
      },
    });
  }

  /** Make `name` the instance's only A record (and its PTR in the reverse zone, if any). */
  private publish(p: FactPlan, name: string, ip: string): void {
    const { fact } = p;
    const notOwned: RecordSet[] = [];
    for (const o of p.fOwned) {
      if (o.recordName !== name) notOwned.push(...removeOwned(this.fwd, o, 'A', p.fChanges));
    }
    this.ensure(
      this.fwd,
      name,
      'A',
      [ip],
      this.marker('A', fact, ip, keepTime(fact, p.fOwned, name, ip)),
      p.fChanges,
    );
    const details: Record<string, unknown> = { ip };
    const ptrRefused = this.publishPtr(p, name, notOwned);
    if (ptrRefused) details.ptrRefused = ptrRefused;
    if (notOwned.length > 0) details.notOwned = notOwned;
    const acted = p.fChanges.length + p.rChanges.length > 0;
    p.decide({
      decision: acted ? 'acted' : 'skipped',
      reason: acted ? `A ${name} -> ${ip}` : `already in the desired state: A ${name} -> ${ip}`,
      recordName: name,
      details,
    });
  }

  /** The PTR of the private IP in the reverse zone; returns why none is published, if so. */
  private publishPtr(p: FactPlan, name: string, notOwned: RecordSet[]): string | undefined {
    const rev = this.rev;
    const reverseZone = this.config.reverseZoneName;
    if (!rev || !reverseZone) return undefined;
    const { fact } = p;
    const ptr = fact.privateIp ? ptrNameFor(fact.privateIp) : undefined;
    const ptrOk = ptr !== undefined && isInZone(ptr, reverseZone) && ptr !== normalizeName(reverseZone);
    const ptrProblem = ptrOk
      ? this.claimProblem(rev, ptr, 'PTR', fact.instanceId)
      : 'private IP outside the reverse zone';
    for (const o of p.rOwned) {
      if (o.recordName !== ptr || ptrProblem) notOwned.push(...removeOwned(rev, o, 'PTR', p.rChanges));
    }
    if (ptr && !ptrProblem) {
      this.ensure(
        rev,
        ptr,
        'PTR',
        [name],
        this.marker('PTR', fact, name, keepTime(fact, p.rOwned, ptr, name)),
        p.rChanges,
      );
      return undefined;
    }
    return ptrProblem;
  }

  /** A stopped, stopping, shutting-down or terminated instance: remove its records, keep a tombstone. */
  private planLeaving(p: FactPlan): void {
    const notOwned = this.tombstoneForward(p);
    for (const o of p.rOwned) notOwned.push(...removeOwned(this.rev as PlanningView, o, 'PTR', p.rChanges));
    const { fact } = p;
    const removed = removedRecords(p);
    const acted = p.fChanges.length + p.rChanges.length > 0;
    const leftAlone = notOwned.map((r) => `${r.type} ${r.name} (${r.values.join(' ')})`).join(', ');
    p.decide({
      // a record at our name that no longer holds our value is someone else's: refused, left alone
      decision: notOwned.length > 0 ? 'refused' : acted ? 'acted' : 'skipped',
      reason:
        notOwned.length > 0
          ? `${fact.state}: ${leftAlone} does not hold the value our marker recorded, so it is not ours and was left untouched${removed.length > 0 ? `; removed ${listRemoved(removed)}` : ''}`
          : acted
            ? `${fact.state}: removed ${listRemoved(removed) || 'no record'}; tombstone kept`
            : `already in the desired state: no record for a ${fact.state} instance`,
      recordName: p.fOwned[0]?.recordName,
      details: {
        removed: removedDetails(removed),
        ...(notOwned.length > 0 ? { refusal: 'not-owned', notOwned } : {}),
      },
    });
  }

  /** Delete our A records and turn their markers into tombstones; returns the foreign records left alone. */
  private tombstoneForward({ fact, fOwned, fChanges }: FactPlan): RecordSet[] {
    const notOwned: RecordSet[] = [];
    const tombstone = this.marker('A', fact, undefined, fact.time);
    for (const o of fOwned) {
      const record = this.fwd.records.get(o.recordName, 'A');
      if (record && holdsMarkerValue(record, o.marker))
        this.fwd.apply({ action: 'DELETE', record }, fChanges);
      else if (record && o.marker.value !== undefined) notOwned.push(record);
      const unchanged = o.marker.state === fact.state && o.marker.value === undefined;
      if (!(unchanged && (fact.source === 'observation' || o.marker.time === fact.time))) {
        this.replaceMarker(this.fwd, markerNameFor(o.recordName), tombstone, fChanges);
      }
    }
    // an event may come before the running it follows (reordering), so it leaves a tombstone;
    // an observation of an instance we never named needs none
    if (fOwned.length === 0 && fact.source === 'event' && fact.optedIn !== false) {
      const slot = markerNameFor(`${fact.instanceId}.${this.zone}`);
      if (!this.fwd.records.get(slot, 'TXT')) this.replaceMarker(this.fwd, slot, tombstone, fChanges);
    }
    return notOwned;
  }

  private marker(type: 'A' | 'PTR', fact: InstanceFact, value: string | undefined, time: string): Marker {
    return { owner: this.config.ownerId, instanceId: fact.instanceId, type, value, state: fact.state, time };
  }

  /** Why `instanceId` may not hold `name` (type `type`) in `view`, or undefined if it may. */
  private claimProblem(
    view: PlanningView,
    name: string,
    type: string,
    instanceId: string,
  ): string | undefined {
    const owner = this.config.ownerId;
    const mkName = markerNameFor(name);
    const mk = view.records.get(mkName, 'TXT');
    if (!mk) {
      const existing = view.records.at(name).filter((r) => r.type === type || r.type === 'CNAME');
      if (existing.length === 0) return undefined;
      return `${existing.map((r) => r.type).join('/')} ${name} exists and is not owned by fleetwarden owner "${owner}"`;
    }
    const parsed = mk.values.length === 1 ? parseMarker(mk.values[0] ?? '') : undefined;
    if (!parsed) return `TXT ${mkName} exists and is not a fleetwarden marker`;
    if (parsed.owner !== owner)
      return `${name} is owned by fleetwarden owner "${parsed.owner}", not "${owner}"`;
    // a name stays with its holder, running or not, until the holder terminates and its
    // tombstone expires (reconcile): a stopped holder's name is never taken over
    if (parsed.instanceId !== instanceId)
      return `${name} is held by ${parsed.instanceId} (${parsed.state} at ${parsed.time}): a name is released only when its holder has terminated and its tombstone expired`;
    const foreign = view.records
      .at(name)
      .filter((r) => r.type === 'CNAME' || (r.type === type && !holdsMarkerValue(r, parsed)));
    if (foreign.length === 0) return undefined;
    const what = parsed.value === undefined ? 'our tombstone' : `our marker's ${parsed.value}`;
    return `${foreign.map((r) => `${r.type} ${name} (${r.values.join(' ')})`).join(', ')} is not ours: it does not hold ${what}`;
  }

  /** Make `name` hold exactly `values` with `m` as its marker. */
  private ensure(
    view: PlanningView,
    name: string,
    type: string,
    values: string[],
    m: Marker,
    out: RecordChange[],
  ) {
    this.replace(view, { name, type, ttl: this.config.ttl, values }, out);
    this.replaceMarker(view, markerNameFor(name), m, out);
  }

  private replaceMarker(view: PlanningView, mkName: string, m: Marker, out: RecordChange[]): void {
    this.replace(view, { name: mkName, type: 'TXT', ttl: this.config.ttl, values: [formatMarker(m)] }, out);
  }

  /** CREATE `desired`, or DELETE the current values + CREATE (never UPSERT) when they differ. */
  private replace(view: PlanningView, desired: RecordSet, out: RecordChange[]): void {
    const current = view.records.get(desired.name, desired.type);
    if (!current) view.apply({ action: 'CREATE', record: desired }, out);
    else if (!sameRecord(current, desired)) {
      view.apply({ action: 'DELETE', record: current }, out);
      view.apply({ action: 'CREATE', record: desired }, out);
    }
  }
}

/** Reconcile's tombstone sweep: delete our terminated tombstones (markers without a value) older than the retention. */
export function planTombstoneExpiry(input: {
  config: DnsPlanConfig;
  forward: readonly RecordSet[];
  now: Date;
  tombstoneMs: number;
}): Plan {
  const plan: Plan = { forward: [], reverse: [], decisions: [] };
  const view = new PlanningView(input.config.zoneName, input.forward, input.config.ownerId);
  const cutoff = input.now.getTime() - input.tombstoneMs;
  for (const r of view.records.all()) {
    const m = view.ours(r);
    const recordName = recordNameOfMarker(r.name);
    // a tombstone guards no record (a record next to it is foreign by the ownership rule); only a
    // terminated holder's expires: a stopped (or stopping) one keeps its name until it terminates
    if (!m || !recordName || m.state !== 'terminated' || m.value !== undefined) continue;
    if (Date.parse(m.time) >= cutoff) continue;
    const changes: RecordChange[] = [];
    view.apply({ action: 'DELETE', record: r }, changes);
    plan.forward.push({ instanceId: m.instanceId, changes });
    plan.decisions.push({
      instanceId: m.instanceId,
      time: m.time,
      action: 'dns.expire-tombstone',
      decision: 'acted',
      reason: `tombstone (${m.state} at ${m.time}) older than ${Math.round(input.tombstoneMs / 60_000)} min expired`,
      recordName,
      details: { marker: r.values[0] },
    });
  }
  return plan;
}

/**
 * One fact per instance out of a batch of events: the latest by (event time, lifecycle rank).
 * Older events of the same instance in the batch are superseded (they would be stale anyway).
 */
export function latestPerInstance(facts: readonly InstanceFact[]): InstanceFact[] {
  const newer = (f: InstanceFact, than: InstanceFact | undefined) =>
    !than || compareEvents(f.time, f.state, than.time, than.state) > 0;
  const latest = new Map<string, InstanceFact>();
  // the newest state change of each instance, tag changes aside
  const lastState = new Map<string, InstanceFact>();
  for (const f of facts) {
    if (newer(f, latest.get(f.instanceId))) latest.set(f.instanceId, f);
    if (!f.renameOnly && newer(f, lastState.get(f.instanceId))) lastState.set(f.instanceId, f);
  }
  // a tag change after a running event in the same batch publishes: that event would have
  return [...latest.values()].map((f) =>
    f.renameOnly && lastState.get(f.instanceId)?.state === 'running' ? { ...f, renameOnly: false } : f,
  );
}
