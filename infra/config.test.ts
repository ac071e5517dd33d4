import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from './config';

const valid = {
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'fleet.example.internal',
  autoScalingGroupNames: ['ci-runners'],
  github: { owner: 'acme' },
};

describe('fleet configuration (cdk.json context "fleetwarden")', () => {
  it('fills safe defaults', () => {
    expect(parseFleetConfig(valid)).toEqual({
      ...valid,
      dnsNameTag: 'fleetwarden:dns-name',
      recordTtl: 60,
      publishPublicIp: false,
      fleetTag: { key: 'fleetwarden:fleet', value: 'runners' },
      dryRun: true,
      maxRemovalShare: 0.2,
      maxRemovalsPerRun: 100,
      allowTerminate: false,
      auditRetentionDays: 400,
      logRetentionDays: 90,
    });
  });

  it('normalises the zone name', () => {
    expect(parseFleetConfig({ ...valid, zoneName: 'Fleet.Example.Internal.' }).zoneName).toBe(
      'fleet.example.internal',
    );
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['a missing context', {}, /fleetwarden\.hostedZoneId: .*got <unset>/],
    ['a malformed zone id', { hostedZoneId: 'zone-1' }, /fleetwarden\.hostedZoneId: .*got "zone-1"/],
    ['a bad zone name', { zoneName: 'bad_zone..com' }, /fleetwarden\.zoneName: .*got "bad_zone\.\.com"/],
    ['a TTL of 0', { recordTtl: 0 }, /fleetwarden\.recordTtl: .*got 0/],
    ['a removal share above 1', { maxRemovalShare: 1.5 }, /fleetwarden\.maxRemovalShare: .*got 1\.5/],
    ['a removal cap of 0', { maxRemovalsPerRun: 0 }, /fleetwarden\.maxRemovalsPerRun: .*got 0/],
    [
      'an ASG name with a slash',
      { autoScalingGroupNames: ['a/b'] },
      /fleetwarden\.autoScalingGroupNames\.0: .*got "a\/b"/,
    ],
    ['a bad alarm email', { alarmEmail: 'oncall' }, /fleetwarden\.alarmEmail: .*got "oncall"/],
    [
      'a log retention CloudWatch does not offer',
      { logRetentionDays: 10 },
      /fleetwarden\.logRetentionDays: .*got 10/,
    ],
    [
      'a reverse zone id without its name',
      { reverseZoneId: 'Z0REVERSE' },
      /fleetwarden\.reverseZoneName: reverseZoneId and reverseZoneName go together.*got <unset>/,
    ],
    [
      'a reverse zone name outside in-addr.arpa',
      { reverseZoneId: 'Z0REVERSE', reverseZoneName: 'example.com' },
      /fleetwarden\.reverseZoneName: must end in \.in-addr\.arpa, got "example\.com"/,
    ],
    ['a string where a boolean belongs', { dryRun: 'false' }, /fleetwarden\.dryRun: .*got "false"/],
  ];
  it.each(bad)('refuses %s, showing the value', (_name, patch, message) => {
    const input = _name === 'a missing context' ? {} : { ...valid, ...patch };
    expect(() => parseFleetConfig(input)).toThrow(message);
  });

  it('lists every problem at once', () => {
    expect(() => parseFleetConfig({ ...valid, recordTtl: -1, dryRun: 'no' })).toThrow(
      /recordTtl.*\n.*dryRun|dryRun.*\n.*recordTtl/s,
    );
  });
});
