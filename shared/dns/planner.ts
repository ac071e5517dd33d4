import type { InstanceState } from '../ec2/port';
import { PlannedChangeRejectedError } from './errors';
import { compareEvents, formatMarker, type Marker, parseMarker } from './marker';
import { markerNameFor, ptrNameFor, recordNameOfMarker } from './names';
import type { RecordChange, RecordSet } from './port';
import { ZoneRecords } from './zone-records';
import { type DnsZone, ZoneSet } from './zone-set';

/**
 * The pure DNS planner. Given what we know about instances (one fact per instance: the latest event,
 * or an observation from DescribeInstances) and the zones as they are, it returns the minimal
 * changes per zone and one decision per instance. It never plans a change to a record without our
 * ownership marker, never uses UPSERT (DELETE of the exact current values + CREATE is Route 53's
 * compare-and-swap: a concurrent writer makes the batch fail instead of being overwritten), and
 * orders by event time against the stored marker so late or duplicate events change nothing.
 */
export type DnsPlanConfig = ZonesPlanConfig | SingleZonePlanConfig;

interface OwnerConfig {
  /** Owner id written into every marker; only records with our owner are ours. */
  ownerId: string;
  ttl: number;
}

/** Several zones (issue 16): forward zones by view, reverse zones; see zone-set.ts. */
export interface ZonesPlanConfig extends OwnerConfig {
  zones: ZoneSet;
}

/** One forward zone (and one reverse zone): today's shorthand. Its zone ids are `forward` and `reverse`. */
export interface SingleZonePlanConfig extends OwnerConfig {
  zones?: undefined;
  /** Forward zone, e.g. "example.com". */
  zoneName: string;
  /** Reverse zone for PTR records, e.g. "10.in-addr.arpa"; no PTR records when absent. */
  reverseZoneName?: string | undefined;
  /**
   * The A record holds the public IP; an instance without one is refused (audited) and any record we
   * published for it is removed. Never falls back to the private IP. Off: the private IP.
   */
  publishPublicIp: boolean;
}

/** Zone ids of the single-zone form (`SingleZonePlanConfig`, the `forward`/`reverse` record lists). */
export const SINGLE_ZONE_IDS = { forward: 'forward', reverse: 'reverse' } as const;

const zoneSetCache = new WeakMap<SingleZonePlanConfig, ZoneSet>();

/** The zone set a plan config names (the single-zone form as a set of one or two zones). */
export function zoneSetOf(config: DnsPlanConfig): ZoneSet {
  if (config.zones) return config.zones;
  let set = zoneSetCache.get(config);
  if (!set) {
    set = ZoneSet.of([
      {
        id: SINGLE_ZONE_IDS.forward,
        name: config.zoneName,
        view: config.publishPublicIp ? 'public' : 'private',
      },
      ...(config.reverseZoneName ? [{ id: SINGLE_ZONE_IDS.reverse, name: config.reverseZoneName }] : []),
    ]);
    zoneSetCache.set(config, set);
  }
  return set;
}

/** The zones' record sets by zone id: `records`, or the single-zone form's two lists. */
export interface ZoneRecordsInput {
  records?: ReadonlyMap<string, readonly RecordSet[]> | undefined;
  forward?: readonly RecordSet[] | undefined;
  reverse?: readonly RecordSet[] | undefined;
}

