import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditRecord } from '../../shared/audit/schema';
import type { DnsZone } from '../../shared/dns/zone-set';
import type { DeadLetter, SubjectTimeline } from '../timeline/html/model';
import { buildSubjectTimeline } from '../timeline/html/model';
import { esc, renderTimelinePage } from '../timeline/html/render';
import { type SimDeadLetter, T0 } from './engine';
import { FLEET_TAG, tagsOf } from './fleet-model';
import { boundaryInvariants, type Invariant } from './invariants';
import { envOf, faultTargets } from './remediation-simulation';
import type { Engine, TruthInstance } from './scenario';

export type { Invariant } from './invariants';

const bare = (n: string) => n.toLowerCase().replace(/\.$/, '');
const LEFT = new Set(['shutting-down', 'terminated', 'stopped', 'stopping']);

/** Where a truth instance's A record belongs: its name, and the forward zones its name routes to. */
function placementOf(e: Engine, t: TruthInstance): { name: string; zones: DnsZone[] } {
  // one forward zone: the name as ever (tag value + zone name); several: the zone set's routing
  const r = e.zones.forward.length > 1 ? e.zones.resolve(t.name) : undefined;
  if (r?.ok) return { name: bare(r.fqdn), zones: r.zones };
  return { name: bare(`${t.name}.${e.zoneName}`), zones: [e.zones.primary] };
}

/**
 * The A records every forward zone should hold, keyed by zone id then name: a private view holds the
 * private IP of each running instance routed to it; a public view holds the public IP, and simulated
 * instances have none, so nothing. Spoofed instances' names are neutral (whether they get a record is
 * not judged here).
 */
function expectedRecords(e: Engine) {
  const expected = new Map<string, Map<string, string>>(e.zones.forward.map((z) => [z.id, new Map()]));
  const neutral = new Set<string>();
  // a claimant of a held name (--name-claimants) must get no record: heldNamesStay judges it
  const claimants = faultTargets(e, 'claimant');
  for (const t of e.truth.values()) {
    if (claimants.has(t.id)) continue;
    const { name, zones } = placementOf(e, t);
    if (t.kind === 'spoofed') neutral.add(name);
    else if (t.state === 'running' && t.kind !== 'outsider')
      for (const z of zones) if (z.view === 'private') expected.get(z.id)?.set(name, t.ip);
  }
  return { expected, neutral };
}

function dnsInvariants(e: Engine): Invariant[] {
  const foreign = new Set(e.foreignRecords.map((r) => `${bare(r.name)}|${r.type}`));
  const { expected, neutral } = expectedRecords(e);
  const several = e.zones.forward.length > 1;
  const missing: string[] = [];
  const stale: string[] = [];
  for (const zone of e.zones.forward) {
    // the foreign records are in the first forward zone
    const ours = (name: string) => zone.id !== e.zoneId || !foreign.has(`${name}|A`);
    const where = several ? ` in zone ${bare(zone.name)} (${zone.view}, ${zone.id})` : '';
    const aRecords = e.world.route53.records(zone.id).filter((r) => r.type === 'A' && ours(bare(r.name)));
    const want = expected.get(zone.id) ?? new Map<string, string>();
    // checked every simulated minute: the zone's A records by name, the first of a name kept
    const byName = new Map<string, (typeof aRecords)[number]>();
    for (const r of aRecords) if (!byName.has(bare(r.name))) byName.set(bare(r.name), r);
    for (const [name, ip] of want) {
      if (!ours(name)) continue; // a record the fleet does not own holds the name: left alone
      const r = byName.get(name);
      if (!r) missing.push(`${name} (instance running at ${ip}) has no A record${where}`);
      else if (!r.values.includes(ip))
        missing.push(`${name} points at ${r.values.join(',')}, not ${ip}${where}`);
    }
    for (const r of aRecords) {
      if (!want.has(bare(r.name)) && !neutral.has(bare(r.name)))
        stale.push(`${bare(r.name)} -> ${r.values.join(',')} but no running instance has that name${where}`);
    }
  }
  return [
    { name: 'no stale DNS record', ok: stale.length === 0, details: stale },
    { name: 'no missing DNS record', ok: missing.length === 0, details: missing },
  ];
}

/** What the simulator knows to be true, against which a sweep's refusal is judged (never its record). */
interface SweepTruth {
  share: number;
  /** runner-sweep's `fleetSize`: max(fleet instances EC2 lists, of them those a fleet runner names). */
  fleetSize: number;
  /** Fleet runners registered in the simulated GitHub at the end, by id: their instance in the truth. */
  runners: Map<number, TruthInstance | undefined>;
  /** Fleet instances EC2 still lists (not terminated): the only ones a termination can count for. */
  listed: Set<string>;
}

