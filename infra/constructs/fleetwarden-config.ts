import { Token } from 'aws-cdk-lib';
import { type FleetConfig, FleetConfigSchema, parseFleetConfig } from '../config';

type Path = (string | number)[];

/**
 * Stand-ins a token is checked as: the first one the schema accepts at the token's key is used for
 * validation, and the token itself goes into the config (its value is known only at deploy time).
 */
const STAND_INS = [
  'Z0TOKEN',
  'token.example.com',
  '10.in-addr.arpa',
  'token@example.com',
  'arn:aws:iam::000000000000:root',
  'token',
];

/** Paths of the string leaves of `value` that are unresolved CDK tokens. */
function tokenPaths(value: unknown, path: Path = []): Path[] {
  if (typeof value === 'string') return Token.isUnresolved(value) ? [path] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) =>
    tokenPaths(v, [...path, Array.isArray(value) ? Number(k) : k]),
  );
}

function withValueAt<T>(input: T, path: Path, value: unknown): T {
  const [head, ...rest] = path;
  if (head === undefined) return value as T;
  const copy = (Array.isArray(input) ? [...input] : { ...(input as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head] = withValueAt(copy[head], rest, value);
  return copy as T;
}

const samePath = (a: readonly PropertyKey[], b: Path) =>
  a.length === b.length && a.every((k, i) => k === b[i]);

/** The first stand-in the schema accepts at `path` (or the first one: the schema then reports that key). */
function standIn(input: unknown, path: Path): string {
  const accepted = STAND_INS.find((s) => {
    const result = FleetConfigSchema.safeParse(withValueAt(input, path, s));
    return result.success || !result.error.issues.some((i) => samePath(i.path, path));
  });
  return accepted ?? (STAND_INS[0] as string);
}

/**
 * `parseFleetConfig` for construct props, where a value may be a token (a zone id from another
 * construct): each token is validated as a stand-in the schema accepts at its key and put back
 * untouched into the config; every other key is checked, with the usual messages.
 */
export function parseFleetProps(given: unknown, source: string): FleetConfig {
  const tokens = tokenPaths(given).map((path) => ({ path, token: valueAt(given, path) }));
  let probe = given;
  for (const { path } of tokens) probe = withValueAt(probe, path, standIn(probe, path));
  let config = parseFleetConfig(probe, source);
  for (const { path, token } of tokens) config = withValueAt(config, path, token);
  return config;
}

function valueAt(input: unknown, path: Path): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], input);
}
