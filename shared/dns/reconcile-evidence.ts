import type { AuditRecord } from '../audit/schema';
import type { UnreadableRecord } from '../audit/store-port';
import { normaliseRecordName } from '../audit/table-design';
import type { InstanceInfo, InstanceState } from '../ec2/port';
import type { ChangedInstance, EvidenceDue, EvidenceLine, ReadDue } from './reconcile-due';
import type { ZoneSet } from './zone-set';

/**
 * Reconcile reads the zone on evidence, not on activity (issue 15): a changed instance needs no
 * read when dns-sync's audit trail proves it handled that change. Proof is the latest dns-sync
 * record about the instance's current state written after the change (its trigger, the EC2 event,
 * dated at or after the change too): live, `acted` or skipped as "already in the desired state",
 * `dns.upsert` for a running instance (naming the record the instance's name tag gives now, with
 * the address of every view) or `dns.delete` for a leaving one, in the same state. Anything else
 * reads the zone: no record (the event was lost, or the byInstance index has not caught up: a GSI
 * is eventually consistent, and its lag only hides records, so it fails safe), a failed, refused,
 * intended (outcome unknown), dry-run or otherwise skipped record, an unreadable record, a failed
 * query. Records of another state (a reordered event of the way out) are neither proof nor veto.
 */

/** The record a running instance should have now: its name and one address per view it goes to. */
export interface ExpectedRecord {
  recordName: string;
  ips: string[];
}

/** A changed instance as the verdict sees it. */
export interface CheckedChange {
  instanceId: string;
  state: InstanceState;
  /** When it changed (ms, as EC2 dates it). */
  at: number;
  /** Running only; absent when its name resolves to no zone or it has no address to publish. */
  expected?: ExpectedRecord | undefined;
}

export type Verdict =
  | { handled: true; recordId: string }
  | { handled: false; why: string; recordIds: string[] };

/** The records of one instance written since its change (AuditStore.timeline on byInstance). */
export type TrailLookup = (
  instanceId: string,
  since: Date,
) => Promise<{ records: AuditRecord[]; unreadable: UnreadableRecord[] }>;

/** The function whose records are evidence (shared/ imports nothing from functions/). */
const SYNC = 'dns-sync';
const ALREADY = 'already in the desired state';
const iso = (ms: number) => new Date(ms).toISOString();

/** What dns-sync publishes for the instance as it is now (the planner's rule), or undefined. */
export function expectedRecordOf(
  info: InstanceInfo,
  zones: ZoneSet,
  nameTag: string,
): ExpectedRecord | undefined {
  const tag = info.tags[nameTag];
  const resolved = zones.resolve(tag?.trim() ? tag : info.instanceId);
  if (!resolved.ok) return undefined;
  const ips = resolved.zones
    .map((z) => (z.view === 'public' ? info.publicIp : info.privateIp))
    .filter((ip): ip is string => Boolean(ip));
  return ips.length > 0 ? { recordName: resolved.fqdn, ips } : undefined;
}

const sameIps = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

/** The addresses a dns-sync upsert record says it published (every view, or the one). */
function publishedIps(r: AuditRecord): string[] {
  const views = r.details.views as Array<{ ip?: unknown }> | undefined;
  const ips = Array.isArray(views) ? views.map((v) => v.ip) : [r.details.ip];
  return ips.filter((ip): ip is string => typeof ip === 'string');
}

