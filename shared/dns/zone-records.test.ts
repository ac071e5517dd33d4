import { describe, expect, it } from 'vitest';
import type { RecordSet } from './port';
import { ZoneRecords } from './zone-records';

const a = (setIdentifier?: string): RecordSet => ({
  name: 'web.example.com.',
  type: 'A',
  ttl: 60,
  values: ['10.0.0.1'],
  ...(setIdentifier === undefined ? {} : { setIdentifier, weight: 1 }),
});

describe('ZoneRecords listing order', () => {
  // Route 53 refuses the two side by side (a simple and a weighted set of one name and type), but a
  // zone handed to the view (a fake's seed) can hold them: each is listed, once
  it("lists a set without an identifier and one with '' as two sets, each once", () => {
    const zone = new ZoneRecords('example.com.', [a(), a('')]);
    expect(zone.size).toBe(2);
    expect(zone.all().map((r) => r.setIdentifier)).toEqual([undefined, '']);
    expect(zone.page(undefined, 10).records.map((r) => r.setIdentifier)).toEqual([undefined, '']);
  });
});
