import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import * as zm from 'zod/mini';
import { envBoolean, readEnv } from './env';
import { ConfigError } from './errors';

describe('readEnv', () => {
  const schema = z.object({ ZONE_ID: z.string().min(1), DRY_RUN: envBoolean });

  it('parses a valid environment', () => {
    expect(readEnv(schema, { ZONE_ID: 'Z1', DRY_RUN: 'TRUE' })).toEqual({ ZONE_ID: 'Z1', DRY_RUN: true });
  });

  it('reports every bad variable with its value', () => {
    let thrown: unknown;
    try {
      readEnv(schema, { DRY_RUN: 'yes' });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    expect(message).toContain('ZONE_ID=<unset>');
    expect(message).toContain('DRY_RUN="yes"');
    expect((thrown as Error).cause).toBeDefined();
  });
});

describe('env schemas in a bundle', () => {
  it('envBoolean is a zod/mini schema and readEnv reads a zod/mini object', () => {
    expect(envBoolean).toBeInstanceOf(zm.ZodMiniType);
    expect(readEnv(zm.object({ DRY_RUN: envBoolean }), { DRY_RUN: 'TRUE' })).toEqual({ DRY_RUN: true });
  });
});
