import { isInZone, MAX_DNS_NAME, normalizeName } from './names';
import type { RecordChange, RecordSet } from './port';

/** The key of a record set whose name is already normalized. */
const normalKey = (name: string, type: string, setIdentifier?: string) =>
  `${name}|${type}${setIdentifier === undefined ? '' : `|${setIdentifier}`}`;
const key = (name: string, type: string, setIdentifier?: string) =>
  normalKey(normalizeName(name), type, setIdentifier);
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
 * Route 53's listing key of a name: its labels reversed with a trailing dot (`www.example.com.` ->
 * `com.example.www.`), compared in ASCII, so `a-b.` sorts before `a.` ('-' is below '.') and a
 * name's subdomains follow it.
 */
export function route53NameKey(name: string): string {
  return normalNameKey(normalizeName(name));
}

const normalNameKey = (n: string) => `${n.slice(0, -1).split('.').reverse().join('.')}.`;

/** The listing key of a set whose name `n` is already normalized (route53OrderKey without the normalizing). */
const normalOrderKey = (n: string, type: string, setIdentifier: string | undefined) =>
  `${normalNameKey(n)}\u0000${type}${setIdentifier === undefined ? '' : `\u0000${setIdentifier}`}`;

/** The position of a record set (or of a start point) in Route 53's listing order. */
export function route53OrderKey(name: string, type?: string, setIdentifier?: string): string {
  const n = normalizeName(name);
  return type === undefined ? normalNameKey(n) : normalOrderKey(n, type, setIdentifier);
}

// a set without an identifier and one with '' are two sets (their keys differ): so are their places
const orderOf = (r: RecordSet) => route53OrderKey(r.name, r.type, r.setIdentifier);

