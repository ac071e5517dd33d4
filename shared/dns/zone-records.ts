import { isInZone, MAX_DNS_NAME, normalizeName } from './names';
import type { RecordChange, RecordSet } from './port';

const key = (name: string, type: string, setIdentifier?: string) =>
  `${normalizeName(name)}|${type}${setIdentifier === undefined ? '' : `|${setIdentifier}`}`;
const keyOf = (r: RecordSet) => key(r.name, r.type, r.setIdentifier);

/** Longest character-string in a TXT/SPF value. */
export const TXT_STRING_MAX = 255;

/** The character-strings of a TXT value (`"a" "b c"` -> [a, b c]; an unquoted value is one string). */
export function txtStrings(value: string): string[] {
  if (!value.startsWith('"')) return [value];
  return [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? '').replace(/\\(.)/g, '$1'));
}

/** Route 53's record-level validation (name length, label length, TXT string length), or undefined. */
function recordProblem(record: RecordSet): string | undefined {
  const bare = record.name.replace(/\.$/, '');
  const fatal = (code: string, what: string, value: string) =>
    `Invalid Resource Record: 'FATAL problem: ${code} (${what}) encountered with '${value}''`;
  if (bare.length > MAX_DNS_NAME) return fatal('DomainNameTooLong', 'Domain name is too long', record.name);
  if (bare.split('.').some((l) => l.length > 63))
    return fatal('DomainLabelTooLong', 'Domain label is too long', record.name);
  if (record.type === 'TXT' || record.type === 'SPF') {
    for (const v of record.values) {
      if (txtStrings(v).some((x) => x.length > TXT_STRING_MAX))
        return fatal('CharacterStringTooLong', 'Value is too long', v);
    }
  }
  return undefined;
}

function sameValues(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const sorted = [...b].sort();
  return [...a].sort().every((v, i) => v === sorted[i]);
}

/**
 * A zone's record sets with Route 53's change semantics, applied one change at a time: DELETE must
 * match the current TTL and values exactly ("not found" / "values do not match"), CREATE of an
 * existing set fails, CNAME cannot share a name, names must be inside the zone, names at most 253
 * characters (labels 63), TXT character-strings at most 255. `apply` returns the
 * Route 53 message for a rejected change (nothing is changed then). Used by the in-memory fake
 * (on a copy, so a batch is all-or-nothing) and by the planner as its working view.
 */
export class ZoneRecords {
  private readonly sets = new Map<string, RecordSet>();

  constructor(
    readonly zoneName: string,
    records: readonly RecordSet[] = [],
  ) {
    for (const r of records) this.sets.set(keyOf(r), clone(r));
  }

  copy(): ZoneRecords {
    return new ZoneRecords(this.zoneName, this.all());
  }

  /** The simple record set of this name and type, or with `setIdentifier` that routing-policy set. */
  get(name: string, type: string, setIdentifier?: string): RecordSet | undefined {
    const r = this.sets.get(key(name, type, setIdentifier));
    return r ? clone(r) : undefined;
  }

  /** Record sets at `name` of any type. */
  at(name: string): RecordSet[] {
    const n = normalizeName(name);
    return [...this.sets.values()].filter((r) => r.name === n).map(clone);
  }

  /**
   * All record sets, sorted by name, type, then set identifier (simple sets first) in code-unit order
   * (stable paging needs a total order).
   */
  all(): RecordSet[] {
    const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
    return [...this.sets.values()]
      .map(clone)
      .sort(
        (a, b) =>
          cmp(a.name, b.name) || cmp(a.type, b.type) || cmp(a.setIdentifier ?? '', b.setIdentifier ?? ''),
      );
  }

  /** Apply one change; returns the InvalidChangeBatch message if Route 53 would reject it. */
  apply(change: RecordChange): string | undefined {
    const record = { ...clone(change.record), name: normalizeName(change.record.name) };
    const id = record.setIdentifier;
    const label = `[name='${record.name}', type='${record.type}'${id === undefined ? '' : `, set-identifier='${id}'`}]`;
    const zone = normalizeName(this.zoneName);
    if (!isInZone(record.name, zone))
      return `RRSet with DNS name ${record.name} is not permitted in zone ${zone}`;
    const current = this.sets.get(keyOf(record));
    if (change.action !== 'DELETE') {
      const problem = recordProblem(record);
      if (problem) return problem;
    }
    if (change.action === 'DELETE') {
      if (!current) return `Tried to delete resource record set ${label} but it was not found`;
      if (
        current.ttl !== record.ttl ||
        !sameValues(current.values, record.values) ||
        !!current.alias !== !!record.alias ||
        current.weight !== record.weight
      ) {
        return `Tried to delete resource record set ${label} but the values provided do not match the current values`;
      }
      this.sets.delete(keyOf(record));
      return undefined;
    }
    if (change.action === 'CREATE' && current) {
      return `Tried to create resource record set ${label} but it already exists`;
    }
    const sameType = this.at(record.name).filter((r) => r.type === record.type && keyOf(r) !== keyOf(record));
    if (sameType.some((r) => (r.setIdentifier === undefined) !== (id === undefined))) {
      // a name and type hold either one simple set or routing-policy sets, never both
      return `RRSet with DNS name ${record.name}, type ${record.type}${id === undefined ? '' : `, SetIdentifier ${id}`} cannot be created as a ${id === undefined ? 'routing-policy' : 'non-routing-policy'} set exists with the same name and type.`;
    }
    const others = this.at(record.name).filter((r) => r.type !== record.type);
    if (record.type === 'CNAME' && others.length > 0) {
      return `RRSet of type CNAME with DNS name ${record.name} is not permitted as it conflicts with other records with the same DNS name in zone ${zone}`;
    }
    if (others.some((r) => r.type === 'CNAME')) {
      return `RRSet of type ${record.type} with DNS name ${record.name} is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone ${zone}`;
    }
    this.sets.set(keyOf(record), record);
    return undefined;
  }
}

function clone(r: RecordSet): RecordSet {
  return { ...r, values: [...r.values] };
}
