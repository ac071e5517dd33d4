import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * Plain data (strings, finite numbers, booleans, null, arrays, objects) to and from DynamoDB
 * attribute values, `undefined` fields removed: the approvals tables store their objects as
 * native maps (readable in the console, addressable in condition expressions). The low-level
 * client is used (not the document client) so that every call is a `new XCommand(` of
 * @aws-sdk/client-dynamodb, which the IAM test follows.
 */
export function toAttributeMap(
  value: Readonly<Record<string, unknown>>,
  path = '',
): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) out[k] = toAttributeValue(v, path ? `${path}.${k}` : k);
  }
  return out;
}

function toAttributeValue(v: unknown, path: string): AttributeValue {
  if (v === null) return { NULL: true };
  if (typeof v === 'string') return { S: v };
  if (typeof v === 'boolean') return { BOOL: v };
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${path}: not a finite number (${v})`);
    return { N: String(v) };
  }
  if (Array.isArray(v)) return { L: v.map((x, i) => toAttributeValue(x ?? null, `${path}[${i}]`)) };
  if (typeof v === 'object') return { M: toAttributeMap(v as Record<string, unknown>, path) };
  throw new TypeError(`${path}: cannot store a ${typeof v}`);
}

/** The plain data an attribute map holds (the inverse of `toAttributeMap`). */
export function fromAttributeMap(item: Readonly<Record<string, AttributeValue>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = fromAttributeValue(v);
  return out;
}

function fromAttributeValue(v: AttributeValue): unknown {
  if (v.S !== undefined) return v.S;
  if (v.N !== undefined) return Number(v.N);
  if (v.BOOL !== undefined) return v.BOOL;
  if (v.NULL) return null;
  if (v.L) return v.L.map(fromAttributeValue);
  if (v.M) return fromAttributeMap(v.M);
  throw new TypeError(`unsupported attribute value ${JSON.stringify(Object.keys(v))}`);
}