/**
 * The sweep's definitions (shared/runners/sweep-planner.ts), computed from the engine's truth: a
 * fleet instance carries the fleet tag and, when ASGs are configured, is in one of them; EC2 lists
 * it until it is terminated. Runners: GitHub's registry at the end of the run; it keeps no history,
 * and a runner removed since the refusal only makes the refusal look less justified, never more.
 */
function sweepTruth(e: Engine): SweepTruth {
  const env = envOf(e, 'runner-sweep');
  const tag = { key: env.FLEET_TAG_KEY ?? FLEET_TAG.key, value: env.FLEET_TAG_VALUE ?? FLEET_TAG.value };
  const asgs = new Set((env.AUTO_SCALING_GROUP_NAMES ?? '').split(',').filter(Boolean));
  const inFleet = (t: TruthInstance) =>
    tagsOf(t)[tag.key] === tag.value && (asgs.size === 0 || asgs.has(t.asg ?? ''));
  const listed = new Set(
    [...e.truth.values()].filter((t) => inFleet(t) && t.state !== 'terminated').map((t) => t.id),
  );
  const runners = new Map<number, TruthInstance | undefined>();
  const named = new Set<string>();
  for (const r of e.world.registry.snapshot()) {
    const fleet = r.labels.find((l) => l.startsWith('fleetwarden-fleet:'));
    if (fleet !== undefined && fleet !== e.fleetLabel) continue;
    const label = r.labels.find((l) => l.startsWith('fleetwarden-instance:'));
    const t = label ? e.truth.get(label.slice('fleetwarden-instance:'.length)) : undefined;
    runners.set(r.id, t);
    if (t && inFleet(t)) named.add(t.id);
  }
  const share = Number(env.MAX_REMOVAL_SHARE ?? 0.2);
  return { share, fleetSize: Math.max(listed.size, named.size), runners, listed };
}

interface Withheld {
  kind?: string;
  runnerId?: number;
  instanceId?: string;
  unconfirmed?: boolean;
  handoff?: boolean;
}

/**
 * The withheld removals the breaker counts, as the truth has them (each once): a deregistration of
 * a runner GitHub has registered whose instance left (confirmed by EC2, not flagged `unconfirmed` or
 * `handoff`), or a termination of a fleet instance EC2 lists. Invented entries count for nothing.
 */
function countedRemovals(withheld: Withheld[], truth: SweepTruth): Set<string> {
  const counted = new Set<string>();
  for (const w of withheld) {
    if (w.unconfirmed === true || w.handoff === true) continue;
    if (w.kind === 'deregister' && typeof w.runnerId === 'number') {
      const t = truth.runners.get(w.runnerId);
      if (t && LEFT.has(t.state)) counted.add(`runner:${w.runnerId}`);
    } else if (w.kind === 'terminate' && typeof w.instanceId === 'string' && truth.listed.has(w.instanceId))
      counted.add(`instance:${w.instanceId}`);
  }
  return counted;
}

/**
 * Runners the last runner-sweep run (of each pool) held back by its circuit breaker, named in its
 * audited refusal (`details.withheld`): a mass removal the breaker correctly leaves to a human
 * (alarm `SweepCircuitOpen`), when the simulator's truth justifies it: more removals the breaker
 * counts than the share of the fleet EC2 describes allows (the record's own figures are not
 * trusted). A budget refusal waits for its window; a run that judged nothing, or no refusal, covers none.
 */
function heldBackByBreaker(records: AuditRecord[], truth: SweepTruth): Map<number, string> {
  const last = new Map<string, AuditRecord>();
  for (const r of records)
    if (r.function === 'runner-sweep' && r.action === 'runner.sweep') {
      const pool = String(r.details.pool ?? '');
      const seen = last.get(pool);
      if (!seen || seen.time <= r.time) last.set(pool, r);
    }
  const held = new Map<number, string>();
  const allowed = Math.max(1, Math.floor(truth.share * truth.fleetSize));
  for (const r of last.values()) {
    if (r.decision !== 'refused' || r.details.refusedBy !== 'breaker') continue;
    const withheld = (Array.isArray(r.details.withheld) ? r.details.withheld : []) as Withheld[];
    const counted = countedRemovals(withheld, truth);
    if (!(counted.size > allowed)) continue;
    for (const w of withheld)
      if (w.kind === 'deregister' && counted.has(`runner:${w.runnerId}`))
        held.set(w.runnerId as number, r.recordId);
  }
  return held;
}

