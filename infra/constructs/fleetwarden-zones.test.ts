import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { pinnedShape, SHORTHAND } from './zones-pin.test-helpers';

const before = JSON.parse(
  readFileSync(new URL('./test-fixtures/zones-shorthand.json', import.meta.url), 'utf8'),
) as unknown;
const { hostedZoneId, zoneName, reverseZoneId, reverseZoneName, publishPublicIp, ...rest } = SHORTHAND;

describe('several zones (issue 16): the single-zone shorthand deploys what it deployed before', () => {
  it('keeps every logical id, environment and policy of the template from before `zones`', () => {
    // test-fixtures/zones-shorthand.json: pinnedShape(SHORTHAND) synthesized at 48f47aa, plus
    // dns-reconcile's SCHEDULE_SECONDS (issue 15: it reads the zone only when drift is possible)
    // and, at stop 21 (issue 15): runner-drain's 1-minute look (a rule, Auto Scaling and drain-state
    // reads), dns-reconcile's evidence reads (audit byInstance Query, CloudTrail, DNS_WRITER_ROLE_ARNS);
    // at stop 23: the look's DescribeWarmPool (a scale-in back into the warm pool waits there)
    expect(pinnedShape(SHORTHAND)).toEqual(before);
  });

  it('deploys the same template for `zones` naming the same two zones', () => {
    const zones = [
      {
        id: hostedZoneId,
        name: zoneName,
        view: publishPublicIp ? ('public' as const) : ('private' as const),
      },
      { id: reverseZoneId, name: reverseZoneName },
    ];
    expect(pinnedShape({ ...rest, zones })).toEqual(before);
  });

  it('deploys ZONES, the grants per zone and the DNS role to assume for several zones', () => {
    const shape = pinnedShape({
      ...rest,
      zones: [
        { id: 'Z0PUBLIC00001', name: 'fleet.example.com', view: 'public' },
        { id: 'Z0PRIVATE0001', name: 'fleet.example.com', view: 'private' },
        { id: 'Z0NETWORK0001', name: 'corp.example.com', account: '222222222222' },
      ],
      fleetId: 'fleet1',
    });
    const env = Object.entries(shape.environments).find(([id]) =>
      id.includes('DnsSyncFunction'),
    )?.[1] as Record<string, string>;
    expect(env.ZONES).toBe(
      '[{"id":"Z0PUBLIC00001","name":"fleet.example.com","view":"public"},{"id":"Z0PRIVATE0001","name":"fleet.example.com","view":"private"},{"id":"Z0NETWORK0001","name":"corp.example.com","account":"222222222222"}]',
    );
    expect(env.DNS_ROLE_NAME).toBe('fleetwarden-dns-fleet1');
    expect(env.HOSTED_ZONE_ID).toBeUndefined();
    expect(env.PUBLISH_PUBLIC_IP).toBeUndefined();
    const policy = JSON.stringify(
      Object.entries(shape.policies).find(([id]) => id.includes('DnsSyncFunction'))?.[1],
    );
    expect(policy).toContain('hostedzone/Z0PUBLIC00001');
    expect(policy).toContain('hostedzone/Z0PRIVATE0001');
    expect(policy).not.toContain('hostedzone/Z0NETWORK0001');
    expect(policy).toContain(':iam::222222222222:role/fleetwarden-dns-fleet1');
  });
});
