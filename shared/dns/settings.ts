import { ConfigError } from '../core/errors';
import type { IamGrant } from '../kernel/definition';
import { AUDIT_TABLE_SETTING, type SettingsOf, setting } from '../kernel/settings';
import { OWNER_ID_PATTERN } from './marker';
import type { DnsOptIn } from './opt-in';
import type { ZonesPlanConfig } from './planner';
import { type DnsZone, parseZonesSetting, ZoneSet } from './zone-set';

/**
 * The settings dns-sync and dns-reconcile share (the DnsSync construct gives both the same
 * environment), declared once; each function adds its own.
 */
export const DNS_SETTINGS = {
  auditTable: AUDIT_TABLE_SETTING,
  /**
   * One zone (and a reverse zone): HOSTED_ZONE_ID, ZONE_NAME, REVERSE_ZONE_*, PUBLISH_PUBLIC_IP, as
   * before issue 16, so a single-zone fleet's environment is unchanged. Several zones: ZONES alone.
   */
  hostedZoneId: setting.optional(
    setting.string('HOSTED_ZONE_ID', {
      doc: 'Route 53 hosted zone the A records and their TXT ownership markers go to (one zone; else ZONES).',
    }),
  ),
  zoneName: setting.optional(
    setting.string('ZONE_NAME', { doc: 'Name of that zone; names outside it are refused.' }),
  ),
  zones: setting.optional(
    setting.string('ZONES', {
      doc: 'Several zones, as a JSON list of {id, name, view?, account?} (instead of HOSTED_ZONE_ID and the rest).',
    }),
  ),
  dnsRoleName: setting.optional(
    setting.string('DNS_ROLE_NAME', {
      doc: "Role assumed in a zone's own account for its Route 53 calls (fleetwarden-dns-<fleetId>).",
    }),
  ),
  reverseZoneId: setting.optional(
    setting.string('REVERSE_ZONE_ID', { doc: 'Reverse zone for PTR records (with REVERSE_ZONE_NAME).' }),
  ),
  reverseZoneName: setting.optional(
    setting.string('REVERSE_ZONE_NAME', { doc: 'Name of the reverse zone (ends in .in-addr.arpa).' }),
  ),
  nameTag: setting.string('NAME_TAG', {
    doc: 'Instance tag whose value names the record (untagged fleet instances are named by their id).',
    default: 'fleetwarden:dns-name',
    // an EC2 tag key
    pattern: /^.{1,128}$/su,
    bounds: '1-128 characters',
  }),
  /** Same bounds as the DnsSync construct's `ttl` prop. */
  ttl: setting.seconds('RECORD_TTL', { doc: 'TTL of the records.', default: 60, min: 1, max: 86_400 }),
  publishPublicIp: setting.boolean('PUBLISH_PUBLIC_IP', {
    doc: "The A record holds the instance's public IP (never the private one as a fallback).",
    default: false,
  }),
  /** Same characters as the DnsSync construct's `ownerId` prop (what a marker can carry). */
  ownerId: setting.string('OWNER_ID', {
    doc: 'Owner id in the ownership markers: only records whose marker carries it are touched.',
    default: 'fleetwarden',
    pattern: OWNER_ID_PATTERN,
    bounds: '1-100 letters, digits, ".", "_" or "-"',
  }),
  dryRun: setting.boolean('DRY_RUN', {
    doc: 'Plan and audit, but write nothing to Route 53.',
    default: false,
  }),
  fleetTagKey: setting.optional(
    setting.string('FLEET_TAG_KEY', { doc: 'Instances with this tag (and FLEET_TAG_VALUE) opt in to DNS.' }),
  ),
  fleetTagValue: setting.optional(
    setting.string('FLEET_TAG_VALUE', { doc: 'Value of the fleet tag that opts an instance in.' }),
  ),
  autoScalingGroupNames: setting.list('AUTO_SCALING_GROUP_NAMES', {
    doc: 'Auto Scaling groups whose instances opt in to DNS.',
    default: [],
  }),
};

export type DnsSettings = SettingsOf<typeof DNS_SETTINGS>;

const zoneSets = new WeakMap<object, ZoneSet>();

/** The shorthand settings set next to ZONES (an error names each). */
function shorthandSet(s: DnsSettings): string[] {
  return [
    ...(s.hostedZoneId ? ['HOSTED_ZONE_ID'] : []),
    ...(s.zoneName ? ['ZONE_NAME'] : []),
    ...(s.reverseZoneId ? ['REVERSE_ZONE_ID'] : []),
    ...(s.reverseZoneName ? ['REVERSE_ZONE_NAME'] : []),
    ...(s.publishPublicIp ? ['PUBLISH_PUBLIC_IP'] : []),
  ];
}

