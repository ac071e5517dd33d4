import type { InstanceState } from '../ec2/port';
import { TXT_STRING_MAX, txtStrings } from './zone-records';

/**
 * The ownership marker (a TXT registry record in the style of external-dns) that fleetwarden writes
 * next to every record it owns, at `_fleetwarden.<record name>`. It says who owns the record, for
 * which instance, what the record holds, and the state + event time of the last event applied, so
 * later events can be ordered against it. A marker with a non-running state and no record is a
 * tombstone: it stops a late `running` from resurrecting the record until reconcile expires it.
 */
export interface Marker {
  owner: string;
  instanceId: string;
  /** Type of the record the marker guards. */
  type: 'A' | 'PTR';
  /** The record's value (IP for A, target name for PTR); absent on tombstones. */
  value?: string | undefined;
  state: InstanceState;
  /** Event time (ISO 8601) of the last event applied. */
  time: string;
}

export const HERITAGE = 'fleetwarden';
/**
 * What an owner id may hold: 1-100 ASCII letters, digits, ".", "_" or "-". A marker's fields are
 * split on "," and "=", '"' ends the TXT string, and Route 53 returns "\\" and non-ASCII escaped.
 */
export const OWNER_ID_PATTERN = /^[A-Za-z0-9._-]{1,100}$/;
const STATES: readonly InstanceState[] = [
  'pending',
  'running',
  'stopping',
  'stopped',
  'shutting-down',
  'terminated',
];
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;

/**
 * The TXT value Route 53 stores for a marker: one quoted string, or (a PTR marker carries the full
 * forward name and can pass 255 characters) several quoted strings of at most 255 characters each,
 * separated by spaces, which DNS clients concatenate.
 */
export function formatMarker(m: Marker): string {
  const fields = [
    `heritage=${HERITAGE}`,
    `owner=${m.owner}`,
    `instance=${m.instanceId}`,
    `type=${m.type}`,
    ...(m.value !== undefined ? [`value=${m.value}`] : []),
    `state=${m.state}`,
    `t=${m.time}`,
  ];
  const body = fields.join(',');
  const strings: string[] = [];
  for (let i = 0; i < body.length; i += TXT_STRING_MAX) strings.push(body.slice(i, i + TXT_STRING_MAX));
  return strings.map((x) => `"${x}"`).join(' ');
}

/** The concatenated content of a TXT value made of quoted strings (`"a" "b"` -> `ab`); unquoted as is. */
function txtContent(txt: string): string {
  return /^"[^"]*"( "[^"]*")*$/.test(txt) ? txtStrings(txt).join('') : txt;
}

/** Parse a TXT value; anything that is not a complete, well-formed fleetwarden marker is undefined. */
export function parseMarker(txt: string): Marker | undefined {
  const body = txtContent(txt);
  const fields = new Map<string, string>();
  for (const part of body.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  if (fields.get('heritage') !== HERITAGE) return undefined;
  const owner = fields.get('owner');
  const instanceId = fields.get('instance');
  const type = fields.get('type');
  const state = fields.get('state') as InstanceState | undefined;
  const time = fields.get('t');
  if (!owner || !instanceId || !INSTANCE_ID.test(instanceId)) return undefined;
  if (type !== 'A' && type !== 'PTR') return undefined;
  if (!state || !STATES.includes(state)) return undefined;
  if (!time || Number.isNaN(Date.parse(time))) return undefined;
  return { owner, instanceId, type, value: fields.get('value'), state, time };
}

/** Lifecycle rank, used to order two events with the same timestamp (the later state wins). */
export function stateRank(state: InstanceState): number {
  return STATES.indexOf(state);
}

/** -1/0/1: is event (time a, state a) before, equal to, or after (time b, state b)? */
export function compareEvents(
  aTime: string,
  aState: InstanceState,
  bTime: string,
  bState: InstanceState,
): number {
  const dt = Date.parse(aTime) - Date.parse(bTime);
  if (dt !== 0) return Math.sign(dt);
  return Math.sign(stateRank(aState) - stateRank(bState));
}
