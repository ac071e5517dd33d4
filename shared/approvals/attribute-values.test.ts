import { describe, expect, it } from 'vitest';
import { fromAttributeMap, toAttributeMap } from './attribute-values';

describe('toAttributeMap / fromAttributeMap', () => {
  it('marshals plain data to DynamoDB attribute values, dropping undefined fields', () => {
    expect(
      toAttributeMap({
        s: 'x',
        n: 1.5,
        b: false,
        z: null,
        l: [1, 'a', { k: undefined, v: 2 }],
        m: { a: [] },
        u: undefined,
      }),
    ).toEqual({
      s: { S: 'x' },
      n: { N: '1.5' },
      b: { BOOL: false },
      z: { NULL: true },
      l: { L: [{ N: '1' }, { S: 'a' }, { M: { v: { N: '2' } } }] },
      m: { M: { a: { L: [] } } },
    });
  });

  it('reads back what it wrote', () => {
    const value = {
      id: 'fwp-x',
      facts: { sizeGiB: 100, tags: ['a', 'b'], nested: { ok: true, none: null } },
      empty: '',
    };
    expect(fromAttributeMap(toAttributeMap(value))).toEqual(value);
  });

  it('refuses what it cannot store faithfully (a non-finite number, a function)', () => {
    expect(() => toAttributeMap({ n: Number.NaN })).toThrow(/n: not a finite number/);
    expect(() => toAttributeMap({ f: () => 1 })).toThrow(/f: cannot store a function/);
  });
});
