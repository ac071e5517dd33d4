import { describe, expect, it } from 'vitest';
import './zod-locale';
import * as z from 'zod/mini';
import { coercedNumber, isoDateTime } from './zod-parts';

// zod-parts builds these from zod/v4/core factories (underscore names) so a zod release that
// changes them must fail here, not in production: each part must answer exactly as zod/mini's own
const same = (a: z.ZodMiniType, b: z.ZodMiniType, inputs: unknown[]) => {
  for (const input of inputs) {
    const x = a.safeParse(input);
    const y = b.safeParse(input);
    expect({ input, ok: x.success, data: x.data, issues: x.error?.issues }).toEqual({
      input,
      ok: y.success,
      data: y.data,
      issues: y.error?.issues,
    });
  }
};

describe('zod-parts answer as zod/mini namespaces do', () => {
  it('isoDateTime() is z.iso.datetime(), with and without offsets', () => {
    const inputs = [
      '2026-11-30T16:23:01Z',
      '2026-11-30T16:23:01.123Z',
      '2026-11-30T16:23:01+01:00',
      '2026-11-30 16:23:01Z',
      '2026-02-30T00:00:00Z',
      '',
      'now',
      42,
      null,
      undefined,
    ];
    same(isoDateTime(), z.iso.datetime(), inputs);
    same(isoDateTime({ offset: true }), z.iso.datetime({ offset: true }), inputs);
  });

  it('coercedNumber() is z.coerce.number()', () => {
    same(coercedNumber(), z.coerce.number(), ['42', ' 7 ', '', '1e3', 'x', 3.5, true, null, undefined, {}]);
  });
});
