import { describe, expect, it } from 'vitest';
import { readSettings } from '../kernel/settings';
import { DNS_SETTINGS, dnsReads, dnsRoleArns, route53ChangeGrants, zoneSetOfSettings } from './settings';
import { zonesSettingValue } from './zone-set';

const zoneArn = (id: string) => `arn:\${AWS::Partition}:route53:::hostedzone/${id}`;
const ROLE = `arn:\${AWS::Partition}:iam::222222222222:role/fleetwarden-dns-fleet1`;
const read = (env: Record<string, string>) => readSettings(DNS_SETTINGS, { AUDIT_TABLE_NAME: 't', ...env });
const SPLIT = zonesSettingValue([
  { id: 'ZPUB', name: 'example.com', view: 'public' },
  { id: 'ZPRIV', name: 'example.com', view: 'private' },
  { id: 'ZNET', name: 'corp.example.com', account: '222222222222' },
  { id: 'ZREV', name: '10.in-addr.arpa' },
]);

describe('the zone set of the DNS settings', () => {
  it('is the shorthand: HOSTED_ZONE_ID/ZONE_NAME (PUBLISH_PUBLIC_IP = its view) and the reverse zone', () => {
    const s = read({
      HOSTED_ZONE_ID: 'ZFWD',
      ZONE_NAME: 'example.com',
      REVERSE_ZONE_ID: 'ZREV',
      REVERSE_ZONE_NAME: '10.in-addr.arpa',
      PUBLISH_PUBLIC_IP: 'true',
    });
    expect(zoneSetOfSettings(s).inputs()).toEqual([
      { id: 'ZFWD', name: 'example.com', view: 'public' },
      { id: 'ZREV', name: '10.in-addr.arpa' },
    ]);
  });

  it('is ZONES when set; ZONES with a shorthand setting is refused naming both', () => {
    expect(zoneSetOfSettings(read({ ZONES: SPLIT })).forward.map((z) => z.id)).toEqual([
      'ZPUB',
      'ZPRIV',
      'ZNET',
    ]);
    expect(() => zoneSetOfSettings(read({ ZONES: SPLIT, HOSTED_ZONE_ID: 'Z1' }))).toThrow(
      /ZONES and HOSTED_ZONE_ID/,
    );
    expect(() => zoneSetOfSettings(read({ ZONE_NAME: 'example.com' }))).toThrow(/HOSTED_ZONE_ID/);
  });
});

describe('the DNS grants per zone', () => {
  const s = read({ ZONES: SPLIT, DNS_ROLE_NAME: 'fleetwarden-dns-fleet1' });

  it('lets each local zone change only names inside it, its view types, CREATE/DELETE', () => {
    const grants = route53ChangeGrants(s);
    expect(grants.map((g) => [g.resources, g.conditions?.['ForAllValues:StringLike']])).toEqual([
      [[zoneArn('ZPUB')], { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.example.com'] }],
      [[zoneArn('ZPRIV')], { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.example.com'] }],
      [[zoneArn('ZREV')], { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.10.in-addr.arpa'] }],
    ]);
    expect(grants[2]?.conditions?.['ForAllValues:StringEquals']).toEqual({
      'route53:ChangeResourceRecordSetsRecordTypes': ['PTR', 'TXT'],
      'route53:ChangeResourceRecordSetsActions': ['CREATE', 'DELETE'],
    });
  });

  it('reaches a zone of another account only through the DNS role there (sts:AssumeRole on that ARN)', () => {
    expect(dnsRoleArns(s)).toEqual([ROLE]);
    expect(dnsReads(s)).toEqual([
      {
        actions: ['route53:ListResourceRecordSets'],
        resources: ['ZPUB', 'ZPRIV', 'ZREV'].map(zoneArn),
      },
      { actions: ['ec2:DescribeInstances'], resources: ['*'] },
      {
        actions: ['sts:AssumeRole'],
        resources: [ROLE],
      },
    ]);
    expect(() => dnsRoleArns(read({ ZONES: SPLIT }))).toThrow(/DNS_ROLE_NAME/);
  });
});