export function ghostInvariant(e: Engine): Invariant {
  const ghosts: string[] = [];
  const accepted: string[] = [];
  // checked every simulated minute: the audit trail is read only when there is a ghost to judge
  let held: ReturnType<typeof heldBackByBreaker> | undefined;
  for (const r of e.world.registry.snapshot()) {
    const label = r.labels.find((l) => l.startsWith('fleetwarden-instance:'));
    const t = label ? e.truth.get(label.slice('fleetwarden-instance:'.length)) : undefined;
    // another fleet's runner (--foreign-fleet-runners) is not this fleet's to remove: no ghost of it
    const fleet = r.labels.find((l) => l.startsWith('fleetwarden-fleet:'));
    if (fleet !== undefined && fleet !== e.fleetLabel) continue;
    if (!t || !LEFT.has(t.state)) continue;
    const ghost = `runner ${r.name} (id ${r.id}) is still registered; its instance is ${t.state}`;
    held ??= heldBackByBreaker(e.world.audit.all(), sweepTruth(e));
    const refusal = held.get(r.id);
    if (refusal) accepted.push(`${ghost}: held back by runner-sweep's circuit breaker (${refusal})`);
    else ghosts.push(ghost);
  }
  return {
    name: 'no ghost runner',
    ok: ghosts.length === 0,
    details: ghosts,
    ...(accepted.length ? { accepted } : {}),
  };
}

/** The invariants that define "converged" (checked every simulated minute). */
export function converged(e: Engine): boolean {
  return [...dnsInvariants(e), ghostInvariant(e)].every((i) => i.ok);
}

function auditInvariant(e: Engine, records: AuditRecord[]): Invariant {
  const missing: string[] = [];
  const acted = records.filter((r) => r.decision === 'acted');
  for (const d of e.world.registry.deleted) {
    if (!acted.some((r) => r.action === 'runner.deregister' && r.subject.runnerId === d.id)) {
      missing.push(`runner ${d.name} (id ${d.id}) was deregistered without a runner.deregister audit record`);
    }
  }
  for (const h of e.hooks) {
    const outcome = e.world.scopes.parts(h.scope).lifecycleActions.outcome(h.token);
    if (outcome !== 'CONTINUE' && outcome !== 'ABANDON') continue;
    if (!acted.some((r) => r.action === 'lifecycle.complete' && r.subject.instanceId === h.instanceId)) {
      missing.push(
        `lifecycle action of ${h.instanceId} was completed without a lifecycle.complete audit record`,
      );
    }
  }
  for (const id of e.world.terminator.terminated) {
    if (!acted.some((r) => r.action === 'instance.terminate' && r.subject.instanceId === id)) {
      missing.push(`${id} was terminated without an instance.terminate audit record`);
    }
  }
  const named = new Set(records.flatMap((r) => (r.subject.recordName ? [bare(r.subject.recordName)] : [])));
  for (const req of e.world.route53.changeRequests) {
    if (req.outcome !== 'applied') continue;
    for (const c of req.changes) {
      const name = bare(c.record.name).replace(/^_fleetwarden\./, '');
      if (c.record.type === 'A' && !named.has(name))
        missing.push(`${c.action} ${c.record.type} ${name} has no audit record naming it`);
    }
  }
  return { name: 'every action has an audit record', ok: missing.length === 0, details: missing };
}

export function checkInvariants(e: Engine): Invariant[] {
  const records = e.world.audit.all();
  // GitHub refuses to delete a busy runner, so the registry cannot show this: the ground truth can
  const secs = (ms: number | undefined) => `${Math.round((ms ?? 0) / 1000)} s`;
  const killed = e.killedJobs.flatMap((k) => {
    const job = `job ${k.jobId} on runner ${k.runnerName} was killed`;
    if (k.cause === 'fleet-completed-hook')
      return [
        `${job}: the fleet completed the terminate lifecycle action of ${k.instanceId} while the job ran (held ${secs(k.heldMs)} of the ${secs(e.drainDeadlineMs)} drain deadline)`,
      ];
    if (k.cause === 'fleet-terminated')
      return [`${job}: the fleet terminated ${k.instanceId} while the job ran`];
    return [];
  });
  return [
    ...dnsInvariants(e),
    ghostInvariant(e),
    { name: 'no running job killed by the fleet', ok: killed.length === 0, details: killed },
    auditInvariant(e, records),
    ...boundaryInvariants(e, records),
  ];
}

