import { z } from 'zod';
import { type DnsZoneInput, zoneSetProblems } from '../shared/dns/zone-set';

/**
 * The zones part of the fleet configuration (issue 16), kept out of config.ts: the `zones` key, the
 * rule that it replaces the single-zone shorthand (hostedZoneId, zoneName, reverseZoneId,
 * reverseZoneName, publishPublicIp), and the shorthand normalised into the list.
 */
const ZONE_ID = /^Z[A-Z0-9]{1,32}$/;

/** A DNS name, lower-cased without its root dot (the config's and the zones'). */
export const dnsName = z
  .string()
  .transform((v) => v.toLowerCase().replace(/\.$/, ''))
  .pipe(
    z
      .string()
      .max(253)
      .regex(
        /^(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$/,
        'must be a DNS name like fleet.example.com',
      ),
  );

/** One zone of `zones`. */
export const ZoneConfigSchema = z.strictObject({
  /** Route 53 hosted zone id. */
  id: z.string().regex(ZONE_ID, 'must be a Route 53 hosted zone id like Z0123456789ABC'),
  /** The zone's DNS name (`*.in-addr.arpa`: a reverse zone for PTR records). */
  name: dnsName,
  /** `public`: A = the public IP (no record without one); `private` (default): A = the private IP. */
  view: z.enum(['private', 'public']).optional(),
  /** The zone lives in this (network) account: calls go through its `fleetwarden-dns-<fleetId>` role. */
  account: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
});

export const ZonesSchema = z.array(ZoneConfigSchema).min(1, 'must name at least 1 zone');

export type ZoneConfig = z.infer<typeof ZoneConfigSchema>;

/** The shorthand keys `zones` replaces. */
export const ZONE_SHORTHAND_KEYS = [
  'hostedZoneId',
  'zoneName',
  'reverseZoneId',
  'reverseZoneName',
  'publishPublicIp',
] as const;

interface Shorthand {
  hostedZoneId?: string | undefined;
  zoneName?: string | undefined;
  reverseZoneId?: string | undefined;
  reverseZoneName?: string | undefined;
  publishPublicIp?: boolean | undefined;
  zones?: ZoneConfig[] | undefined;
}

/** A problem of the zones part: the config path and what is wrong (the caller shows the value). */
export interface ZonesProblem {
  path: string[];
  message: string;
}

/**
 * What the schema alone cannot say, read from the config as given (a default must not count as
 * set): `zones` with a shorthand key, neither, or a list that cannot be routed.
 */
export function zonesConfigProblems(input: unknown): ZonesProblem[] {
  const given = (input ?? {}) as Record<string, unknown>;
  // publishPublicIp: false is the default (a parsed config handed back, as FleetStack does): unset
  const shorthand = ZONE_SHORTHAND_KEYS.filter(
    (k) => given[k] !== undefined && !(k === 'publishPublicIp' && given[k] === false),
  );
  if (given.zones === undefined) {
    return (['hostedZoneId', 'zoneName'] as const)
      .filter((k) => given[k] === undefined)
      .map((k) => ({ path: [k], message: 'required unless zones is set' }));
  }
  if (shorthand.length > 0) {
    return [
      {
        path: ['zones'],
        message: `zones and ${shorthand.join(', ')} are both set: use one or the other (zones names every zone, its view replaces publishPublicIp)`,
      },
    ];
  }
  const zones = ZonesSchema.safeParse(given.zones);
  if (!zones.success) return [];
  return zoneSetProblems(zones.data).map((message) => ({ path: ['zones'], message }));
}

/** The zones of a parsed config: `zones`, or the shorthand normalised into the list. */
export function zonesOfConfig(config: Shorthand): DnsZoneInput[] {
  if (config.zones) return config.zones.map((z) => ({ ...z }));
  const view = config.publishPublicIp ? 'public' : 'private';
  return [
    { id: config.hostedZoneId as string, name: config.zoneName as string, view },
    ...(config.reverseZoneId && config.reverseZoneName
      ? [{ id: config.reverseZoneId, name: config.reverseZoneName }]
      : []),
  ];
}
