import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { ConfigError } from '../core/errors';
import { configField, envSchema, readSettings, setting, settingsEnv, settingsTable } from './settings';

const spec = {
  gracePeriod: setting.seconds('GRACE_PERIOD_SECONDS', {
    doc: 'wait after an instance left',
    default: 300,
    min: 0,
    max: 86_400,
  }),
  maxRemovalShare: setting.number('MAX_REMOVAL_SHARE', {
    doc: 'share of the fleet per window',
    default: 0.2,
    gt: 0,
    max: 1,
  }),
  dryRun: setting.boolean('DRY_RUN', { doc: 'decide and audit, change nothing', default: true }),
  groups: setting.list('AUTO_SCALING_GROUP_NAMES', { doc: 'runner groups', default: [] }),
  fleetId: setting.string('FLEET_ID', { doc: 'this fleet', pattern: /^[\w.-]{1,64}$/ }),
  reverseZone: setting.optional(setting.string('REVERSE_ZONE_ID', { doc: 'reverse zone' })),
};

describe('settings: declared once, environment, defaults, docs derived', () => {
  it('reads values with defaults for unset variables', () => {
    expect(readSettings(spec, { FLEET_ID: 'blue', AUTO_SCALING_GROUP_NAMES: 'a,b,' })).toEqual({
      gracePeriod: 300,
      maxRemovalShare: 0.2,
      dryRun: true,
      groups: ['a', 'b'],
      fleetId: 'blue',
      reverseZone: undefined,
    });
  });

  it('reports every bad variable at once with its value', () => {
    const err = (() => {
      try {
        readSettings(spec, { MAX_REMOVAL_SHARE: '0', DRY_RUN: 'yes' });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toContain('MAX_REMOVAL_SHARE="0"');
    expect(err?.message).toContain('DRY_RUN="yes"');
    expect(err?.message).toContain('FLEET_ID=<unset>');
  });

  it('writes the environment the handler reads back (round trip)', () => {
    const values = {
      gracePeriod: 60,
      maxRemovalShare: 0.5,
      dryRun: false,
      groups: ['ci'],
      fleetId: 'f',
      reverseZone: 'Z9',
    };
    const env = settingsEnv(spec, values);
    expect(env).toMatchObject({
      GRACE_PERIOD_SECONDS: '60',
      DRY_RUN: 'false',
      AUTO_SCALING_GROUP_NAMES: 'ci',
    });
    expect(readSettings(spec, env)).toEqual(values);
  });

  it('leaves settings without a value out of the environment', () => {
    expect(settingsEnv(spec, { fleetId: 'f' })).toEqual({ FLEET_ID: 'f' });
  });

  it('derives the environment schema and a docs table', () => {
    expect(Object.keys(envSchema(spec).shape)).toContain('GRACE_PERIOD_SECONDS');
    const table = settingsTable(spec);
    expect(table).toContain(
      '| `gracePeriod` | `GRACE_PERIOD_SECONDS` | `300` | 0..86400 seconds | wait after an instance left |',
    );
    expect(table).toContain('| `fleetId` | `FLEET_ID` | (required) |');
    expect(table).toContain('| `reverseZone` | `REVERSE_ZONE_ID` | (off) |');
  });
});

describe('settings as data (config, construct props): the same bounds and default', () => {
  it('checks a value with the bounds of its variable', () => {
    expect(spec.maxRemovalShare.value.safeParse(0).success).toBe(false);
    expect(spec.maxRemovalShare.value.safeParse(0.5).success).toBe(true);
    expect(spec.gracePeriod.value.safeParse(1.5).success).toBe(false);
    expect(spec.groups.value.safeParse(['a,b']).success).toBe(false);
  });

  it('gives the config schema its declared default', () => {
    expect(configField(spec.maxRemovalShare).parse(undefined)).toBe(0.2);
    expect(configField(spec.fleetId).parse(undefined)).toBeUndefined();
    expect(configField(spec.dryRun).safeParse('yes').success).toBe(false);
  });
});

describe('a list setting whose entries follow a pattern', () => {
  const arns = setting.list('ARNS', { doc: 'roles', min: 1, pattern: /^arn:/, bounds: 'ARNs' });

  it('refuses an entry that does not match, from the environment and as data, saying what it must be', () => {
    expect(() => readSettings({ arns }, { ARNS: 'arn:a,role' })).toThrow(/ARNS="arn:a,role": .*ARNs/);
    expect(readSettings({ arns }, { ARNS: 'arn:a,arn:b' })).toEqual({ arns: ['arn:a', 'arn:b'] });
    const bad = arns.value.safeParse(['arn:a', 'role']);
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toMatch(/ARNs/);
    expect(arns.bounds).toBe('ARNs');
  });
});

describe('settings in a bundle', () => {
  it('builds zod/mini schemas (classic zod adds ~75 KB to every function)', () => {
    for (const s of Object.values(spec)) {
      expect(s.schema, s.env).toBeInstanceOf(z.ZodMiniType);
      expect(s.value, s.env).toBeInstanceOf(z.ZodMiniType);
    }
    expect(envSchema(spec)).toBeInstanceOf(z.ZodMiniObject);
    expect(configField(spec.gracePeriod)).toBeInstanceOf(z.ZodMiniType);
  });
});
