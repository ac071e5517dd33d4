import { describe, expect, it } from 'vitest';
import { markerNameFor, normalizeName, ptrNameFor, resolveRecordName } from './names';

const zone = 'example.com';

describe('resolveRecordName', () => {
  it('places a single label in the zone and lowercases it', () => {
    expect(resolveRecordName('Web-01', zone)).toEqual({ ok: true, fqdn: 'web-01.example.com.' });
  });

  it('accepts a name already in the zone, with or without the trailing dot', () => {
    expect(resolveRecordName('db.prod.Example.com.', zone)).toEqual({
      ok: true,
      fqdn: 'db.prod.example.com.',
    });
    expect(resolveRecordName('db.example.com', 'Example.COM.')).toEqual({
      ok: true,
      fqdn: 'db.example.com.',
    });
  });

  it.each([
    ['web.other.org', 'outside-zone'],
    ['notexample.com', 'outside-zone'],
    ['example.com', 'zone-apex'],
    ['*', 'wildcard'],
    ['*.example.com', 'wildcard'],
    ['a*b', 'wildcard'],
    ['-web', 'malformed'],
    ['web-', 'malformed'],
    ['we_b', 'malformed'],
    ['web..example.com', 'malformed'],
    ['', 'malformed'],
    ['   ', 'malformed'],
    ['a'.repeat(64), 'malformed'],
    ['web space', 'malformed'],
  ])('refuses %j as %s', (raw, reason) => {
    const result = resolveRecordName(raw, zone);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.reason).toBe(reason);
      expect(result.message).toContain(JSON.stringify(raw));
    }
  });

  it('accepts a 63-character label and refuses names longer than 253 characters', () => {
    expect(resolveRecordName('a'.repeat(63), zone).ok).toBe(true);
    const long = `${Array.from({ length: 5 }, () => 'b'.repeat(50)).join('.')}.${zone}`;
    expect(long.length).toBeGreaterThan(253);
    const result = resolveRecordName(long, zone);
    expect(result).toMatchObject({ ok: false, reason: 'malformed' });
  });

  it('caps names at 240 characters so the marker name (_fleetwarden. + name) stays within 253', () => {
    const labels = (n: number) =>
      `${Array.from({ length: 4 }, () => 'a'.repeat(55)).join('.')}.${'b'.repeat(n)}`;
    const fits = `${labels(4)}.${zone}`; // 240 characters without the trailing dot
    expect(fits.length).toBe(240);
    const ok = resolveRecordName(fits, zone);
    expect(ok.ok).toBe(true);
    if (ok.ok) expect(markerNameFor(ok.fqdn).slice(0, -1).length).toBeLessThanOrEqual(253);
    const tooLong = `${labels(5)}.${zone}`;
    expect(resolveRecordName(tooLong, zone)).toMatchObject({ ok: false, reason: 'malformed' });
  });
});

describe('helpers', () => {
  it('normalizes to lowercase with one trailing dot', () => {
    expect(normalizeName('A.Example.COM')).toBe('a.example.com.');
    expect(normalizeName('a.example.com.')).toBe('a.example.com.');
  });

  it('derives the marker name and the in-addr.arpa name', () => {
    expect(markerNameFor('web.example.com.')).toBe('_fleetwarden.web.example.com.');
    expect(ptrNameFor('10.1.2.3')).toBe('3.2.1.10.in-addr.arpa.');
  });
});
