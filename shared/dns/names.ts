/**
 * DNS names: normalization (lowercase, one trailing dot, as Route 53 returns them), tag-value
 * validation (RFC 1035/1123 host labels, 63-character labels, 240-character names so the marker fits in 253, inside the configured zone, no wildcard,
 * not the apex), and the derived names fleetwarden writes (ownership marker, in-addr.arpa PTR).
 */
export type NameRefusal = 'outside-zone' | 'zone-apex' | 'wildcard' | 'malformed';

export type ResolvedName = { ok: true; fqdn: string } | { ok: false; reason: NameRefusal; message: string };

/** Label prefix of the TXT ownership marker that sits next to every record fleetwarden owns. */
export const MARKER_LABEL = '_fleetwarden';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Longest DNS name (characters, without the trailing dot). */
export const MAX_DNS_NAME = 253;
/** Longest record name we write: its marker name `_fleetwarden.<name>` must still fit in 253. */
export const MAX_RECORD_NAME = MAX_DNS_NAME - MARKER_LABEL.length - 1;

/** Lowercase with exactly one trailing dot ("A.Example.com" -> "a.example.com."). */
export function normalizeName(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/**
 * Turn a tag value into the record's FQDN in `zoneName`, or say why it is refused. A value without
 * a dot is one label relative to the zone; a value with dots must end in the zone name.
 */
export function resolveRecordName(raw: string, zoneName: string): ResolvedName {
  const zone = normalizeName(zoneName);
  const refuse = (reason: NameRefusal, why: string): ResolvedName => ({
    ok: false,
    reason,
    message: `name ${JSON.stringify(raw)} refused: ${why}`,
  });
  const value = raw.trim().toLowerCase();
  if (value === '') return refuse('malformed', 'empty name');
  if (value.includes('*')) return refuse('wildcard', 'wildcard names are never written');
  const absolute = value.endsWith('.') ? value : `${value}.`;
  let fqdn: string;
  if (absolute === zone) return refuse('zone-apex', `the apex of ${zone} is not an instance name`);
  if (absolute.endsWith(`.${zone}`)) fqdn = absolute;
  else if (!value.replace(/\.$/, '').includes('.')) fqdn = `${value.replace(/\.$/, '')}.${zone}`;
  else return refuse('outside-zone', `not inside the zone ${zone}`);
  const bare = fqdn.slice(0, -1);
  if (bare.length > MAX_RECORD_NAME) {
    return refuse(
      'malformed',
      `${bare.length} characters, more than ${MAX_RECORD_NAME} (the ownership marker ${MARKER_LABEL}.<name> must fit in ${MAX_DNS_NAME})`,
    );
  }
  const relative = bare.slice(0, bare.length - zone.length);
  for (const label of relative.split('.')) {
    if (label.length > 63) return refuse('malformed', `label of ${label.length} characters, more than 63`);
    if (!LABEL.test(label)) {
      return refuse('malformed', `label ${JSON.stringify(label)} is not letters, digits and inner hyphens`);
    }
  }
  return { ok: true, fqdn };
}

/** Name of the TXT ownership marker for a record name. */
export function markerNameFor(recordName: string): string {
  return `${MARKER_LABEL}.${normalizeName(recordName)}`;
}

/** The record name a marker name guards, or undefined if it is not a marker name. */
export function recordNameOfMarker(markerName: string): string | undefined {
  const prefix = `${MARKER_LABEL}.`;
  return markerName.startsWith(prefix) ? markerName.slice(prefix.length) : undefined;
}

/** in-addr.arpa name of an IPv4 address ("10.1.2.3" -> "3.2.1.10.in-addr.arpa."). */
export function ptrNameFor(ipv4: string): string {
  return `${ipv4.split('.').reverse().join('.')}.in-addr.arpa.`;
}

/** True when `name` is `zone` or below it (both normalized). */
export function isInZone(name: string, zone: string): boolean {
  const n = normalizeName(name);
  const z = normalizeName(zone);
  return n === z || n.endsWith(`.${z}`);
}