export interface Summary {
  seed: number;
  options: Record<string, unknown>;
  simulatedSeconds: number;
  convergenceSeconds: number | null;
  wallMs: number;
  counts: Record<string, number>;
  apiCalls: Record<string, number>;
  invocations: Record<string, number>;
  invocationErrors: Record<string, number>;
  deadLettered: Record<string, number>;
  delivery: Record<string, number>;
  notSimulated: string[];
  /** The approval flow: proposals by status, decisions written, notifications sent. */
  approvals: { proposals: number; byStatus: Record<string, number>; decisions: number; notified: number };
  invariants: Invariant[];
}

export function summarize(e: Engine, wallMs: number): Summary {
  const w = e.world;
  const truth = [...e.truth.values()];
  const { overrides: _o, progress: _p, ...options } = e.options;
  return {
    seed: e.options.seed,
    options,
    simulatedSeconds: Math.round((e.clock.now - T0) / 1000),
    convergenceSeconds:
      e.stats.convergedAt === undefined
        ? null
        : Math.max(0, Math.round((e.stats.convergedAt - e.stats.lastChangeAt) / 1000)),
    wallMs,
    counts: {
      instancesLaunched: truth.length,
      instancesLeft: truth.filter((t) => LEFT.has(t.state)).length,
      runnersRegistered: w.registry.snapshot().length + w.registry.deleted.length,
      runnersDeregistered: w.registry.deleted.length,
      terminateHooks: e.hooks.length,
      jobsStarted: e.stats.jobs.started,
      jobsCompleted: e.stats.jobs.completed,
      jobsFailedWithTheirInstance: e.stats.jobs.failed,
      jobsKilledByTheFleet: e.killedJobs.filter(
        (k) => k.cause === 'fleet-completed-hook' || k.cause === 'fleet-terminated',
      ).length,
      jobsKilledAtDrainDeadline: e.killedJobs.filter((k) => k.cause === 'fleet-deadline').length,
      webhooksSent: e.stats.webhooks.sent,
      webhooksAccepted: e.stats.webhooks.accepted,
      auditRecords: w.audit.all().length,
      auditCorrelationResolved: w.audit.all().filter((r) => r.correlation.status === 'resolved').length,
      auditCorrelationPending: w.audit.all().filter((r) => r.correlation.status === 'pending').length,
      auditCorrelationUnresolved: w.audit.all().filter((r) => r.correlation.status === 'unresolved').length,
      cloudTrailEventsDelivered: w.evidence.delivered,
    },
    apiCalls: {
      'route53:ChangeResourceRecordSets': w.route53.changeRequests.length,
      'route53:ListResourceRecordSets': w.route53.listRequests,
      'ec2:DescribeInstances': w.inventory.calls,
      'github:list-runners-pages': w.registry.calls.listPages,
      'github:get-runner': w.registry.calls.get,
      'github:delete-runner': w.registry.calls.delete,
      'github:rate-limited': w.registry.rateLimited,
      'autoscaling:RecordLifecycleActionHeartbeat': w.lifecycleActions.calls.heartbeat,
      'autoscaling:CompleteLifecycleAction': w.lifecycleActions.calls.complete,
      'autoscaling:Describe*': w.instanceLifecycle.calls,
      'ec2:TerminateInstances': w.terminator.terminated.length,
      'events:PutEvents': w.bus.putCalls.length,
      'sqs:ChangeMessageVisibility': w.messageRetry.calls,
      'cloudtrail:LookupEvents': w.evidence.trail.lookups,
    },
    invocations: e.stats.invocations,
    invocationErrors: e.stats.invocationErrors,
    deadLettered: e.stats.deadLettered,
    delivery: {
      eventsEmitted: e.stats.emitted,
      deliveries: e.stats.deliveries,
      dropped: e.stats.dropped,
      duplicated: e.stats.duplicated,
      delayedOutOfOrder: e.stats.delayed,
      injectedErrors: e.stats.injectedErrors,
    },
    notSimulated: e.skipped,
    approvals: approvalCounts(e),
    invariants: checkInvariants(e),
  };
}

function approvalCounts(e: Engine): Summary['approvals'] {
  const all = e.world.proposals.all();
  const byStatus: Record<string, number> = {};
  for (const p of all) byStatus[p.status] = (byStatus[p.status] ?? 0) + 1;
  return {
    proposals: all.length,
    byStatus,
    decisions: e.world.decisions.writes().length,
    notified: e.world.notifier.sent.length,
  };
}

const table = (o: Record<string, unknown>) =>
  `<table>${Object.entries(o)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('')}</table>`;

