export { type ApplyPolicy, budgeted } from './backoff';

import { ThrottledError } from '../core/errors';
import { type ApplyPolicy, withBackoff } from './backoff';
import {
  type ChangeProblem,
  DnsConflictError,
  InvalidChangeBatchError,
  Route53BusyError,
  Route53Error,
} from './errors';
import { normalizeName } from './names';
import type { ChangeUnit, Plan, PlanDecision } from './planner';
import {
  changeWeight,
  type RecordChange,
  type RecordSet,
  ROUTE53_MAX_RECORDS_PER_REQUEST,
  ROUTE53_MAX_VALUE_CHARS_PER_REQUEST,
  type Route53Port,
} from './port';
import { type Route53Pace, readNames, readZone } from './zone-reader';
import type { ZoneSet } from './zone-set';

/**
 * Pack change units into as few requests as Route 53's per-request limits allow (1,000
 * ResourceRecord elements, 32,000 value characters). A unit (a record and its marker) is never split.
 */
export function packRequests<U extends Pick<ChangeUnit, 'instanceId' | 'changes'>>(
  units: readonly U[],
): U[][] {
  const requests: U[][] = [];
  let current: U[] = [];
  let records = 0;
  let chars = 0;
  for (const unit of units) {
    const w = unit.changes
      .map(changeWeight)
      .reduce((a, b) => ({ records: a.records + b.records, chars: a.chars + b.chars }), {
        records: 0,
        chars: 0,
      });
    if (
      current.length > 0 &&
      (records + w.records > ROUTE53_MAX_RECORDS_PER_REQUEST ||
        chars + w.chars > ROUTE53_MAX_VALUE_CHARS_PER_REQUEST)
    ) {
      requests.push(current);
      current = [];
      records = 0;
      chars = 0;
    }
    current.push(unit);
    records += w.records;
    chars += w.chars;
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

/** One ChangeResourceRecordSets request, retried on Throttling / PriorRequestNotComplete with jittered backoff. */
export async function sendWithBackoff(
  port: Route53Port,
  zoneId: string,
  changes: readonly RecordChange[],
  policy: ApplyPolicy,
  comment?: string,
  pace?: Route53Pace,
): Promise<{ changeId: string; attempts: number }> {
  const { value, attempts } = await withBackoff(`ChangeResourceRecordSets ${zoneId}`, policy, async () => {
    await pace?.take();
    return port.changeRecordSets(zoneId, changes, comment);
  });
  return { changeId: value.changeId, attempts };
}

export interface AppliedRequest {
  zoneId: string;
  changeId: string;
  instanceIds: string[];
  changes: number;
  attempts: number;
}

/**
 * An instance whose changes Route 53 rejected for a reason re-planning cannot settle (isolated by
 * bisection), or (`isolateFailures`) whose request failed: Route53Error (access denied, no such
 * zone, service error) or ThrottledError (still throttled past the attempts or the time budget).
 */
export interface SyncFailure {
  instanceId: string;
  zoneId: string;
  error: InvalidChangeBatchError | Route53Error | ThrottledError;
}

export interface SyncResult {
  /** The plan of the last round (what was, or in dry-run would be, written). */
  planned: Plan;
  /**
   * One decision per instance (an instance acted on in an earlier round keeps that decision);
   * failed instances have none, they are in `failures`.
   */
  decisions: PlanDecision[];
  requests: AppliedRequest[];
  replans: number;
  /** Instances whose changes were rejected and isolated; everything else was written. */
  failures: SyncFailure[];
}

/** Every zone's record sets as read, by zone id (a zone with nothing read: an empty list). */
export type ZoneReads = Map<string, RecordSet[]>;

export interface SyncInput {
  port: Route53Port;
  /** The zones written: one request per zone per round (unless the limits force a split). */
  zones: ZoneSet;
  policy: ApplyPolicy;
  plan: (records: ZoneReads) => Plan | Promise<Plan>;
  dryRun?: boolean;
  maxReplans?: number;
  comment?: string;
  /**
   * Read only these names (dns-sync: the names its batch touches, see touched-names.ts), each in
   * the zones it routes to: the forward ones, the reverse ones, then the forward names the reverse
   * records named. The callbacks get every forward (reverse) zone's records together. Absent: every
   * record set of every zone (reconcile).
   */
  names?:
    | {
        forward: (reverse: RecordSet[] | undefined) => string[];
        reverse: (forward: RecordSet[]) => string[];
      }
    | undefined;
  /** Paces every Route 53 call (List and Change) at the caller's share of the account's rate. */
  pace?: Route53Pace | undefined;
  /**
   * A ChangeResourceRecordSets that fails (Route53Error, or ThrottledError past the budget) fails
   * only the instances whose changes it carried (`failures`); the other requests are still sent
   * (dns-sync: a zone's failure fails only its messages), except after a ThrottledError from
   * Throttling: that rate is the zone's account's, so that account's requests not sent yet fail
   * with it, unsent; zones of other accounts are still sent (PriorRequestNotComplete is one
   * zone's: the others are still sent). Absent: the error
   * ends the sync (reconcile). Never bisected: neither error is about one instance's change.
   */
  isolateFailures?: boolean | undefined;
}

/** What the rounds of one sync share: requests sent, decisions applied, instances isolated. */
interface SyncState {
  requests: AppliedRequest[];
  /** Decisions applied in an earlier round, by instance and action (with their changeId). */
  earlier: Map<string, PlanDecision>;
  failed: Map<string, SyncFailure>;
  /** The stale-view problems that caused the current re-plan. */
  problems: ChangeProblem[];
  /**
   * `isolateFailures`: Route 53 stayed throttled (Throttling), by zone account ('' the fleet's
   * own). Its rate is per account, so that account's requests not sent yet fail with this error
   * unsent (their messages retry) instead of each spending the attempts; other accounts' still go.
   */
  throttled: Map<string, ThrottledError>;
}

const key = (d: { instanceId: string; action: string }) => `${d.instanceId}|${d.action}`;

/** `names` grouped by the zone each routes to (reverse: its longest-suffix reverse zone; forward: per view). */
function namesByZone(zones: ZoneSet, names: readonly string[], reverse: boolean): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const name of names) {
    const ids = reverse
      ? [zones.reverseZoneFor(name)?.id]
      : zones.views().map((v) => zones.forwardZoneIn(v, name)?.id);
    for (const id of new Set(ids)) if (id) out.set(id, [...(out.get(id) ?? []), name]);
  }
  return out;
}

