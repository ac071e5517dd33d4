import * as z from 'zod/mini';
import * as core from 'zod/v4/core';

/**
 * `z.iso.datetime()` and `z.coerce.number()`, built as zod/mini builds them (its `iso` and `coerce`
 * modules call these zod/v4/core factories with these classes) but without going through the
 * `z.iso` and `z.coerce` namespace objects: esbuild keeps a namespace object whole, so each of
 * those put every ISO format (date, time, duration) and every coercion (bigint, date) into a
 * function's bundle (`bench/bundles.test.ts`). Schemas in code a function bundles use these.
 */
export function isoDateTime(params?: { offset?: boolean }): z.ZodMiniISODateTime {
  return core._isoDateTime(z.ZodMiniISODateTime, params);
}

/** `z.coerce.number()`: the input passed through `Number()`, then checked as a number. */
export function coercedNumber<T = unknown>(): z.ZodMiniNumber<T> {
  return core._coercedNumber(z.ZodMiniNumber, undefined) as z.ZodMiniNumber<T>;
}
