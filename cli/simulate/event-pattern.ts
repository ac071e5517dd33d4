/**
 * EventBridge event-pattern matching, for routing simulated events by the patterns the CDK stack
 * deploys (read from the synthesized template). Covers what the EventBridge user guide documents:
 * exact values (arrays are OR; an array field matches if any element does), nested objects,
 * prefix, suffix, equals-ignore-case, wildcard, anything-but (value, list, prefix/suffix), numeric,
 * exists, cidr (IPv4) and $or. No npm package maintains this; the AWS TestEventPattern API needs
 * an account. Tests: event-pattern.test.ts.
 */
type Json = unknown;

function isObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

function wildcard(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(value);
}

function matchesOne(rule: Json, value: Json, present: boolean): boolean {
  if (!isObject(rule)) return present && (rule === value || (rule === null && value === null));
  if ('exists' in rule) return rule.exists === present;
  if (!present) return false;
  if ('prefix' in rule) {
    const p = rule.prefix;
    if (isObject(p) && 'equals-ignore-case' in p)
      return (
        typeof value === 'string' &&
        value.toLowerCase().startsWith(String(p['equals-ignore-case']).toLowerCase())
      );
    return typeof value === 'string' && value.startsWith(String(p));
  }
  if ('suffix' in rule) {
    const s = rule.suffix;
    if (isObject(s) && 'equals-ignore-case' in s)
      return (
        typeof value === 'string' &&
        value.toLowerCase().endsWith(String(s['equals-ignore-case']).toLowerCase())
      );
    return typeof value === 'string' && value.endsWith(String(s));
  }
  if ('equals-ignore-case' in rule)
    return (
      typeof value === 'string' && value.toLowerCase() === String(rule['equals-ignore-case']).toLowerCase()
    );
  if ('wildcard' in rule) return typeof value === 'string' && wildcard(String(rule.wildcard), value);
  if ('anything-but' in rule) {
    const but = rule['anything-but'];
    if (Array.isArray(but)) return !but.includes(value as never);
    if (isObject(but)) return !matchesOne(but, value, true);
    return value !== but;
  }
  if ('numeric' in rule) {
    if (typeof value !== 'number') return false;
    const ops = rule.numeric as Array<string | number>;
    for (let i = 0; i < ops.length; i += 2) {
      const op = ops[i];
      const n = Number(ops[i + 1]);
      const ok =
        op === '='
          ? value === n
          : op === '>'
            ? value > n
            : op === '>='
              ? value >= n
              : op === '<'
                ? value < n
                : op === '<='
                  ? value <= n
                  : false;
      if (!ok) return false;
    }
    return true;
  }
  if ('cidr' in rule) {
    const [net, bits] = String(rule.cidr).split('/');
    const ip = typeof value === 'string' ? ipv4ToInt(value) : undefined;
    const base = ipv4ToInt(net ?? '');
    const len = Number(bits);
    if (ip === undefined || base === undefined || !(len >= 0 && len <= 32)) return false;
    const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
    return (ip & mask) >>> 0 === (base & mask) >>> 0;
  }
  throw new Error(`unsupported event pattern rule ${JSON.stringify(rule)}`);
}

/** Does `event` match `pattern` (EventBridge semantics)? */
export function matchesPattern(pattern: Record<string, Json>, event: Json): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    if (key === '$or') {
      if (!(rule as Record<string, Json>[]).some((sub) => matchesPattern(sub, event))) return false;
      continue;
    }
    const present = isObject(event) && key in event;
    const value = present ? (event as Record<string, Json>)[key] : undefined;
    if (isObject(rule)) {
      if (!isObject(value) || !matchesPattern(rule, value)) return false;
      continue;
    }
    if (!Array.isArray(rule)) throw new Error(`event pattern field "${key}" must be an array or object`);
    if (isObject(value)) return false;
    const values = Array.isArray(value) ? value : [value];
    const ok = rule.some((r) =>
      Array.isArray(value) ? values.some((v) => matchesOne(r, v, true)) : matchesOne(r, value, present),
    );
    if (!ok) return false;
  }
  return true;
}