/** The run's verdict and figures, above the swimlanes. */
function preface(summary: Summary): string {
  const inv = summary.invariants
    .map(
      (i) =>
        `<li class="${i.ok ? 'ok' : 'bad'}">${i.ok ? '&#10004;' : '&#10008;'} ${esc(i.name)}${i.details.length ? `<ul>${i.details.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : ''}</li>`,
    )
    .join('');
  const allOk = summary.invariants.every((i) => i.ok);
  return `<p class="verdict ${allOk ? 'ok' : 'bad'}">${allOk ? 'All invariants hold' : 'INVARIANT BROKEN'}</p>
<p>${summary.simulatedSeconds} simulated seconds in ${summary.wallMs} ms; converged ${summary.convergenceSeconds === null ? 'never' : `${summary.convergenceSeconds} s after the last fleet change`}.</p>
<h2>Invariants</h2><ul>${inv}</ul>
<div class="grid"><div><h2>Counts</h2>${table(summary.counts)}</div><div><h2>API calls</h2>${table(summary.apiCalls)}</div>
<div><h2>Invocations</h2>${table(summary.invocations)}</div><div><h2>Dead-lettered</h2>${table(summary.deadLettered)}</div>
<div><h2>Delivery and chaos</h2>${table(summary.delivery)}</div></div>
<h2>Swimlanes per subject</h2>`;
}

const subjectOf = (r: AuditRecord): string =>
  r.subject.instanceId ??
  r.subject.runnerName ??
  r.subject.recordName ??
  r.subject.autoScalingGroupName ??
  `runner id ${r.subject.runnerId}`;

const NO_SUBJECT = 'messages about no known subject';

/** Records per subject (instance id first), dead letters under the instance their body names. */
function subjectsOf(timeline: AuditRecord[], simDeadLetters: SimDeadLetter[]): SubjectTimeline[] {
  const records = new Map<string, AuditRecord[]>();
  for (const r of timeline) records.set(subjectOf(r), [...(records.get(subjectOf(r)) ?? []), r]);
  const letters = new Map<string, DeadLetter[]>();
  for (const d of simDeadLetters) {
    const named = [...new Set(d.body.match(/i-[0-9a-f]{8,17}/g) ?? [])];
    const key = named.find((n) => records.has(n)) ?? NO_SUBJECT;
    const letter = {
      time: new Date(d.at).toISOString(),
      function: d.fn,
      messageId: d.messageId,
      tries: d.tries,
      subjects: named,
      body: d.body,
    };
    letters.set(key, [...(letters.get(key) ?? []), letter]);
  }
  const keys = [...records.keys(), ...(letters.has(NO_SUBJECT) ? [NO_SUBJECT] : [])];
  const subjects = keys.map((k) =>
    buildSubjectTimeline(k, { records: records.get(k) ?? [], deadLetters: letters.get(k) ?? [] }),
  );
  // the ones with something wrong first: that is where an investigation starts
  const troubled = (s: SubjectTimeline) => s.marks.some((m) => m.error || m.status === 'intended');
  return [...subjects.filter(troubled), ...subjects.filter((s) => !troubled(s))];
}

/**
 * fleetwarden-report/index.html: the run's verdict and figures, then every subject's swimlanes
 * from the renderer `fleetwarden timeline --html` uses, so what the simulator shows is what an
 * on-call engineer will see. Times are the simulated clock's.
 */
export function html(summary: Summary, timeline: AuditRecord[], deadLetters: SimDeadLetter[] = []): string {
  return renderTimelinePage({
    title: `fleetwarden simulation, seed ${summary.seed}`,
    generatedAt: new Date(T0 + summary.simulatedSeconds * 1000).toISOString(),
    source: `simulated run (${timeline.length} audit records; the simulated clock)`,
    notes: [
      'CloudTrail: the simulated events the audit records cite (calls and causes); events no record cites are not drawn',
    ],
    preface: preface(summary),
    subjects: subjectsOf(timeline, deadLetters),
    collapse: true,
  });
}

export function writeReport(
  dir: string,
  summary: Summary,
  timeline: AuditRecord[],
  deadLetters: SimDeadLetter[] = [],
): string[] {
  mkdirSync(dir, { recursive: true });
  const files = [join(dir, 'summary.json'), join(dir, 'timeline.json'), join(dir, 'index.html')];
  writeFileSync(files[0] as string, `${JSON.stringify(summary, null, 2)}\n`);
  writeFileSync(files[1] as string, `${JSON.stringify(timeline, null, 2)}\n`);
  writeFileSync(files[2] as string, html(summary, timeline, deadLetters));
  return files;
}