/** Why the record does not prove the change handled, or undefined when it does. */
function notProof(c: CheckedChange, r: AuditRecord): string | undefined {
  const wanted = c.state === 'running' ? 'dns.upsert' : 'dns.delete';
  if (r.mode !== 'live') return `record ${r.recordId} is a dry run`;
  if (r.decision === 'intended') return `record ${r.recordId} is intended, outcome unknown`;
  if (r.decision !== 'acted' && !(r.decision === 'skipped' && r.reason.startsWith(ALREADY)))
    return `record ${r.recordId} is ${r.decision}: ${r.reason}`;
  if (r.action !== wanted) return `record ${r.recordId} is ${r.action}, the instance is ${c.state}`;
  if (c.state !== 'running') return undefined;
  if (!c.expected) return 'its name or address gives no record to compare';
  const name = r.subject.recordName;
  const ips = publishedIps(r);
  if (
    !name ||
    normaliseRecordName(name) !== normaliseRecordName(c.expected.recordName) ||
    !sameIps(ips, c.expected.ips)
  )
    return `record ${r.recordId} says ${name ?? 'no name'} -> ${ips.join(', ') || 'no address'}; the instance is now ${c.expected.recordName} -> ${c.expected.ips.join(', ')}`;
  return undefined;
}

/** Whether dns-sync's records prove the change handled (see the module comment). */
export function verdictOf(
  c: CheckedChange,
  records: readonly AuditRecord[],
  unreadable: readonly UnreadableRecord[],
): Verdict {
  if (unreadable.length > 0) {
    return {
      handled: false,
      why: `unreadable record(s) about it: ${unreadable.map((u) => `${u.recordId} (${u.reason})`).join(', ')}`,
      recordIds: unreadable.map((u) => u.recordId),
    };
  }
  const after = (time: string | undefined) => time !== undefined && Date.parse(time) >= c.at;
  const about = records
    .filter(
      (r) =>
        r.function === SYNC &&
        r.subject.instanceId === c.instanceId &&
        (r.action === 'dns.upsert' || r.action === 'dns.delete') &&
        after(r.time) &&
        after(r.trigger.time) &&
        (r.details.state === undefined || r.details.state === c.state),
    )
    .sort((x, y) => Date.parse(x.time) - Date.parse(y.time));
  const latest = about.at(-1);
  if (!latest)
    return {
      handled: false,
      why: `no record of dns-sync about it ${c.state} since ${iso(c.at)}`,
      recordIds: [],
    };
  const why = notProof(c, latest);
  return why
    ? { handled: false, why, recordIds: [latest.recordId] }
    : { handled: true, recordId: latest.recordId };
}

/** One evidence line per change checked. */
function lineOf(ch: ChangedInstance, v: Verdict): EvidenceLine {
  const base = { instanceId: ch.info.instanceId, state: ch.info.state, changedAt: iso(ch.at) };
  return v.handled ? { ...base, recordId: v.recordId } : { ...base, why: v.why, recordIds: v.recordIds };
}

/**
 * Check the changes, most recent first, one audit query each; the first one not proven handled
 * (or whose query fails: the safe direction, the error named in the run's record) makes the run
 * read the zone, and the rest are not queried.
 */
export async function readOnEvidence(
  due: EvidenceDue,
  expectedOf: (info: InstanceInfo) => ExpectedRecord | undefined,
  lookup: TrailLookup,
): Promise<ReadDue> {
  const evidence: EvidenceLine[] = [];
  for (const ch of due.changes) {
    const c: CheckedChange = {
      instanceId: ch.info.instanceId,
      state: ch.info.state,
      at: ch.at,
      ...(ch.info.state === 'running' ? { expected: expectedOf(ch.info) } : {}),
    };
    let verdict: Verdict;
    try {
      const { records, unreadable } = await lookup(c.instanceId, new Date(ch.at));
      verdict = verdictOf(c, records, unreadable);
    } catch (err) {
      const e = err as Error;
      verdict = {
        handled: false,
        why: `the audit trail could not be read (${e.name}: ${e.message})`,
        recordIds: [],
      };
    }
    evidence.push(lineOf(ch, verdict));
    if (!verdict.handled) {
      return { read: true, reason: `${c.instanceId} ${ch.what} at ${iso(ch.at)}: ${verdict.why}`, evidence };
    }
  }
  return {
    read: false,
    reason: `${evidence.length} instance(s) of the fleet changed since ${due.since}, each change recorded as handled by dns-sync (${evidence.map((e) => e.recordId).join(', ')}); next full read at ${due.nextFullRead}`,
    evidence,
  };
}
