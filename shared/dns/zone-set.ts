import '../core/zod-locale';
import * as z from 'zod/mini';
import { ConfigError } from '../core/errors';
import { isInZone, normalizeName, type ResolvedName, resolveRecordName } from './names';

/**
 * The zones DNS sync writes to (issue 16): forward zones (A records and their markers) and reverse
 * zones (`*.in-addr.arpa`, PTR records). A forward record goes to every forward zone whose name is
 * the longest suffix of the record name: one zone, or both views of a split horizon (the same name
 * in a `public` zone, A = public IP, and a `private` one, A = private IP). A PTR goes to the
 * longest-suffix reverse zone. Pure: no SDK, the planner and the settings share it.
 */
export type ZoneView = 'private' | 'public';

/** A zone as configured (`zones` config key, ZONES setting). */
export interface DnsZoneInput {
  /** Route 53 hosted zone id. */
  id: string;
  /** The zone's DNS name. */
  name: string;
  /** Which address the A records hold: the private IP (default) or the public IP. */
  view?: ZoneView | undefined;
  /** The zone lives in this (network) account: its calls go through the fleet's DNS role there. */
  account?: string | undefined;
}

export interface DnsZone {
  id: string;
  /** Lowercase, with a trailing dot. */
  name: string;
  view: ZoneView;
  /** A reverse (in-addr.arpa) zone. */
  reverse: boolean;
  account?: string | undefined;
  /** The view was set explicitly (a split horizon needs both). */
  explicitView: boolean;
}

const REVERSE = /(^|\.)in-addr\.arpa\.$/;
const labels = (name: string) => name.split('.').length;

/** Why a list of zones cannot be routed (empty when it can). */
export function zoneSetProblems(zones: readonly DnsZoneInput[]): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  const byName = new Map<string, DnsZoneInput>();
  for (const z of zones) {
    if (ids.has(z.id)) problems.push(`zone id ${z.id} is listed twice`);
    ids.add(z.id);
    const name = normalizeName(z.name);
    const other = byName.get(name);
    if (!other) {
      byName.set(name, z);
      continue;
    }
    const distinct = other.view !== undefined && z.view !== undefined && other.view !== z.view;
    if (!distinct || REVERSE.test(name)) {
      problems.push(
        `zones ${other.id} and ${z.id} are both named ${name.slice(0, -1)}: a split horizon needs view "public" on one and "private" on the other`,
      );
    }
  }
  if (!zones.some((z) => !REVERSE.test(normalizeName(z.name)))) {
    problems.push('no forward zone: name at least one zone that is not *.in-addr.arpa');
  }
  return problems;
}

/** Longest-suffix zones of `name` among `zones` (all of them sharing that name). */
function longest(zones: readonly DnsZone[], name: string): DnsZone[] {
  const fits = zones.filter((z) => isInZone(name, z.name));
  const most = Math.max(0, ...fits.map((z) => labels(z.name)));
  return fits.filter((z) => labels(z.name) === most);
}

export type ResolvedInZones = (ResolvedName & { ok: false }) | { ok: true; fqdn: string; zones: DnsZone[] };

export class ZoneSet {
  readonly forward: readonly DnsZone[];
  readonly reverse: readonly DnsZone[];

  private constructor(readonly zones: readonly DnsZone[]) {
    this.forward = zones.filter((z) => !z.reverse);
    this.reverse = zones.filter((z) => z.reverse);
  }

  /** The set of `zones`; throws ConfigError when zoneSetProblems finds any. */
  static of(zones: readonly DnsZoneInput[]): ZoneSet {
    const problems = zoneSetProblems(zones);
    if (problems.length > 0) throw new ConfigError(`invalid zones: ${problems.join('; ')}`);
    return new ZoneSet(
      zones.map((z) => {
        const name = normalizeName(z.name);
        return {
          id: z.id,
          name,
          view: z.view ?? 'private',
          reverse: REVERSE.test(name),
          explicitView: z.view !== undefined,
          ...(z.account ? { account: z.account } : {}),
        };
      }),
    );
  }

  /** The zones as configured (normalized names, explicit views only). */
  inputs(): DnsZoneInput[] {
    return this.zones.map((z) => ({
      id: z.id,
      name: z.name.slice(0, -1),
      ...(z.explicitView ? { view: z.view } : {}),
      ...(z.account ? { account: z.account } : {}),
    }));
  }

  byId(id: string): DnsZone | undefined {
    return this.zones.find((z) => z.id === id);
  }

  /** The first forward zone: a one-label name and an untagged instance's id name go there. */
  get primary(): DnsZone {
    return this.forward[0] as DnsZone;
  }

  /** Every forward zone whose name is the longest suffix of `name` (one per view). */
  forwardZonesFor(name: string): DnsZone[] {
    return longest(this.forward, normalizeName(name));
  }

  /** The forward zone of `view` a name routes to (the longest suffix among that view's zones). */
  forwardZoneIn(view: ZoneView, name: string): DnsZone | undefined {
    return longest(
      this.forward.filter((z) => z.view === view),
      normalizeName(name),
    )[0];
  }

  /** The longest-suffix reverse zone of a PTR name (never for the zone's own apex). */
  reverseZoneFor(ptrName: string): DnsZone | undefined {
    const name = normalizeName(ptrName);
    return longest(
      this.reverse.filter((z) => z.name !== name),
      name,
    )[0];
  }

  /** The views the forward zones have, in config order. */
  views(): ZoneView[] {
    return [...new Set(this.forward.map((z) => z.view))];
  }

  /**
   * A tag value's FQDN and the zones it goes to: one label is relative to the first forward zone, a
   * longer name goes to its longest-suffix zones; outside every forward zone it is refused.
   */
  resolve(raw: string): ResolvedInZones {
    const value = raw.trim().toLowerCase();
    const dotted = value.replace(/\.$/, '').includes('.');
    const zone = dotted ? this.forwardZonesFor(value)[0] : this.primary;
    if (!zone) {
      const names = this.forward.map((z) => z.name);
      const r = resolveRecordName(raw, this.primary.name);
      if (!r.ok && r.reason !== 'outside-zone') return r;
      return {
        ok: false,
        reason: 'outside-zone',
        message: `name ${JSON.stringify(raw)} refused: not inside any configured zone (${[...new Set(names)].join(', ')})`,
      };
    }
    const r = resolveRecordName(raw, zone.name);
    return r.ok ? { ok: true, fqdn: r.fqdn, zones: this.forwardZonesFor(r.fqdn) } : r;
  }
}

const ZoneInputSchema = z.strictObject({
  id: z.string().check(z.minLength(1)),
  name: z.string().check(z.minLength(1)),
  view: z.optional(z.enum(['private', 'public'])),
  account: z.optional(z.string().check(z.regex(/^\d{12}$/))),
});

/** The ZONES setting's value: the zones as compact JSON (no spaces: Lambda's 4 KB of environment). */
export function zonesSettingValue(zones: readonly DnsZoneInput[]): string {
  return JSON.stringify(zones.map((z) => ZoneInputSchema.parse(z)));
}

/** Read the ZONES setting (throws ConfigError naming it when it is not a valid zone list). */
export function parseZonesSetting(value: string): ZoneSet {
  let parsed: DnsZoneInput[];
  try {
    parsed = z.array(ZoneInputSchema).check(z.minLength(1)).parse(JSON.parse(value));
  } catch (err) {
    throw new ConfigError(`ZONES is not a JSON list of {id, name, view?, account?}: ${value}`, {
      cause: err,
    });
  }
  return ZoneSet.of(parsed);
}
