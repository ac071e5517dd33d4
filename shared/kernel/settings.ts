import '../core/zod-locale';
import * as z from 'zod/mini';
import { AUDIT_TABLE_ENV } from '../audit/env';
import { envBoolean, readEnv } from '../core/env';
import { coercedNumber } from '../core/zod-parts';

/**
 * One setting of a remediation, declared once. From the declaration come the handler's environment
 * schema (`envSchema`), the environment the construct writes (`settingsEnv`), the values the
 * simulator wires (`readSettings` on the synthesized environment) and the docs table (`settingsTable`).
 */
/**
 * A schema a setting is declared with: zod/mini (what the functions bundle) or classic zod (infra,
 * tests); both parse with `safeParse`, and mini's functional forms (`z.optional`, `z.pipe`) wrap either.
 */
export interface SettingSchema<O, I = unknown> extends z.core.$ZodType<O, I> {
  safeParse(data: unknown): z.util.SafeParseResult<O>;
}

export interface Setting<T> {
  /** Environment variable carrying it to the function. */
  readonly env: string;
  /** What it does, one sentence (docs, construct errors). */
  readonly doc: string;
  /** Value when the variable is unset; none: the variable is required. */
  readonly default?: T;
  /** Parses the variable's string. */
  readonly schema: SettingSchema<T, string>;
  /**
   * Checks a value given as data (cdk.json config, construct props) with the same bounds: what
   * `configField` builds the config schema from and the construct validates props with.
   */
  readonly value: SettingSchema<T>;
  /** Writes a value as the variable's string. */
  readonly toEnv: (value: T) => string;
  /** Unit shown in the docs ("seconds"). */
  readonly unit?: string;
  /** How the value is bounded, for the docs ("60..86400"). */
  readonly bounds?: string;
  /** Unset means undefined (a feature that is off), not a missing variable. */
  readonly optional?: boolean;
}

// biome-ignore lint/suspicious/noExplicitAny: a spec holds settings of any value type
export type SettingsSpec = Readonly<Record<string, Setting<any>>>;

/** The values a spec declares: `{ gracePeriod: number, dryRun: boolean, ... }`. */
export type SettingsOf<S extends SettingsSpec> = {
  [K in keyof S]: S[K] extends Setting<infer T> ? T : never;
};

interface Common<T> {
  doc: string;
  default?: T;
}
interface Bounded extends Common<number> {
  min?: number;
  max?: number;
  /** Exclusive lower bound (e.g. a share > 0). */
  gt?: number;
}

function bounds(o: Bounded): string | undefined {
  const lo = o.gt !== undefined ? `>${o.gt}` : o.min !== undefined ? `${o.min}` : undefined;
  if (lo === undefined && o.max === undefined) return undefined;
  return `${lo ?? ''}..${o.max ?? ''}`;
}

/** The checks of a number setting, in the order classic zod's `.int().min().gt().max()` ran them. */
function bounded(o: Bounded & { int: boolean }): z.core.$ZodCheck<number>[] {
  return [
    ...(o.int ? [z.int() as z.core.$ZodCheck<number>] : []),
    ...(o.min !== undefined ? [z.minimum(o.min)] : []),
    ...(o.gt !== undefined ? [z.gt(o.gt)] : []),
    ...(o.max !== undefined ? [z.maximum(o.max)] : []),
  ];
}

function numeric(env: string, o: Bounded & { int: boolean; unit?: string }): Setting<number> {
  const checks = bounded(o);
  const b = bounds(o);
  return {
    env,
    doc: o.doc,
    ...(o.default !== undefined ? { default: o.default } : {}),
    schema: z.pipe(z.string(), coercedNumber<string>().check(...checks)),
    value: z.number().check(...checks),
    toEnv: String,
    ...(o.unit ? { unit: o.unit } : {}),
    ...(b ? { bounds: b } : {}),
  };
}

