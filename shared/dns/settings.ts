import type { IamGrant } from '../kernel/definition';
import { AUDIT_TABLE_SETTING, type SettingsOf, setting } from '../kernel/settings';
import { OWNER_ID_PATTERN } from './marker';
import type { DnsOptIn } from './opt-in';
import type { DnsPlanConfig } from './planner';

/**
 * The settings dns-sync and dns-reconcile share (the DnsSync construct gives both the same
 * environment), declared once; each function adds its own.
 */
export const DNS_SETTINGS = {
  auditTable: AUDIT_TABLE_SETTING,
  hostedZoneId: setting.string('HOSTED_ZONE_ID', {
    doc: 'Route 53 hosted zone the A records and their TXT ownership markers go to.',
  }),
  zoneName: setting.string('ZONE_NAME', { doc: 'Name of that zone; names outside it are refused.' }),
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

/** What the planners need from the settings. */
export function planConfigOf(s: DnsSettings): DnsPlanConfig {
  return {
    zoneName: s.zoneName,
    reverseZoneName: s.reverseZoneId ? s.reverseZoneName : undefined,
    ownerId: s.ownerId,
    ttl: s.ttl,
    publishPublicIp: s.publishPublicIp,
  };
}

/** The hosted zones written: the forward zone, and the reverse zone when configured. */
export function zonesOf(s: DnsSettings): { forward: string; reverse?: string | undefined } {
  return { forward: s.hostedZoneId, reverse: s.reverseZoneId };
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

function zonesWritten(s: DnsSettings): { id: string; name: string; types: string[] }[] {
  return [
    { id: s.hostedZoneId, name: bare(s.zoneName), types: ['A', 'TXT'] },
    ...(s.reverseZoneId && s.reverseZoneName
      ? [{ id: s.reverseZoneId, name: bare(s.reverseZoneName), types: ['PTR', 'TXT'] }]
      : []),
  ];
}

/**
 * ChangeResourceRecordSets per zone, limited to names inside the zone, to the zone's record types
 * and to CREATE/DELETE (what the DnsSync construct grants both functions).
 */
export function route53ChangeGrants(s: DnsSettings): IamGrant[] {
  return zonesWritten(s).map((zone) => ({
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
  }));
}

/** The reads: the zones' record sets, and DescribeInstances (no resource-level permissions: "*"). */
export function dnsReads(s: DnsSettings): IamGrant[] {
  return [
    { actions: ['route53:ListResourceRecordSets'], resources: zonesWritten(s).map((z) => zoneArn(z.id)) },
    { actions: ['ec2:DescribeInstances'], resources: ['*'] },
  ];
}
