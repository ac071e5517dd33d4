import { describe, expect, it } from 'vitest';
import './zod-locale';
import * as z from 'zod/mini';

describe('zod/mini with the English locale', () => {
  it('names what is wrong, not just "Invalid input"', () => {
    const r = z.object({ name: z.string().check(z.minLength(1)) }).safeParse({ name: '' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe('Too small: expected string to have >=1 characters');
  });
});
