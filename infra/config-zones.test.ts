import { describe, expect, it } from 'vitest';
import { parseFleetConfig, refuseExampleConfig } from './config';
import { zonesOfConfig } from './config-zones';

const base = { autoScalingGroupNames: ['ci-runners'], github: { owner: 'acme' } };
const shorthand = { ...base, hostedZoneId: 'Z0123456789ABC', zoneName: 'fleet.example.com' };
const zones = [
  { id: 'Z0PUBLIC00001', name: 'Fleet.Example.com.', view: 'public' },
  { id: 'Z0PRIVATE0001', name: 'fleet.example.com', view: 'private' },
  { id: 'Z0REVERSE0001', name: '10.in-addr.arpa', account: '222222222222' },
];

describe('fleet configuration: zones (issue 16)', () => {
  it('normalises the shorthand into the list of zones (its view from publishPublicIp)', () => {
    expect(zonesOfConfig(parseFleetConfig(shorthand))).toEqual([
      { id: 'Z0123456789ABC', name: 'fleet.example.com', view: 'private' },
    ]);
    const both = parseFleetConfig({
      ...shorthand,
      publishPublicIp: true,
      reverseZoneId: 'Z0REVERSE0001',
      reverseZoneName: '10.in-addr.arpa',
    });
    expect(zonesOfConfig(both)).toEqual([
      { id: 'Z0123456789ABC', name: 'fleet.example.com', view: 'public' },
      { id: 'Z0REVERSE0001', name: '10.in-addr.arpa' },
    ]);
  });

  it('accepts a list of zones, names normalised', () => {
    expect(zonesOfConfig(parseFleetConfig({ ...base, zones }))).toEqual([
      { id: 'Z0PUBLIC00001', name: 'fleet.example.com', view: 'public' },
      { id: 'Z0PRIVATE0001', name: 'fleet.example.com', view: 'private' },
      { id: 'Z0REVERSE0001', name: '10.in-addr.arpa', account: '222222222222' },
    ]);
  });

  it.each([
    ['hostedZoneId', { hostedZoneId: 'Z0123456789ABC' }],
    ['publishPublicIp', { publishPublicIp: true }],
    ['reverseZoneId', { reverseZoneId: 'Z0REVERSE0001', reverseZoneName: '10.in-addr.arpa' }],
  ])('refuses zones together with %s, naming both', (key, extra) => {
    expect(() => parseFleetConfig({ ...base, zones, ...extra })).toThrow(
      new RegExp(`fleetwarden\\.zones: zones and ${key}.* are both set: .*got \\[`),
    );
  });

  it('refuses a same-named pair without explicit distinct views, and shows the bad values', () => {
    const twins = [
      { id: 'Z0A', name: 'fleet.example.com' },
      { id: 'Z0B', name: 'fleet.example.com', view: 'public' },
    ];
    expect(() => parseFleetConfig({ ...base, zones: twins })).toThrow(
      /fleetwarden\.zones: zones Z0A and Z0B are both named fleet\.example\.com: a split horizon needs view "public" on one and "private" on the other, got \[\{"id":"Z0A"/,
    );
    expect(() => parseFleetConfig({ ...base, zones: [{ id: 'Z0A', name: 'a.com', account: '12' }] })).toThrow(
      /fleetwarden\.zones\.0\.account: must be a 12-digit AWS account id, got "12"/,
    );
    expect(() => parseFleetConfig({ ...base, zones: [{ id: 'Z0A', name: 'a.com', view: 'dmz' }] })).toThrow(
      /fleetwarden\.zones\.0\.view: .*got "dmz"/,
    );
    expect(() => parseFleetConfig({ ...base, zones: [] })).toThrow(
      /fleetwarden\.zones: must name at least 1 zone, got \[\]/,
    );
  });

  it('needs zones or the shorthand', () => {
    expect(() => parseFleetConfig(base)).toThrow(
      /fleetwarden\.hostedZoneId: required unless zones is set, got <unset>/,
    );
    expect(() => parseFleetConfig({ ...base, hostedZoneId: 'Z0123456789ABC' })).toThrow(
      /fleetwarden\.zoneName: required unless zones is set, got <unset>/,
    );
  });

  it("refuses cdk.json's example zone in the list too", () => {
    const example = parseFleetConfig({
      ...base,
      zones: [{ id: 'Z0EXAMPLE00000000000', name: 'a.example.com' }],
    });
    expect(() => refuseExampleConfig(example, undefined)).toThrow(/example placeholder/);
  });
});