const recordKey = (r: RecordSet) => `${r.name}|${r.type}|${r.setIdentifier ?? ''}`;

/** Read `names` into `reads`, zone by zone (a record set already read is not added twice). */
async function readInto(
  input: SyncInput,
  reads: ZoneReads,
  names: string[],
  reverse: boolean,
): Promise<void> {
  const o = { policy: input.policy, pace: input.pace };
  for (const [zoneId, zoneNames] of namesByZone(input.zones, names, reverse)) {
    const have = reads.get(zoneId) ?? [];
    const seen = new Set(have.map(recordKey));
    const got = await readNames(input.port, zoneId, zoneNames, o);
    reads.set(zoneId, [...have, ...got.filter((r) => !seen.has(recordKey(r)))]);
  }
}

const joined = (reads: ZoneReads, zones: readonly { id: string }[]) =>
  zones.flatMap((z) => reads.get(z.id) ?? []);

/**
 * The record sets the plan needs: with `names`, those names only (ListResourceRecordSets from
 * StartRecordName, each in its zones); without, every page of every zone. Paced; a throttled page
 * is retried from that page.
 */
async function readZones(input: SyncInput): Promise<ZoneReads> {
  const { zones } = input;
  const reads: ZoneReads = new Map(zones.zones.map((z) => [z.id, [] as RecordSet[]]));
  if (!input.names) {
    const o = { policy: input.policy, pace: input.pace };
    for (const z of zones.zones) reads.set(z.id, await readZone(input.port, z.id, o));
    return reads;
  }
  // forward (tagged and id names), reverse (their PTRs), then forward names only the PTRs named
  const first = input.names.forward(undefined);
  await readInto(input, reads, first, false);
  if (zones.reverse.length === 0) return reads;
  await readInto(input, reads, input.names.reverse(joined(reads, zones.forward)), true);
  const read = new Set(first.map(normalizeName));
  const more = input.names.forward(joined(reads, zones.reverse)).filter((n) => !read.has(normalizeName(n)));
  if (more.length > 0) await readInto(input, reads, more, false);
  return reads;
}

/** A round's decisions: one applied earlier stays applied; a re-plan says what caused it. */
function roundDecisions(planned: Plan, st: SyncState, round: number): PlanDecision[] {
  return planned.decisions.map((d) => {
    const before = st.earlier.get(key(d));
    if (before && d.decision === 'skipped') return before;
    return st.problems.length > 0 && round > 0
      ? { ...d, details: { ...d.details, replannedAfter: st.problems } }
      : d;
  });
}

const accountThrottled = (err: ThrottledError) =>
  err.cause instanceof Route53BusyError && err.cause.code === 'Throttling';

/** The account whose Route 53 rate a zone's calls spend ('' the fleet's own). */
const zoneAccount = (input: SyncInput, zoneId: string) => input.zones.byId(zoneId)?.account ?? '';

/**
 * Send one request. Rejected for a reason other than a stale view (Route 53 refuses something
 * the planner and the fake did not foresee): bisect, so the offending instance fails alone and
 * every other change is written (about 2 log2(n) extra requests for one bad unit).
 */
