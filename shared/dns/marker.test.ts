import { describe, expect, it } from 'vitest';
import { formatMarker, type Marker, OWNER_ID_PATTERN, parseMarker } from './marker';

const marker: Marker = {
  owner: 'prod',
  instanceId: 'i-0123456789abcdef0',
  type: 'A',
  value: '10.0.0.5',
  state: 'running',
  time: '2026-11-24T10:00:00.000Z',
};

describe('ownership marker', () => {
  it('round-trips through a quoted TXT value under 255 characters', () => {
    const txt = formatMarker(marker);
    expect(txt.startsWith('"heritage=fleetwarden,owner=prod,')).toBe(true);
    expect(txt.length).toBeLessThan(255);
    expect(parseMarker(txt)).toEqual(marker);
  });

  it("keeps every TXT string within Route 53's 255 characters: a PTR marker for a 240-character name", () => {
    const name = `${Array.from({ length: 4 }, () => 'a'.repeat(55)).join('.')}.${'b'.repeat(4)}.example.com.`;
    expect(name.length).toBe(241); // 240 + the trailing dot
    const ptr: Marker = {
      ...marker,
      owner: 'o'.repeat(64),
      type: 'PTR',
      value: name,
      state: 'shutting-down',
    };
    const txt = formatMarker(ptr);
    const strings = [...txt.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(strings.length).toBeGreaterThan(1);
    for (const s of strings) expect(s.length).toBeLessThanOrEqual(255);
    expect(txt).toBe(strings.map((s) => `"${s}"`).join(' '));
    expect(parseMarker(txt)).toEqual(ptr);
  });

  it('round-trips a tombstone without a value', () => {
    const tomb: Marker = { ...marker, state: 'terminated', value: undefined };
    expect(parseMarker(formatMarker(tomb))).toEqual(tomb);
  });

  it.each([
    ['"v=spf1 -all"'],
    ['"heritage=external-dns,external-dns/owner=default"'],
    ['"heritage=fleetwarden,owner=prod"'],
    ['"heritage=fleetwarden,owner=prod,instance=i-0123456789abcdef0,type=A,state=running,t=yesterday"'],
    ['"heritage=fleetwarden,owner=prod,instance=nope,type=A,state=running,t=2026-11-24T10:00:00.000Z"'],
  ])('does not take %s for a marker', (txt) => {
    expect(parseMarker(txt)).toBeUndefined();
  });

  it('round-trips every owner id OWNER_ID_PATTERN accepts; refuses the characters that break a marker', () => {
    for (const owner of ['fleetwarden', 'fleetwarden-123456789012-eu-west-1', 'prod.eu_1', 'x'.repeat(100)]) {
      expect(OWNER_ID_PATTERN.test(owner), owner).toBe(true);
      expect(parseMarker(formatMarker({ ...marker, owner }))?.owner).toBe(owner);
    }
    // "," splits fields, "=" splits a field, '"' ends the TXT string, "\\" and non-ASCII come back
    // escaped from Route 53, a space reads as two strings to a human
    for (const owner of ['a,b', 'a=b', 'a"b', 'a\\b', 'a b', 'ä', '', 'x'.repeat(101)])
      expect(OWNER_ID_PATTERN.test(owner), owner).toBe(false);
  });
});
