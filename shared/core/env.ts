import './zod-locale';
import * as z from 'zod/mini';
import { ConfigError } from './errors';

/**
 * Parse `process.env` (or a given record) with a zod object schema (zod/mini or classic). Every
 * problem is reported at once, with the variable name and the bad value, so a misconfigured deploy
 * fails on the first invocation with a message that says what to fix.
 */
export function readEnv<S extends z.core.$ZodObject>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.infer<S> {
  const result = z.safeParse(schema, env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const key = issue.path.join('.');
    const value = env[key];
    return `${key}=${value === undefined ? '<unset>' : JSON.stringify(value)}: ${issue.message}`;
  });
  throw new ConfigError(`invalid environment: ${problems.join('; ')}`, { cause: result.error });
}

/** "true"/"false" (any case) as a boolean; anything else is refused rather than guessed. */
export const envBoolean = z.pipe(
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((v: string) => v.toLowerCase()),
    ),
    z.enum(['true', 'false']),
  ),
  z.transform((v: 'true' | 'false') => v === 'true'),
);