async function sendBisecting(
  input: SyncInput,
  st: SyncState,
  planned: Plan,
  zoneId: string,
  units: readonly ChangeUnit[],
): Promise<void> {
  const live = units.filter((u) => !st.failed.has(u.instanceId));
  if (live.length === 0) return;
  const throttled = st.throttled.get(zoneAccount(input, zoneId));
  if (throttled) {
    for (const u of live) st.failed.set(u.instanceId, { instanceId: u.instanceId, zoneId, error: throttled });
    return;
  }
  const changes = live.flatMap((u) => u.changes);
  let sent: { changeId: string; attempts: number };
  try {
    sent = await sendWithBackoff(input.port, zoneId, changes, input.policy, input.comment, input.pace);
  } catch (err) {
    if (input.isolateFailures && (err instanceof Route53Error || err instanceof ThrottledError)) {
      // Throttling is the zone account's rate; PriorRequestNotComplete is one zone's (others go on)
      if (err instanceof ThrottledError && accountThrottled(err))
        st.throttled.set(zoneAccount(input, zoneId), err);
      for (const u of live) st.failed.set(u.instanceId, { instanceId: u.instanceId, zoneId, error: err });
      return;
    }
    if (!(err instanceof InvalidChangeBatchError) || err.onlyStaleView) throw err;
    const [only] = live;
    if (live.length === 1 && only) {
      st.failed.set(only.instanceId, { instanceId: only.instanceId, zoneId, error: err });
      return;
    }
    const mid = Math.ceil(live.length / 2);
    await sendBisecting(input, st, planned, zoneId, live.slice(0, mid));
    await sendBisecting(input, st, planned, zoneId, live.slice(mid));
    return;
  }
  st.requests.push({
    zoneId,
    changeId: sent.changeId,
    instanceIds: live.map((u) => u.instanceId),
    changes: changes.length,
    attempts: sent.attempts,
  });
  for (const u of live) {
    const d = planned.decisions.find((x) => x.instanceId === u.instanceId && x.decision === 'acted');
    if (d) st.earlier.set(key(d), { ...d, details: { ...d.details, changeId: sent.changeId } });
  }
}

/** Write a round's plan, zone by zone; its decisions then carry the changeId that applied them. */
async function writeRound(
  input: SyncInput,
  st: SyncState,
  planned: Plan,
  round: number,
): Promise<SyncResult> {
  // forward zones first: an instance whose forward change failed gets no PTR either (send skips
  // failed instances)
  const units = [...planned.forward, ...planned.reverse];
  for (const zone of [...input.zones.forward, ...input.zones.reverse]) {
    const mine = units.filter((u) => u.zoneId === zone.id);
    for (const request of packRequests(mine)) await sendBisecting(input, st, planned, zone.id, request);
  }
  const final = roundDecisions(planned, st, round)
    .filter((d) => !st.failed.has(d.instanceId))
    .map((d) => {
      const applied = st.earlier.get(key(d));
      return applied && d.decision === 'acted'
        ? { ...applied, details: { ...applied.details, ...d.details, changeId: applied.details.changeId } }
        : d;
    });
  return {
    planned,
    decisions: final,
    requests: st.requests,
    replans: round,
    failures: [...st.failed.values()],
  };
}

/**
 * Read the zones, plan, write: one request per zone unless the limits force a split. A request
 * Route 53 rejects for any other reason is bisected until the offending instance is isolated; it
 * is returned in `failures` and everything else is written. On an
 * InvalidChangeBatch that only says our view was stale ("not found", "values do not match",
 * "already exists"), re-read and re-plan (bounded): an already-gone record is then simply done,
 * a record someone else changed is re-evaluated under the ownership rules, never forced.
 * `dryRun`: read and plan only (nothing is sent).
 */
export async function syncDns(input: SyncInput): Promise<SyncResult> {
  const maxReplans = input.maxReplans ?? 3;
  const st: SyncState = {
    requests: [],
    earlier: new Map(),
    failed: new Map(),
    problems: [],
    throttled: new Map(),
  };
  let lastError: unknown;
  for (let round = 0; round <= maxReplans; round++) {
    const planned = await input.plan(await readZones(input));
    if (input.dryRun) {
      return {
        planned,
        decisions: roundDecisions(planned, st, round),
        requests: [],
        replans: round,
        failures: [],
      };
    }
    try {
      return await writeRound(input, st, planned, round);
    } catch (err) {
      if (!(err instanceof InvalidChangeBatchError) || !err.onlyStaleView) throw err;
      lastError = err;
      st.problems = err.problems;
    }
  }
  throw new DnsConflictError(`the zone kept changing under us; gave up after ${maxReplans} re-plans`, {
    cause: lastError,
  });
}
