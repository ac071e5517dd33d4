import type { AuditRecord } from '../../shared/audit/schema';
import { ASG, type Engine, T0 } from './engine';
import { claimState, faultState, jobTimeOf, watchState } from './faults';
import type { MutatingCall } from './journal';

/** One invariant of a run: ok, its violations, and how many things it checked. */
export interface Invariant {
  name: string;
  ok: boolean;
  details: string[];
  checked?: number;
}

const bare = (n: string) => n.toLowerCase().replace(/\.$/, '');
const rel = (at: number) => `t+${Math.round((at - T0) / 1000)}s`;
const envOf = (e: Engine, entry: string) =>
  [...e.routing.functions.values()].find((f) =>
    [`functions/${entry}/handler.ts`, `functions/${entry}/index.ts`].includes(f.entry),
  )?.env ?? {};

function invariant(name: string, details: string[], checked: number): Invariant {
  return { name, ok: details.length === 0, details, checked };
}

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
  return invariant('no message dead-lettered', details, units);
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

function fleetHookNames(e: Engine): Set<string> {
  return new Set(
    e.routing.lifecycleHooks
      .filter((h) => h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING')
      .map((h) => h.name),
  );
}

const configuredAsgs = (e: Engine) =>
  new Set((envOf(e, 'runner-sweep').AUTO_SCALING_GROUP_NAMES ?? ASG).split(',').filter(Boolean));

/** The fleet heartbeats or completes only its own terminate hook's lifecycle actions. */
export function noForeignHookTouched(e: Engine): Invariant {
  const own = fleetHookNames(e);
  const asgs = configuredAsgs(e);
  const lifecycle = e.world.journal.calls.filter((c) => c.hook && c.invocation !== 0);
  const details = lifecycle
    .filter((c) => {
      const h = c.hook as NonNullable<MutatingCall['hook']>;
      return !own.has(h.name) || e.foreignTokens.has(h.token) || !asgs.has(h.asg);
    })
    .map(
      (c) =>
        `${c.fn} called ${c.operation} on hook ${c.hook?.name} of ${c.hook?.asg} (${c.resources[0]}) at ${rel(c.at)}`,
    );
  return invariant('no foreign hook touched', details, lifecycle.length);
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
  const calls = e.world.journal.calls.filter((c) => c.invocation !== 0);
  const details: string[] = [];
  for (const c of calls) {
    const what = `${c.fn} ${c.operation} ${c.resources.join(',')} at ${rel(c.at)}`;
    const record = holder.get(c.requestId);
    if (!record) {
      details.push(`${what}: no audit record holds the call`);
      continue;
    }
    const intended = e.world.journal.writes.some(
      (w) =>
        w.ok &&
        w.decision === 'intended' &&
        w.recordId === record.recordId &&
        w.invocation === c.invocation &&
        w.seq < c.seq,
    );
    if (!intended)
      details.push(`${what}: no intent record of ${record.action} ${record.recordId} written before it`);
  }
  return invariant('no mutating call without an intent record before it', details, calls.length);
}

/**
 * Contract 3: runner-sweep's removals (deregistrations + terminations) in any rolling window (3600 s
 * unless BUDGET_WINDOW_SECONDS says otherwise) are at most max(1, floor(maxRemovalShare x the peak
 * of this fleet's registered runners in that window)); another fleet's runners do not count.
 */
export function removalsWithinBudget(e: Engine): Invariant {
  const env = envOf(e, 'runner-sweep');
  const share = Number(env.MAX_REMOVAL_SHARE ?? 0.2);
  const windowMs = Number(env.BUDGET_WINDOW_SECONDS ?? 3600) * 1000;
  const removals = e.world.journal.calls
    .filter((c) => c.fn === 'runner-sweep' && c.outcome === 'success')
    .filter((c) => c.operation === 'DeleteRunner' || c.operation === 'TerminateInstances')
    .flatMap((c) => (c.operation === 'DeleteRunner' ? [c.at] : c.resources.map(() => c.at)));
  const counts = e.world.journal.runnerCounts;
  const peak = (from: number, to: number) =>
    Math.max(
      0,
      ...counts
        .filter((s, k) => s.at <= to && (s.at >= from || (counts[k + 1]?.at ?? Infinity) > from))
        .map((s) => s.count),
    );
  let worst: string | undefined;
  let excess = 0;
  for (let i = 0; i < removals.length; i++) {
    for (
      let j = i;
      j < removals.length && (removals[j] as number) - (removals[i] as number) < windowMs;
      j++
    ) {
      const from = removals[i] as number;
      const to = removals[j] as number;
      const budget = Math.max(1, Math.floor(share * peak(from, to)));
      const n = j - i + 1;
      if (n > budget && n - budget > excess) {
        excess = n - budget;
        worst = `${n} removals by runner-sweep between ${rel(from)} and ${rel(to)}, budget ${budget} (maxRemovalShare ${share} x peak ${peak(from, to)} runners, ${windowMs / 1000} s window)`;
      }
    }
  }
  return invariant('runner-sweep removals within the rolling budget', worst ? [worst] : [], removals.length);
}

/** A replayed webhook body (same bytes, new delivery id) publishes nothing. */
export function replaysNotPublished(e: Engine): Invariant {
  const replays = e.world.journal.webhooks.filter((w) => w.kind === 'replay');
  const details = replays
    .filter((w) => w.published > 0)
    .map((w) => `${w.deliveryId}: answered ${w.status ?? 'error'}, published ${w.published} event(s) again`);
  return invariant('a replayed webhook body is not published twice', details, replays.length);
}

/** Every form-encoded workflow_job delivery is accepted and published. */
export function formDeliveriesAccepted(e: Engine): Invariant {
  const forms = e.world.journal.webhooks.filter((w) => w.kind === 'form' && !w.injected);
  const details = forms
    .filter((w) => w.status !== 202 || w.published === 0)
    .map((w) => `${w.deliveryId}: answered ${w.status ?? 'error'}, published ${w.published}`);
  return invariant('every form-encoded delivery is accepted and published', details, forms.length);
}

/** Forged messages change nothing about a live instance that is not leaving. */
export function forgedMessagesRefused(e: Engine): Invariant {
  const s = faultState(e);
  return invariant('no forged message acted on', [...s.actedOnForged], s.forged.length);
}

/**
 * Contract 4: a runner labelled `fleetwarden-fleet:<another id>` is never deregistered by the fleet,
 * whatever instance its labels or name claim. Checked: every such runner the registry held.
 */
export function noForeignFleetRunnerRemoved(e: Engine): Invariant {
  const fleetOf = (r: { labels: string[] }) => r.labels.find((l) => l.startsWith('fleetwarden-fleet:'));
  const foreign = (r: { labels: string[] }) => {
    const label = fleetOf(r);
    return label !== undefined && label !== e.fleetLabel;
  };
  const deleted = e.world.registry.deleted.filter(foreign);
  const present = e.world.registry.snapshot().filter(foreign);
  const details = deleted.map((r) => `runner ${r.id} ${r.name} (${fleetOf(r)}) was deregistered`);
  return invariant('no runner of another fleet removed', details, deleted.length + present.length);
}

/**
 * --name-claimants: a held name never moves to another instance while its holder has not
 * terminated: after every Route 53 change the A record at the name holds the holder's IP, or is
 * absent (while the holder is stopped dns-sync removes it and keeps a tombstone naming the holder).
 */
export function heldNamesStay(e: Engine): Invariant {
  const s = claimState(e);
  return invariant('a held name never moves while its holder has not terminated', [...s.moved], s.checked);
}

/**
 * No workflow_job event on the bus is older than the ingress's maximum job age (MAX_JOB_AGE_SECONDS,
 * 3600 s unless set) when published, by the time its action happened (known to the simulator).
 */
export function staleJobsNotPublished(e: Engine): Invariant {
  const maxAgeMs = Number(envOf(e, 'webhook-ingress').MAX_JOB_AGE_SECONDS ?? 3600) * 1000;
  let checked = 0;
  const details: string[] = [];
  for (const ev of e.world.bus.events) {
    const deliveryId = String(ev.detail.deliveryId ?? '');
    const at = jobTimeOf(e, deliveryId);
    if (at === undefined) continue;
    checked++;
    const ageMs = Date.parse(ev.time) - at;
    if (ageMs > maxAgeMs)
      details.push(
        `${deliveryId}: ${String(ev.detail.action)} of ${rel(at)} published at ${ev.time}, ${Math.round(ageMs / 1000)} s old (limit ${maxAgeMs / 1000} s)`,
      );
  }
  return invariant('no workflow_job older than the maximum job age published', details, checked);
}

/**
 * A warm-pool scale-in is no departure: the runner of an instance that comes back from the warm
 * pool is still registered at the end of the run (neither runner-drain nor runner-sweep removed it).
 */
export function warmPoolRunnersKept(e: Engine): Invariant {
  const back = faultState(e).warmReturns.filter((r) => r.runnerId !== undefined);
  const registered = new Set(e.world.registry.snapshot().map((r) => r.id));
  const details = back
    .filter((r) => !registered.has(r.runnerId as number))
    .map(
      (r) =>
        `runner ${r.runnerId} of ${r.instanceId} (back from the warm pool at ${rel(r.at)}) is not registered`,
    );
  return invariant('a runner back from the warm pool is still registered', details, back.length);
}

/** runner-sweep never deregisters an online runner of an instance that is really running (and not scaled in). */
export function noLiveRunnerRemoved(e: Engine): Invariant {
  const s = watchState(e);
  const removals = e.world.journal.calls.filter(
    (c) => c.fn === 'runner-sweep' && c.operation === 'DeleteRunner',
  ).length;
  return invariant(
    'no runner of a live instance removed by runner-sweep',
    [...s.liveRunnersRemoved],
    removals,
  );
}

/** No fleet hook timed out before the drain deadline while its runner was still registered. */
export function noHookExpiredHeld(e: Engine): Invariant {
  const s = watchState(e);
  return invariant(
    'no fleet hook expired with its runner registered before the drain deadline',
    [...s.expiredHeld],
    e.hooks.length,
  );
}

/** The invariants of this module, in report order. */
export function boundaryInvariants(e: Engine, records: AuditRecord[]): Invariant[] {
  return [
    noDeadLetters(e),
    errorsRecovered(e),
    withinBlastRadius(e),
    noForeignHookTouched(e),
    intentBeforeAction(e, records),
    removalsWithinBudget(e),
    forgedMessagesRefused(e),
    replaysNotPublished(e),
    formDeliveriesAccepted(e),
    noForeignFleetRunnerRemoved(e),
    heldNamesStay(e),
    staleJobsNotPublished(e),
    warmPoolRunnersKept(e),
    noLiveRunnerRemoved(e),
    noHookExpiredHeld(e),
  ];
}
