import { describe, expect, it } from 'vitest';
import { parseZonesSetting, ZoneSet, zoneSetProblems, zonesSettingValue } from './zone-set';

const split = ZoneSet.of([
  { id: 'ZPUB', name: 'example.com', view: 'public' },
  { id: 'ZPRIV', name: 'Example.com.', view: 'private' },
  { id: 'ZCORP', name: 'corp.example.com' },
  { id: 'ZREV', name: '10.in-addr.arpa' },
  { id: 'ZREV2', name: '1.10.in-addr.arpa', account: '222222222222' },
]);

describe('ZoneSet', () => {
  it('sorts zones into forward and reverse, names normalized, views defaulting to private', () => {
    expect(split.forward.map((z) => [z.id, z.name, z.view])).toEqual([
      ['ZPUB', 'example.com.', 'public'],
      ['ZPRIV', 'example.com.', 'private'],
      ['ZCORP', 'corp.example.com.', 'private'],
    ]);
    expect(split.reverse.map((z) => z.id)).toEqual(['ZREV', 'ZREV2']);
    expect(split.byId('ZREV2')?.account).toBe('222222222222');
  });

  it('routes a name to every forward zone whose name is the longest suffix (both views of a split horizon)', () => {
    expect(split.forwardZonesFor('web.example.com.').map((z) => z.id)).toEqual(['ZPUB', 'ZPRIV']);
    expect(split.forwardZonesFor('db.corp.example.com.').map((z) => z.id)).toEqual(['ZCORP']);
    expect(split.forwardZonesFor('x.example.org.')).toEqual([]);
  });

  it('routes a PTR name to the longest-suffix reverse zone', () => {
    expect(split.reverseZoneFor('3.2.1.10.in-addr.arpa.')?.id).toBe('ZREV2');
    expect(split.reverseZoneFor('3.2.9.10.in-addr.arpa.')?.id).toBe('ZREV');
    expect(split.reverseZoneFor('3.2.9.11.in-addr.arpa.')).toBeUndefined();
    // the apex of a reverse zone is not a PTR name
    expect(split.reverseZoneFor('1.10.in-addr.arpa.')?.id).toBe('ZREV');
  });

  it('resolves a tag value: one label in the first forward zone, a longer name by the longest suffix', () => {
    expect(split.resolve('web')).toMatchObject({ ok: true, fqdn: 'web.example.com.' });
    const corp = split.resolve('db.corp.example.com');
    expect(corp).toMatchObject({ ok: true, fqdn: 'db.corp.example.com.' });
    expect(corp.ok && corp.zones.map((z) => z.id)).toEqual(['ZCORP']);
    expect(split.resolve('db.example.org')).toMatchObject({ ok: false, reason: 'outside-zone' });
    expect(split.resolve('corp.example.com')).toMatchObject({ ok: false, reason: 'zone-apex' });
    expect(split.resolve('a_b.example.com')).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('refuses a set it cannot route: duplicate names without distinct explicit views, no forward zone', () => {
    expect(
      zoneSetProblems([
        { id: 'Z1', name: 'example.com' },
        { id: 'Z2', name: 'example.com', view: 'public' },
      ]),
    ).toEqual([
      'zones Z1 and Z2 are both named example.com: a split horizon needs view "public" on one and "private" on the other',
    ]);
    expect(zoneSetProblems([{ id: 'Z1', name: '10.in-addr.arpa' }])).toEqual([
      'no forward zone: name at least one zone that is not *.in-addr.arpa',
    ]);
    expect(
      zoneSetProblems([
        { id: 'Z1', name: 'example.com' },
        { id: 'Z1', name: 'other.com' },
      ]),
    ).toEqual(['zone id Z1 is listed twice']);
    expect(() => ZoneSet.of([{ id: 'Z1', name: '10.in-addr.arpa' }])).toThrow(/no forward zone/);
  });

  it('round-trips through the compact ZONES setting value', () => {
    const value = zonesSettingValue(split.inputs());
    expect(value).not.toContain(' ');
    expect(parseZonesSetting(value).inputs()).toEqual(split.inputs());
    expect(() => parseZonesSetting('[{"id":"Z1"}]')).toThrow(/ZONES/);
  });
});
