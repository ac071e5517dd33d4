import { parseMarker } from './marker';
import { markerNameFor, normalizeName, ptrNameFor, recordNameOfMarker } from './names';
import { type DnsPlanConfig, type InstanceFact, zoneSetOf } from './planner';
import type { RecordSet } from './port';

/** A record name and its marker name: what the planner reads to judge one name. */
const withMarker = (name: string) => [normalizeName(name), markerNameFor(name)];

/** Our markers in `records` that name one of the batch's instances. */
function batchMarkers(records: readonly RecordSet[] | undefined, config: DnsPlanConfig, batch: Set<string>) {
  return (records ?? []).flatMap((r) => {
    if (r.type !== 'TXT' || !recordNameOfMarker(r.name)) return [];
    const m = parseMarker(r.values[0] ?? '');
    return m?.owner === config.ownerId && m.value && batch.has(m.instanceId) ? [m] : [];
  });
}

/**
 * The names a batch's facts touch in the reverse zones, each with its marker: the PTR name of each
 * instance's private IP, and of the IP our A markers in `forward` record for it (DescribeInstances
 * may no longer show a terminated instance's IP). The PTR markers then say which forward name the
 * instance held (see forwardNamesOf).
 */
export function reverseNamesOf(
  facts: readonly InstanceFact[],
  config: DnsPlanConfig,
  forward: readonly RecordSet[] | undefined,
): string[] {
  const zones = zoneSetOf(config);
  if (zones.reverse.length === 0) return [];
  const batch = new Set(facts.map((f) => f.instanceId));
  const ips = [
    ...facts.flatMap((f) => (f.privateIp ? [f.privateIp] : [])),
    ...batchMarkers(forward, config, batch).flatMap((m) => (m.type === 'A' && m.value ? [m.value] : [])),
  ];
  return ips.flatMap((ip) => {
    const ptr = /^\d+\.\d+\.\d+\.\d+$/.test(ip) ? ptrNameFor(ip) : undefined;
    return ptr && zones.reverseZoneFor(ptr) ? withMarker(ptr) : [];
  });
}

/**
 * The names a batch's facts touch in the forward zones, each with its marker: the name the instance
 * is tagged with now, its instance-id name (an untagged instance's record, and the tombstone slot),
 * and the forward name our PTR markers in `reverse` record for it (the name it held before a
 * rename). The planner then sees every record the instance holds at those names; a record of ours
 * at any other name (a name tag changed twice without a reverse zone) is dns-reconcile's to move.
 */
export function forwardNamesOf(
  facts: readonly InstanceFact[],
  config: DnsPlanConfig,
  reverse: readonly RecordSet[] | undefined,
): string[] {
  const zones = zoneSetOf(config);
  const batch = new Set(facts.map((f) => f.instanceId));
  const names = facts.flatMap((f) => {
    const tagged = f.name?.trim() ? zones.resolve(f.name) : undefined;
    return [
      ...(tagged?.ok ? withMarker(tagged.fqdn) : []),
      ...withMarker(`${f.instanceId}.${zones.primary.name}`),
    ];
  });
  for (const m of batchMarkers(reverse, config, batch)) {
    if (m.type === 'PTR' && m.value && zones.forwardZonesFor(m.value).length > 0) {
      names.push(...withMarker(m.value));
    }
  }
  return names;
}