function readZoneSet(s: DnsSettings): ZoneSet {
  if (s.zones) {
    const both = shorthandSet(s);
    if (both.length > 0) {
      throw new ConfigError(`ZONES and ${both.join(', ')} are both set: name the zones in ZONES only`);
    }
    return parseZonesSetting(s.zones);
  }
  if (!s.hostedZoneId || !s.zoneName) {
    throw new ConfigError('no zone: set HOSTED_ZONE_ID and ZONE_NAME (one zone) or ZONES (several)');
  }
  return ZoneSet.of([
    { id: s.hostedZoneId, name: s.zoneName, view: s.publishPublicIp ? 'public' : 'private' },
    ...(s.reverseZoneId && s.reverseZoneName ? [{ id: s.reverseZoneId, name: s.reverseZoneName }] : []),
  ]);
}

/** The zones written: ZONES, or the shorthand's forward zone (and reverse zone). Read once per settings. */
export function zoneSetOfSettings(s: DnsSettings): ZoneSet {
  let set = zoneSets.get(s);
  if (!set) {
    set = readZoneSet(s);
    zoneSets.set(s, set);
  }
  return set;
}

/** What the planners need from the settings. */
export function planConfigOf(s: DnsSettings): ZonesPlanConfig {
  return { zones: zoneSetOfSettings(s), ownerId: s.ownerId, ttl: s.ttl };
}

/** The first forward zone's name (bare): the subject of a batch's or a run's record. */
export function primaryZoneName(s: DnsSettings): string {
  return zoneSetOfSettings(s).primary.name.slice(0, -1);
}

/** The name of the DNS role a zone's own account holds for the fleet. */
export function dnsRoleName(fleetId: string): string {
  return `fleetwarden-dns-${fleetId}`;
}

/** The role that a zone's Route 53 calls go through, when it lives in another account. */
export function dnsRoleArnOf(
  zone: DnsZone,
  roleName: string | undefined,
  partition = '${AWS::Partition}',
): string {
  if (!roleName) {
    throw new ConfigError(
      `zone ${zone.id} lives in account ${zone.account}: DNS_ROLE_NAME must name the role there`,
    );
  }
  return `arn:${partition}:iam::${zone.account}:role/${roleName}`;
}

/** The DNS roles assumed: one per account holding a zone (sorted). */
export function dnsRoleArns(s: DnsSettings): string[] {
  const remote = zoneSetOfSettings(s).zones.filter((z) => z.account);
  const byAccount = new Map(remote.map((z) => [z.account, z]));
  return [...byAccount.values()].map((z) => dnsRoleArnOf(z, s.dnsRoleName)).sort();
}

/** Who opts in to DNS besides the name tag: the fleet tag and the configured Auto Scaling groups. */
export function optInOf(s: DnsSettings): Omit<DnsOptIn, 'nameTag'> {
  return {
    ...(s.fleetTagKey && s.fleetTagValue ? { fleetTag: { key: s.fleetTagKey, value: s.fleetTagValue } } : {}),
    autoScalingGroupNames: s.autoScalingGroupNames,
  };
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, '');
const zoneArn = (zoneId: string) => `arn:\${AWS::Partition}:route53:::hostedzone/${zoneId}`;

export interface WrittenZone {
  id: string;
  /** Bare (no trailing dot). */
  name: string;
  types: string[];
}

/** A zone's record types: A and TXT forward, PTR and TXT reverse. */
export function writtenZone(zone: DnsZone): WrittenZone {
  return { id: zone.id, name: bare(zone.name), types: zone.reverse ? ['PTR', 'TXT'] : ['A', 'TXT'] };
}

/** The zones this account writes itself (a zone of another account: through its DNS role). */
function zonesWritten(s: DnsSettings): WrittenZone[] {
  return zoneSetOfSettings(s)
    .zones.filter((z) => !z.account)
    .map(writtenZone);
}

/** ChangeResourceRecordSets on `zone`: names inside it, its record types, CREATE/DELETE only. */
export function route53ChangeGrant(zone: WrittenZone): IamGrant {
  return {
    actions: ['route53:ChangeResourceRecordSets'],
    resources: [zoneArn(zone.id)],
    conditions: {
      'ForAllValues:StringLike': {
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.${zone.name}`],
      },
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsRecordTypes': zone.types,
        'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
      },
    },
  };
}

/**
 * ChangeResourceRecordSets per zone, limited to names inside the zone, to the zone's record types
 * and to CREATE/DELETE (what the DnsSync construct grants both functions). A zone of another
 * account is changed by the DNS role there (FleetwardenDnsRole grants the same), not by this role.
 */
export function route53ChangeGrants(s: DnsSettings): IamGrant[] {
  return zonesWritten(s).map(route53ChangeGrant);
}

/**
 * The reads: the zones' record sets, DescribeInstances (no resource-level permissions: "*"), and
 * sts:AssumeRole on exactly the DNS roles of the accounts holding zones.
 */
export function dnsReads(s: DnsSettings): IamGrant[] {
  const roles = dnsRoleArns(s);
  return [
    { actions: ['route53:ListResourceRecordSets'], resources: zonesWritten(s).map((z) => zoneArn(z.id)) },
    { actions: ['ec2:DescribeInstances'], resources: ['*'] },
    ...(roles.length > 0 ? [{ actions: ['sts:AssumeRole'], resources: roles }] : []),
  ];
}
