/**
 * The cross-cutting invariants of every run (no dead letters, errors recovered, within the blast
 * radius, intent before action, no forged message acted on), then every remediation's own
 * (functions/simulations.ts).
 */

import { SIMULATIONS } from '../../functions/simulations';
import type { AuditRecord } from '../../shared/audit/schema';
import { approvalInvariants } from './approvals';
import { faultState } from './faults';
import { multiAccountInvariants } from './multi-account';
import { bare, configuredAsgs, type Invariant, invariant, rel } from './remediation-simulation';
import type { Engine } from './scenario';

export type { Invariant } from './remediation-simulation';

/**
 * No message or async event ends in a dead-letter queue, unless its last try failed on an injected
 * fault (--error-rate, the audit outage: a run that stops at an audit failure is right to fail).
 */
export function noDeadLetters(e: Engine): Invariant {
  const details = Object.entries(e.stats.deadLettered).flatMap(([fn, all]) => {
    const n = all - (e.stats.deadLetteredOnInjectedFault[fn] ?? 0);
    return Array.from({ length: n }, (_, k) => `${fn}: message or event ${k + 1} of ${n} dead-lettered`);
  });
  const units = new Set(e.world.journal.runs.map((r) => r.unit)).size;
  // on an injected fault (an --adversarial audit outage) a dead letter is expected: accepted, and
  // listed, so a passing run never hides one
  const accepted = Object.entries(e.stats.deadLetteredOnInjectedFault)
    .filter(([, n]) => n > 0)
    .map(([fn, n]) => `${fn}: ${n} message or event dead-lettered on an injected fault`);
  const result = invariant('no message dead-lettered', details, units);
  return accepted.length ? { ...result, accepted } : result;
}

/** Schedule runs are one family: a later successful run of the same schedule recovers a failed one. */
const familyOf = (unit: string) => (unit.startsWith('schedule/') ? unit.replace(/\/\d+$/, '') : unit);

/**
 * Every invocation error is an injected fault or is retried to success: a failed try of a unit of
 * work (async event, queue message, webhook delivery) must be followed by a successful try of the
 * same unit (for a scheduled run: of the same schedule).
 */
export function errorsRecovered(e: Engine): Invariant {
  const byFamily = new Map<string, typeof e.world.journal.runs>();
  for (const r of e.world.journal.runs) {
    const family = familyOf(r.unit);
    byFamily.set(family, [...(byFamily.get(family) ?? []), r]);
  }
  const details: string[] = [];
  let errors = 0;
  for (const runs of byFamily.values()) {
    const lastOk = Math.max(-Infinity, ...runs.filter((r) => r.ok).map((r) => r.at));
    for (const r of runs) {
      if (r.ok) continue;
      errors++;
      if (r.injected || r.at < lastOk) continue;
      details.push(`${r.fn} failed on ${r.unit} at ${rel(r.at)} and was never retried to success`);
    }
  }
  return invariant('every invocation error is injected or retried to success', details, errors);
}

/** No instance outside the configured ASGs terminated; no Route 53 record the fleet does not own changed. */
export function withinBlastRadius(e: Engine): Invariant {
  const asgs = configuredAsgs(e);
  const details: string[] = [];
  const terminated = e.world.terminator.terminated;
  for (const id of terminated) {
    const t = e.truth.get(id);
    if (!t?.asg || !asgs.has(t.asg))
      details.push(`${id} (${t ? `${t.kind}, ASG ${t.asg ?? 'none'}` : 'unknown'}) was terminated`);
  }
  const now = e.world.route53.records(e.zoneId);
  for (const f of e.foreignRecords) {
    const r = now.find((x) => bare(x.name) === bare(f.name) && x.type === f.type);
    if (!r) details.push(`${f.type} ${f.name} was deleted`);
    else if (JSON.stringify(r.values) !== JSON.stringify(f.values))
      details.push(`${f.type} ${f.name} changed to ${r.values.join(',')}`);
  }
  let changes = 0;
  for (const req of e.world.route53.changeRequests) {
    for (const c of req.changes) {
      changes++;
      if (e.foreignRecords.some((f) => bare(f.name) === bare(c.record.name) && f.type === c.record.type))
        details.push(`${req.outcome} ${c.action} of ${c.record.type} ${c.record.name}`);
    }
  }
  return invariant('nothing outside the blast radius changed', details, terminated.length + changes);
}

/**
 * Contract 1: every fleet-mutating call is preceded, in the same invocation, by a write with
 * decision 'intended' of the audit record that ends up holding the call.
 */
export function intentBeforeAction(e: Engine, records: AuditRecord[]): Invariant {
  const holder = new Map<string, AuditRecord>();
  for (const r of records) {
    for (const c of [...r.calls, ...r.githubCalls]) if (c.requestId) holder.set(c.requestId, r);
  }
  // the first intent write of each record in each invocation (a call needs one before it)
  const firstIntent = new Map<string, number>();
  for (const w of e.world.journal.writes) {
    if (!w.ok || w.decision !== 'intended') continue;
    const key = `${w.recordId}|${w.invocation}`;
    firstIntent.set(key, Math.min(w.seq, firstIntent.get(key) ?? w.seq));
  }
  const calls = e.world.journal.calls.filter((c) => c.invocation !== 0);
  const details: string[] = [];
  for (const c of calls) {
    const what = `${c.fn} ${c.operation} ${c.resources.join(',')} at ${rel(c.at)}`;
    const record = holder.get(c.requestId);
    if (!record) {
      details.push(`${what}: no audit record holds the call`);
      continue;
    }
    const intended = (firstIntent.get(`${record.recordId}|${c.invocation}`) ?? Infinity) < c.seq;
    if (!intended)
      details.push(`${what}: no intent record of ${record.action} ${record.recordId} written before it`);
  }
  return invariant('no mutating call without an intent record before it', details, calls.length);
}

/** Forged messages change nothing about a live instance that is not leaving. */
export function forgedMessagesRefused(e: Engine): Invariant {
  const s = faultState(e);
  return invariant('no forged message acted on', [...s.actedOnForged], s.forged.length);
}

/** The invariants of this module, then each simulation's, in report order. */
export function boundaryInvariants(e: Engine, records: AuditRecord[]): Invariant[] {
  return [
    noDeadLetters(e),
    errorsRecovered(e),
    withinBlastRadius(e),
    intentBeforeAction(e, records),
    forgedMessagesRefused(e),
    ...approvalInvariants(e, records),
    ...multiAccountInvariants(e, records),
    ...SIMULATIONS.flatMap((s) => s.invariants(e, records)),
  ];
}