export function recordsByZone(zones: ZoneSet, input: ZoneRecordsInput): Map<string, readonly RecordSet[]> {
  if (input.records) return new Map(input.records);
  const out = new Map<string, readonly RecordSet[]>([[zones.primary.id, input.forward ?? []]]);
  const reverse = zones.reverse[0];
  if (reverse) out.set(reverse.id, input.reverse ?? []);
  return out;
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

/** Changes that must land in the same request (a record and its marker), in one zone. */
export interface ChangeUnit {
  instanceId: string;
  /** The hosted zone the changes go to. */
  zoneId: string;
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
  /** Units of the forward zones (each names its zone). */
  forward: ChangeUnit[];
  /** Units of the reverse zones. */
  reverse: ChangeUnit[];
  decisions: PlanDecision[];
}

interface Owned {
  zoneId: string;
  recordName: string;
  markerRecord: RecordSet;
  marker: Marker;
}

/** A zone being planned: the records as they will be after the changes planned so far. */
class PlanningView {
  readonly records: ZoneRecords;
  private readonly byInstance = new Map<string, Set<string>>();

  constructor(
    readonly zone: DnsZone,
    records: readonly RecordSet[],
    private readonly owner: string,
  ) {
    this.records = new ZoneRecords(zone.name, records);
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
        out.push({ zoneId: this.zone.id, recordName, markerRecord, marker });
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

export function planDns(
  input: { config: DnsPlanConfig; facts: readonly InstanceFact[] } & ZoneRecordsInput,
): Plan {
  const zones = zoneSetOf(input.config);
  const planner = new DnsPlanner(input.config, zones, recordsByZone(zones, input));
  for (const fact of input.facts) planner.planInstance(fact);
  return planner.plan;
}

type DecisionInput = Omit<PlanDecision, 'instanceId' | 'time' | 'action' | 'details'> & {
  details?: Record<string, unknown>;
};

/** One fact being planned: the records its instance owns and the changes planned for it per zone. */
interface FactPlan {
  fact: InstanceFact;
  /** Its records in the forward zones (every view). */
  fOwned: Owned[];
  /** Its records in the reverse zones. */
  rOwned: Owned[];
  /** Changes by zone id, in the order they were planned. */
  changes: Map<string, RecordChange[]>;
  decide(d: DecisionInput): void;
}

/** A forward zone the name goes to, and the address its view publishes (absent: none known). */
interface Target {
  zone: DnsZone;
  ip?: string | undefined;
}

function changesIn(p: FactPlan, zoneId: string): RecordChange[] {
  let out = p.changes.get(zoneId);
  if (!out) {
    out = [];
    p.changes.set(zoneId, out);
  }
  return out;
}

const allChanges = (p: FactPlan) => [...p.changes.values()].flat();

const removedRecords = (p: FactPlan) =>
  allChanges(p).filter((c) => c.action === 'DELETE' && c.record.type !== 'TXT');

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

/** What the A record of a view publishes: the public IP in a public view, else the private IP. */
const targetOf = (zone: DnsZone, fact: InstanceFact): Target => ({
  zone,
  ip: (zone.view === 'public' ? fact.publicIp : fact.privateIp) || undefined,
});

/** planDns's state: every zone as it will be after the changes planned so far, and the plan. */
class DnsPlanner {
  readonly plan: Plan = { forward: [], reverse: [], decisions: [] };
  private readonly views = new Map<string, PlanningView>();

  constructor(
    private readonly config: DnsPlanConfig,
    private readonly zones: ZoneSet,
    records: ReadonlyMap<string, readonly RecordSet[]>,
  ) {
    for (const z of zones.zones) {
      this.views.set(z.id, new PlanningView(z, records.get(z.id) ?? [], config.ownerId));
    }
  }

  private view(zoneId: string): PlanningView {
    return this.views.get(zoneId) as PlanningView;
  }

  /** An instance's records in the forward (or the reverse) zones. */
  private owned(instanceId: string, reverse: boolean): Owned[] {
    return this.zones.zones
      .filter((z) => z.reverse === reverse)
      .flatMap((z) => this.view(z.id).ownedBy(instanceId));
  }

  /** Remove every owned record of `owned` (type A or PTR by zone); returns the foreign ones left alone. */
  private removeAll(p: FactPlan, owned: readonly Owned[], type: 'A' | 'PTR'): RecordSet[] {
    return owned.flatMap((o) => removeOwned(this.view(o.zoneId), o, type, changesIn(p, o.zoneId)));
  }

  planInstance(fact: InstanceFact): void {
    const changes = new Map<string, RecordChange[]>();
    try {
      this.planFact(fact, changes);
    } catch (err) {
      if (!(err instanceof PlannedChangeRejectedError)) throw err;
      this.refuseConflict(fact, err, changes);
      return;
    }
    for (const [zoneId, zoneChanges] of changes) {
      if (zoneChanges.length === 0) continue;
      const unit = { instanceId: fact.instanceId, zoneId, changes: zoneChanges };
      (this.view(zoneId).zone.reverse ? this.plan.reverse : this.plan.forward).push(unit);
    }
  }

  /**
   * Something at the name the ownership rules did not foresee (e.g. a CNAME at our marker name):
   * Route 53 would reject the change, and with it the whole batch. Refuse this instance alone, leave
   * its names as they are, and go on with the others.
   */
  private refuseConflict(
    fact: InstanceFact,
    err: PlannedChangeRejectedError,
    changes: ReadonlyMap<string, readonly RecordChange[]>,
  ): void {
    const id = fact.instanceId;
    for (const [zoneId, zoneChanges] of changes) this.view(zoneId).revert(zoneChanges);
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

  private planFact(fact: InstanceFact, changes: Map<string, RecordChange[]>): void {
    const id = fact.instanceId;
    const action: PlanAction = fact.state === 'running' ? 'dns.upsert' : 'dns.delete';
    const p: FactPlan = {
      fact,
      fOwned: this.owned(id, false),
      rOwned: this.owned(id, true),
      changes,
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
    const resolved = this.zones.resolve(raw);
    if (!resolved.ok) {
      p.decide({
        decision: 'refused',
        reason: resolved.message,
        details: { refusal: resolved.reason, name: raw },
      });
      return;
    }
    const name = resolved.fqdn;
    const targets = resolved.zones.map((z) => targetOf(z, fact));
    const publish = targets.filter((t) => t.ip);
    if (publish.length === 0) {
      if (!fact.publicIp && targets.every((t) => t.zone.view === 'public'))
        this.refuseWithoutPublicIp(p, name);
      else
        p.decide({
          decision: 'skipped',
          reason: 'no IP address known for a running instance',
          recordName: name,
        });
      return;
    }
    // every view or none: a split horizon is never left half published to someone else's name
    const problem = publish
      .map((t) => this.claimProblem(this.view(t.zone.id), name, 'A', fact.instanceId))
      .find((x) => x !== undefined);
    if (problem) {
      p.decide({ decision: 'refused', reason: problem, recordName: name, details: { refusal: 'not-owned' } });
      return;
    }
    this.publish(
      p,
      name,
      publish,
      targets.filter((t) => !t.ip),
    );
  }

  /**
   * The A record of a public view is the public IP or nothing: the private IP would make the name
   * flip between networks, and a record kept for a public IP the instance no longer has would dangle.
   */
  private refuseWithoutPublicIp(p: FactPlan, name: string): void {
    const notOwned = [...this.removeAll(p, p.fOwned, 'A'), ...this.removeAll(p, p.rOwned, 'PTR')];
    const removed = removedRecords(p);
    const why = this.config.zones ? `${name} goes to public views only` : 'publishPublicIp is set';
    p.decide({
      decision: 'refused',
      reason: `${why} and the instance has no public IP: no A record for ${name}${removed.length > 0 ? `; removed ${listRemoved(removed)}` : ''}`,
      recordName: name,
      details: {
        refusal: 'no-public-ip',
        removed: removedDetails(removed),
        ...(notOwned.length > 0 ? { notOwned } : {}),
      },
    });
  }

  /**
   * Make `name` the instance's only A record in each view it goes to (the view's address), with its
   * PTR in the reverse zone; views without an address for it (`without`) hold no record of it.
   */
  private publish(p: FactPlan, name: string, targets: Target[], without: Target[]): void {
    const { fact } = p;
    const wanted = new Set(targets.map((t) => t.zone.id));
    const stale = p.fOwned.filter((o) => o.recordName !== name || !wanted.has(o.zoneId));
    const notOwned = this.removeAll(p, stale, 'A');
    for (const t of targets) {
      const ip = t.ip as string;
      const owned = p.fOwned.filter((o) => o.zoneId === t.zone.id);
      const m = this.marker('A', fact, ip, keepTime(fact, owned, name, ip));
      this.ensure(this.view(t.zone.id), name, 'A', [ip], m, changesIn(p, t.zone.id));
    }
    const details = this.publishDetails(targets, without);
    const ptrRefused = this.publishPtr(p, name, notOwned);
    if (ptrRefused) details.ptrRefused = ptrRefused;
    if (notOwned.length > 0) details.notOwned = notOwned;
    const acted = allChanges(p).length > 0;
    const to =
      targets.length === 1 ? targets[0]?.ip : targets.map((t) => `${t.ip} (${t.zone.view})`).join(', ');
    p.decide({
      decision: acted ? 'acted' : 'skipped',
      reason: acted ? `A ${name} -> ${to}` : `already in the desired state: A ${name} -> ${to}`,
      recordName: name,
      details,
    });
  }

  private publishDetails(targets: Target[], without: Target[]): Record<string, unknown> {
    const details: Record<string, unknown> = { ip: targets[0]?.ip };
    if (targets.length + without.length > 1) {
      details.views = targets.map((t) => ({ zoneId: t.zone.id, view: t.zone.view, ip: t.ip }));
    }
    if (without.length > 0) {
      details.noRecord = without.map((t) => ({
        zoneId: t.zone.id,
        view: t.zone.view,
        why: t.zone.view === 'public' ? 'no public IP' : 'no private IP',
      }));
    }
    return details;
  }

  /** The PTR of the private IP in its longest-suffix reverse zone; returns why none is published, if so. */
  private publishPtr(p: FactPlan, name: string, notOwned: RecordSet[]): string | undefined {
    if (this.zones.reverse.length === 0) return undefined;
    const { fact } = p;
    const ptr = fact.privateIp ? ptrNameFor(fact.privateIp) : undefined;
    const zone = ptr ? this.zones.reverseZoneFor(ptr) : undefined;
    const ptrProblem =
      ptr && zone
        ? this.claimProblem(this.view(zone.id), ptr, 'PTR', fact.instanceId)
        : 'private IP outside the reverse zone';
    const stale = p.rOwned.filter((o) => o.zoneId !== zone?.id || o.recordName !== ptr || ptrProblem);
    notOwned.push(...this.removeAll(p, stale, 'PTR'));
    if (!ptr || !zone || ptrProblem) return ptrProblem;
    const owned = p.rOwned.filter((o) => o.zoneId === zone.id);
    const m = this.marker('PTR', fact, name, keepTime(fact, owned, ptr, name));
    this.ensure(this.view(zone.id), ptr, 'PTR', [name], m, changesIn(p, zone.id));
    return undefined;
  }

  /** A stopped, stopping, shutting-down or terminated instance: remove its records, keep a tombstone. */
  private planLeaving(p: FactPlan): void {
    const notOwned = this.tombstoneForward(p);
    notOwned.push(...this.removeAll(p, p.rOwned, 'PTR'));
    const { fact } = p;
    const removed = removedRecords(p);
    const acted = allChanges(p).length > 0;
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
  private tombstoneForward(p: FactPlan): RecordSet[] {
    const { fact, fOwned } = p;
    const notOwned: RecordSet[] = [];
    const tombstone = this.marker('A', fact, undefined, fact.time);
    for (const o of fOwned) {
      const view = this.view(o.zoneId);
      const out = changesIn(p, o.zoneId);
      const record = view.records.get(o.recordName, 'A');
      if (record && holdsMarkerValue(record, o.marker)) view.apply({ action: 'DELETE', record }, out);
      else if (record && o.marker.value !== undefined) notOwned.push(record);
      const unchanged = o.marker.state === fact.state && o.marker.value === undefined;
      if (!(unchanged && (fact.source === 'observation' || o.marker.time === fact.time))) {
        this.replaceMarker(view, markerNameFor(o.recordName), tombstone, out);
      }
    }
    // an event may come before the running it follows (reordering), so it leaves a tombstone (in
    // the first forward zone, where an untagged instance's name goes); an observation of an
    // instance we never named needs none
    if (fOwned.length === 0 && fact.source === 'event' && fact.optedIn !== false) {
      const zone = this.zones.primary;
      const view = this.view(zone.id);
      const slot = markerNameFor(`${fact.instanceId}.${zone.name}`);
      if (!view.records.get(slot, 'TXT')) this.replaceMarker(view, slot, tombstone, changesIn(p, zone.id));
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
export function planTombstoneExpiry(
  input: { config: DnsPlanConfig; now: Date; tombstoneMs: number } & ZoneRecordsInput,
): Plan {
  const plan: Plan = { forward: [], reverse: [], decisions: [] };
  const zones = zoneSetOf(input.config);
  const records = recordsByZone(zones, input);
  const cutoff = input.now.getTime() - input.tombstoneMs;
  for (const zone of zones.forward) {
    const view = new PlanningView(zone, records.get(zone.id) ?? [], input.config.ownerId);
    for (const r of view.records.all()) {
      const m = view.ours(r);
      const recordName = recordNameOfMarker(r.name);
      // a tombstone guards no record (a record next to it is foreign by the ownership rule); only a
      // terminated holder's expires: a stopped (or stopping) one keeps its name until it terminates
      if (!m || !recordName || m.state !== 'terminated' || m.value !== undefined) continue;
      if (Date.parse(m.time) >= cutoff) continue;
      const changes: RecordChange[] = [];
      view.apply({ action: 'DELETE', record: r }, changes);
      plan.forward.push({ instanceId: m.instanceId, zoneId: zone.id, changes });
      // one decision per instance (a split horizon holds a tombstone in each view)
      const earlier = plan.decisions.find((d) => d.instanceId === m.instanceId);
      if (earlier) {
        (earlier.details.zoneIds as string[]).push(zone.id);
        continue;
      }
      plan.decisions.push({
        instanceId: m.instanceId,
        time: m.time,
        action: 'dns.expire-tombstone',
        decision: 'acted',
        reason: `tombstone (${m.state} at ${m.time}) older than ${Math.round(input.tombstoneMs / 60_000)} min expired`,
        recordName,
        details: { marker: r.values[0], zoneIds: [zone.id] },
      });
    }
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