/** Builders of settings, one per kind of value. */
export const setting = {
  /** `bounds` says in words what `pattern` accepts (errors, docs). */
  string(env: string, o: Common<string> & { pattern?: RegExp; bounds?: string }): Setting<string> {
    const s = z.string().check(o.pattern ? z.regex(o.pattern, o.bounds) : z.minLength(1));
    return {
      env,
      doc: o.doc,
      ...(o.default !== undefined ? { default: o.default } : {}),
      schema: s,
      value: s,
      toEnv: String,
      ...(o.bounds ? { bounds: o.bounds } : {}),
    };
  },
  integer: (env: string, o: Bounded & { unit?: string }) => numeric(env, { ...o, int: true }),
  number: (env: string, o: Bounded) => numeric(env, { ...o, int: false }),
  /** A duration carried in whole seconds. */
  seconds: (env: string, o: Bounded) => numeric(env, { ...o, int: true, unit: 'seconds' }),
  boolean(env: string, o: Common<boolean>): Setting<boolean> {
    return {
      env,
      doc: o.doc,
      ...(o.default !== undefined ? { default: o.default } : {}),
      schema: envBoolean,
      value: z.boolean(),
      toEnv: String,
    };
  },
  /**
   * A comma-separated list (empty entries dropped); with `pattern`, every entry must match it
   * (`bounds` says in words what it accepts: errors, docs).
   */
  list(
    env: string,
    o: Common<readonly string[]> & { min?: number; pattern?: RegExp; bounds?: string },
  ): Setting<readonly string[]> {
    const min = o.min ?? 0;
    const entry = o.pattern ? z.string().check(z.regex(o.pattern, o.bounds)) : z.string();
    const l = z
      .pipe(
        z.string(),
        z.transform((v: string) => v.split(',').filter(Boolean)),
      )
      .check(
        z.superRefine((v, ctx) => {
          for (const e of v.filter((e) => !entry.safeParse(e).success))
            ctx.addIssue({ code: 'custom', message: `${JSON.stringify(e)}: ${o.bounds ?? 'invalid'}` });
        }),
        z.refine((v) => v.length >= min, `must name at least ${min}`),
      );
    return {
      env,
      doc: o.doc,
      ...(o.default !== undefined ? { default: o.default } : {}),
      schema: l,
      value: z.readonly(
        z
          .array(entry.check(z.minLength(1), z.regex(/^[^,]*$/, 'must not contain a comma')))
          .check(z.minLength(min, `must name at least ${min}`)),
      ),
      toEnv: (v) => v.join(','),
      ...(o.bounds ? { bounds: o.bounds } : {}),
    };
  },
  /** Optional: unset means undefined (a feature that is off). */
  optional<T>(s: Setting<T>): Setting<T | undefined> {
    const { default: _unused, ...rest } = s;
    return { ...rest, optional: true, toEnv: (v) => (v === undefined ? '' : s.toEnv(v)) } as Setting<
      T | undefined
    >;
  },
};

/** The zod schema of the environment a spec declares (defaults applied, every problem reported). */
export function envSchema<S extends SettingsSpec>(spec: S) {
  const shape: Record<string, z.core.$ZodType> = {};
  for (const s of Object.values(spec)) {
    shape[s.env] = s.default !== undefined || s.optional ? z.optional(s.schema) : s.schema;
  }
  return z.object(shape);
}

/**
 * Read a spec's values from an environment: each variable parsed, defaults for unset ones; every
 * problem at once, with the variable and its bad value (ConfigError).
 */
export function readSettings<S extends SettingsSpec>(
  spec: S,
  env: Record<string, string | undefined> = process.env,
): SettingsOf<S> {
  const parsed = readEnv(envSchema(spec), env) as Record<string, unknown>;
  const values: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    const v = parsed[s.env];
    values[key] = v === undefined ? s.default : v;
  }
  return values as SettingsOf<S>;
}

/** The environment that carries `values` (settings left undefined are left out). */
export function settingsEnv<S extends SettingsSpec>(
  spec: S,
  values: Partial<SettingsOf<S>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, s] of Object.entries(spec)) {
    const v = (values as Record<string, unknown>)[key];
    if (v !== undefined) env[s.env] = s.toEnv(v);
  }
  return env;
}

/** A Markdown table of a spec: setting, variable, default, bounds, what it does. */
export function settingsTable(spec: SettingsSpec): string {
  const rows = Object.entries(spec).map(([key, s]) => {
    const d = s.optional
      ? '(off)'
      : s.default === undefined
        ? '(required)'
        : `\`${s.toEnv(s.default) || '""'}\``;
    const unit = s.unit ? ` ${s.unit}` : '';
    return `| \`${key}\` | \`${s.env}\` | ${d} | ${s.bounds ? `${s.bounds}${unit}` : unit.trim()} | ${s.doc} |`;
  });
  return ['| setting | variable | default | bounds | what it does |', '|---|---|---|---|---|', ...rows].join(
    '\n',
  );
}

/**
 * The config (cdk.json) schema of a setting: the same bounds as its environment variable, its
 * declared default, its doc. `FleetConfigSchema` builds its remediation keys with it, so a bound or
 * default is written once, in the definition.
 */
export function configField<T>(s: Setting<T>): z.ZodMiniType<T | undefined> {
  const base = s.default !== undefined ? z._default(s.value, s.default as never) : z.optional(s.value);
  return base.check(z.describe(s.doc)) as z.ZodMiniType<T | undefined>;
}

/**
 * The audit table every remediation records its decisions in: the same variable in every function
 * (RemediationFunction and the feature constructs fill it from the AuditTrail), declared once here.
 */
export const AUDIT_TABLE_SETTING = setting.string(AUDIT_TABLE_ENV, {
  doc: 'The audit table every decision is recorded in (filled in from the fleet’s AuditTrail).',
});