/** First index in the sorted `keys` whose key is >= `k`. */
function lowerBound(keys: readonly string[], k: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A zone's record sets with Route 53's change semantics, applied one change at a time: DELETE must
 * match the current TTL and values exactly ("not found" / "values do not match"), CREATE of an
 * existing set fails, CNAME cannot share a name, names must be inside the zone, names at most 253
 * characters (labels 63), TXT character-strings at most 255. `apply` returns the
 * Route 53 message for a rejected change (nothing is changed then); `applyAll` is a batch, all or
 * nothing. Indexed by name (`at`) and kept in Route 53's listing order (`page`), so neither scans
 * the zone. Used by the in-memory fake and by the planner as its working view.
 */
export class ZoneRecords {
  private readonly sets = new Map<string, RecordSet>();
  private readonly byName = new Map<string, Map<string, RecordSet>>();
  /** Listing keys (route53OrderKey) in order, and the set each stands for. */
  private readonly order: string[] = [];
  private readonly atOrder = new Map<string, string>();

  constructor(
    readonly zoneName: string,
    records: readonly RecordSet[] = [],
  ) {
    const entries: [string, string][] = [];
    for (const r of records) {
      // one copy each (a zone read from Route 53 is 100,000s of record sets), its name normalized once
      const c = { ...r, name: normalizeName(r.name), values: [...r.values] };
      const k = normalKey(c.name, c.type, c.setIdentifier);
      if (!this.sets.has(k)) entries.push([normalOrderKey(c.name, c.type, c.setIdentifier), k]);
      this.store(k, c);
    }
    entries.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
    for (const [o, k] of entries) {
      this.order.push(o);
      this.atOrder.set(o, k);
    }
  }

  private store(k: string, r: RecordSet): void {
    this.sets.set(k, r);
    let names = this.byName.get(r.name);
    if (!names) {
      names = new Map();
      this.byName.set(r.name, names);
    }
    names.set(k, r);
  }

  /** Set (or with `undefined` remove) the record set under key `k`, keeping both indexes. */
  private put(k: string, r: RecordSet | undefined): void {
    const before = this.sets.get(k);
    if (before && !r) {
      this.sets.delete(k);
      const names = this.byName.get(before.name);
      names?.delete(k);
      if (names?.size === 0) this.byName.delete(before.name);
      const o = orderOf(before);
      this.order.splice(lowerBound(this.order, o), 1);
      this.atOrder.delete(o);
    } else if (r) {
      this.store(k, r);
      if (!before) {
        const o = orderOf(r);
        this.order.splice(lowerBound(this.order, o), 0, o);
        this.atOrder.set(o, k);
      }
    }
  }

  copy(): ZoneRecords {
    return new ZoneRecords(this.zoneName, this.all());
  }

  get size(): number {
    return this.sets.size;
  }

  /** The simple record set of this name and type, or with `setIdentifier` that routing-policy set. */
  get(name: string, type: string, setIdentifier?: string): RecordSet | undefined {
    const r = this.sets.get(key(name, type, setIdentifier));
    return r ? clone(r) : undefined;
  }

  /** Record sets at `name` of any type (an index lookup, not a scan). */
  at(name: string): RecordSet[] {
    return [...(this.byName.get(normalizeName(name))?.values() ?? [])].map(clone);
  }

  /** All record sets, in Route 53's listing order (route53OrderKey). */
  all(): RecordSet[] {
    return this.order.map((o) => clone(this.sets.get(this.atOrder.get(o) as string) as RecordSet));
  }

  /**
   * Up to `limit` record sets from `startKey` (a route53OrderKey) on, in listing order, and the
   * first one left out.
   */
  page(startKey: string | undefined, limit: number): { records: RecordSet[]; after?: RecordSet } {
    const from = startKey === undefined ? 0 : lowerBound(this.order, startKey);
    const at = (i: number) => this.sets.get(this.atOrder.get(this.order[i] as string) as string) as RecordSet;
    const records: RecordSet[] = [];
    for (let i = from; i < Math.min(this.order.length, from + limit); i++) records.push(clone(at(i)));
    const next = from + limit < this.order.length ? clone(at(from + limit)) : undefined;
    return next ? { records, after: next } : { records };
  }

  /**
   * A batch, all or nothing: every change is applied in turn; if any is rejected, every change is
   * undone and the messages of the rejected ones are returned.
   */
  applyAll(changes: readonly RecordChange[]): string[] {
    const undo: [string, RecordSet | undefined][] = [];
    const problems: string[] = [];
    for (const c of changes) {
      const k = keyOf({ ...c.record, name: normalizeName(c.record.name) });
      const before = this.sets.get(k);
      const problem = this.apply(c);
      if (problem) problems.push(problem);
      else undo.push([k, before]);
    }
    if (problems.length > 0) for (const [k, before] of undo.reverse()) this.put(k, before);
    return problems;
  }

  /** Apply one change; returns the InvalidChangeBatch message if Route 53 would reject it. */
  apply(change: RecordChange): string | undefined {
    const record = { ...clone(change.record), name: normalizeName(change.record.name) };
    const problem = this.problemWith(change.action, record);
    if (problem) return problem;
    this.put(keyOf(record), change.action === 'DELETE' ? undefined : record);
    return undefined;
  }

  /** Why Route 53 would reject `action` on `record` (normalized) in the zone as it is, if it would. */
  private problemWith(action: RecordChange['action'], record: RecordSet): string | undefined {
    const id = record.setIdentifier;
    const label = `[name='${record.name}', type='${record.type}'${id === undefined ? '' : `, set-identifier='${id}'`}]`;
    const zone = normalizeName(this.zoneName);
    if (!isInZone(record.name, zone))
      return `RRSet with DNS name ${record.name} is not permitted in zone ${zone}`;
    const current = this.sets.get(keyOf(record));
    if (action === 'DELETE') {
      if (!current) return `Tried to delete resource record set ${label} but it was not found`;
      if (
        current.ttl !== record.ttl ||
        !sameValues(current.values, record.values) ||
        !!current.alias !== !!record.alias ||
        current.weight !== record.weight
      ) {
        return `Tried to delete resource record set ${label} but the values provided do not match the current values`;
      }
      return undefined;
    }
    const problem = recordProblem(record);
    if (problem) return problem;
    if (action === 'CREATE' && current) {
      return `Tried to create resource record set ${label} but it already exists`;
    }
    return this.nameConflict(record, zone);
  }

  /** Simple vs routing-policy sets, and CNAME next to anything else, at the record's name. */
  private nameConflict(record: RecordSet, zone: string): string | undefined {
    const id = record.setIdentifier;
    const here = this.at(record.name);
    const sameType = here.filter((r) => r.type === record.type && keyOf(r) !== keyOf(record));
    if (sameType.some((r) => (r.setIdentifier === undefined) !== (id === undefined))) {
      // a name and type hold either one simple set or routing-policy sets, never both
      return `RRSet with DNS name ${record.name}, type ${record.type}${id === undefined ? '' : `, SetIdentifier ${id}`} cannot be created as a ${id === undefined ? 'routing-policy' : 'non-routing-policy'} set exists with the same name and type.`;
    }
    const others = here.filter((r) => r.type !== record.type);
    if (record.type === 'CNAME' && others.length > 0) {
      return `RRSet of type CNAME with DNS name ${record.name} is not permitted as it conflicts with other records with the same DNS name in zone ${zone}`;
    }
    if (others.some((r) => r.type === 'CNAME')) {
      return `RRSet of type ${record.type} with DNS name ${record.name} is not permitted because a conflicting RRSet of type CNAME with the same DNS name already exists in zone ${zone}`;
    }
    return undefined;
  }
}

function clone(r: RecordSet): RecordSet {
  return { ...r, values: [...r.values] };
}
