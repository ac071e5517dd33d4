import type { InstanceInventory } from '../ec2/port';
import { parseMarker } from './marker';
import { recordNameOfMarker } from './names';
import { type DnsOptIn, optInReason } from './opt-in';
import {
  type DnsPlanConfig,
  type InstanceFact,
  type Plan,
  planDns,
  planTombstoneExpiry,
  recordsByZone,
  type ZoneRecordsInput,
  zoneSetOf,
} from './planner';
import type { RecordSet } from './port';
import { ZoneRecords } from './zone-records';

/**
 * Reconcile's view of the fleet, as planner facts: every live instance that opts in (name tag,
 * fleet tag or a configured Auto Scaling group; never every instance of the region), every leaving
 * instance one of our markers names (so its records go), plus every owned instance DescribeInstances
 * no longer lists as live (describe). Facts are observations
 * dated `observedAt` (now minus a settle window), so an event applied within the window wins over
 * a possibly lagging DescribeInstances. An owned instance DescribeInstances no longer knows is
 * terminated; one it shows as pending, or running without a private IP yet, is left for the next run
 * (never taken for terminated).
 */
export async function observeFleet(input: {
  inventory: InstanceInventory;
  nameTag: string;
  owner: string;
  zones: (readonly RecordSet[])[];
  observedAt: string;
  /** Who opts in besides the name tag. @default the name tag only */
  optIn?: Omit<DnsOptIn, 'nameTag'> | undefined;
}): Promise<InstanceFact[]> {
  const owned = new Set<string>();
  for (const records of input.zones) {
    for (const r of records) {
      if (r.type !== 'TXT' || r.values.length !== 1 || r.setIdentifier !== undefined) continue;
      if (!recordNameOfMarker(r.name)) continue;
      const m = parseMarker(r.values[0] ?? '');
      if (m && m.owner === input.owner) owned.add(m.instanceId);
    }
  }
  // every live instance, then only those that opt in (an untagged fleet instance is named by its
  // id, so its lost `running` event is repaired too) and leaving ones holding records of ours
  const live = await input.inventory.listInStates(['running', 'stopping', 'stopped', 'shutting-down']);
  const seen = new Set(live.map((i) => i.instanceId));
  const rule = { ...input.optIn, nameTag: input.nameTag };
  const tagged = live.flatMap((info) => {
    const optedIn = optInReason(info.tags, rule) !== undefined;
    return optedIn || (owned.has(info.instanceId) && info.state !== 'running') ? [{ info, optedIn }] : [];
  });
  const described = await input.inventory.describe([...owned].filter((id) => !seen.has(id)).sort());
  const facts: InstanceFact[] = [];
  const all = [
    ...tagged,
    ...described.map((info) => ({ info, optedIn: optInReason(info.tags, rule) !== undefined })),
  ];
  for (const { info, optedIn } of all) {
    // DescribeInstances knows it: never "terminated", even when there is nothing to act on yet
    seen.add(info.instanceId);
    if (info.state === 'pending' || (info.state === 'running' && !info.privateIp)) continue;
    facts.push({
      instanceId: info.instanceId,
      state: info.state,
      time: input.observedAt,
      source: 'observation',
      name: info.tags[input.nameTag],
      privateIp: info.privateIp,
      publicIp: info.publicIp,
      optedIn,
    });
  }
  for (const id of [...owned].sort()) {
    if (!seen.has(id))
      facts.push({
        instanceId: id,
        state: 'terminated',
        time: input.observedAt,
        source: 'observation',
        optedIn: false,
      });
  }
  return facts;
}

/** Drift repair plus the tombstone sweep (every forward zone), as one plan. */
export function planReconcile(
  input: {
    config: DnsPlanConfig;
    facts: readonly InstanceFact[];
    now: Date;
    tombstoneMs: number;
  } & ZoneRecordsInput,
): Plan {
  const zones = zoneSetOf(input.config);
  const records = recordsByZone(zones, input);
  const repair = planDns({ config: input.config, records, facts: input.facts });
  const after = new Map(records);
  for (const zone of zones.forward) {
    const updates = repair.forward.filter((x) => x.zoneId === zone.id && x.changes.length > 0);
    // a zone the repair leaves as it is (a zone in sync) is swept as read: no copy of its records
    if (updates.length === 0) continue;
    const view = new ZoneRecords(zone.name, records.get(zone.id) ?? []);
    for (const u of updates) for (const c of u.changes) view.apply(c);
    after.set(zone.id, view.all());
  }
  const touched = new Set(repair.forward.map((u) => u.instanceId));
  const sweep = planTombstoneExpiry({
    config: input.config,
    records: after,
    now: input.now,
    tombstoneMs: input.tombstoneMs,
  });
  const keep = (id: string) => !touched.has(id);
  return {
    forward: [...repair.forward, ...sweep.forward.filter((u) => keep(u.instanceId))],
    reverse: repair.reverse,
    decisions: [...repair.decisions, ...sweep.decisions.filter((d) => keep(d.instanceId))],
  };
}
