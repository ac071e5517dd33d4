import type { Context, ScheduledEvent } from 'aws-lambda';
import type { PlannedChange } from '../../shared/approvals/model';
import { type AuditContext, actionRecordId, auditedAction } from '../../shared/audit/audited-action';
import { RunnerBusyError } from '../../shared/github/errors';
import type { GitHubRunner } from '../../shared/github/port';
import type { ApprovalGate, ApprovalVerdict } from '../../shared/kernel/approval';
import { reserveBudget } from '../../shared/kernel/budget';
import type { ActionKind } from '../../shared/kernel/definition';
import {
  type ActResult,
  type Allowance,
  allowance,
  approvalDetails,
  type RunKit,
  recordNote,
} from '../../shared/kernel/perform';
import {
  performSteps,
  type Runtime,
  rethrow,
  type Step,
  type StepsOutcome,
} from '../../shared/kernel/remediation';
import { logger, metrics } from '../../shared/observability/powertools';
import type { Finding, Removal, SweepAction, SweepPlan } from '../../shared/runners/sweep-planner';
import { removalBudget } from '../../shared/runners/sweep-planner';
import type { RunnerSweepSettings } from './settings';
import {
  type Observed,
  observe,
  planAndConfirm,
  remembered,
  type SweepPorts,
  sweepConfig,
} from './sweep-facts';

export interface SweepSummary {
  runners: number;
  instances: number;
  deregistered: number;
  terminated: number;
  /** Removals a human's approval is needed for, proposed or reported only: never attempted. */
  awaitingApproval: number;
  reported: number;
  skipped: number;
  failed: number;
  /** Removals left for the next run by maxRemovalsPerRun. */
  deferred: number;
  refused: boolean;
}

/**
 * Audit names of the decisions the sweep records without acting (`recordNote`), kept exactly as
 * before the kernel (timeline and report read them): a skipped deregistration or a termination
 * withdrawn by the re-check keeps its action's name; each finding is reported under its own.
 */
export const SWEEP_NOTES = {
  skip: 'runner.deregister',
  keep: 'instance.terminate',
  findings: {
    'never-registered': 'instance.never-registered',
    'busy-on-leaving-instance': 'runner.busy-on-leaving-instance',
    'unverifiable-runner': 'runner.unverifiable',
    'online-on-leaving-instance': 'runner.online-on-leaving-instance',
    'offline-busy': 'runner.offline-busy',
  } satisfies Record<Finding, string>,
  /** The run's own record (what it judged, counts, refusal). */
  run: 'runner.sweep',
} as const;

const FUNCTION = 'runner-sweep';

interface Spec {
  name: string;
  actions: Readonly<Record<'deregister' | 'terminate', ActionKind<never>>>;
}

/**
 * Scheduled sweep: read EVERY page of runners and fleet instances, plan (shared/runners), reserve
 * the plan's removals in the persisted rolling budget BEFORE removing (kernel `reserveBudget`), then
 * every planned removal through the kernel (`performSteps`: dry run, allowance, intent, act) and
 * every other decision as a note; one audit record per decision plus one for the run. A failed
 * action is audited failed and the run rethrows at the end; an audit write failure stops the run at
 * once, and so does a state table failure (nothing removed).
 */
export function sweepHandler(spec: Spec, ports: SweepPorts, s: RunnerSweepSettings, runtime: Runtime) {
  // a removal a human approves one by one is judged by the share, not by the rolling budget
  const approvedOnly = (['deregister', 'terminate'] as const).filter((k) => kindNeedsApproval(spec, k));
  const config = { ...sweepConfig(s), approvedOnly };
  return async (event: ScheduledEvent, context?: Context): Promise<SweepSummary> => {
    // EventBridge / Lambda async can deliver one event twice (another request id), and Lambda
    // retries a failed run under the same request id: each invocation keeps its own records
    const deliveryId = context?.awsRequestId
      ? `${context.awsRequestId}@${runtime.now().toISOString()}`
      : undefined;
    const ctx = auditContext(event, s.dryRun, runtime.now, deliveryId);
    const seen = await observe(ports, s);
    let plan: SweepPlan;
    let granted: Allowance;
    try {
      const at = runtime.now();
      plan = await planAndConfirm(ports, s, config, seen, {
        now: at,
        ...(await remembered(ports, s, seen, at)),
      });
      granted = await reserve(spec, ports, s, plan, deliveryId ? `${event.id}@${deliveryId}` : event.id, at);
    } catch (err) {
      // the budget or the first sightings could not be read or spent: act on nothing, say so, fail
      await auditedAction(ports.audit, ctx, runRecord(s), async () => {
        throw err;
      });
      throw err;
    }
    const kit: RunKit = {
      spec,
      audit: ports.audit,
      ctx,
      dryRun: s.dryRun,
      gate: runtime.gate,
      allowance: granted,
    };
    const asked = await askForRun(kit, s, plan);
    const { steps, performed, errors, attempted } = await performRun(ports, s, kit, plan, asked, {
      runId: deliveryId ? `${event.id}@${deliveryId}` : event.id,
      at: runtime.now(),
      now: runtime.now,
    });
    const tally = count(seen, plan, { steps, performed, attempted, dryRun: s.dryRun }, errors.length);
    await writeRunRecord(ports, ctx, s, seen, plan, tally, asked);
    for (const n of asked?.notes ?? []) await recordNote(kit, n);
    logger.info('runner-sweep', { ...tally.summary });
    rethrow(errors, 'sweep actions');
    return tally.summary;
  };
}

type Approved = Extract<ApprovalVerdict, { approved: true }>;

/** A removal as the change a human approves: the subject and stable facts it is performed with. */
function changeOf(spec: Spec, a: Removal): PlannedChange {
  const subject = a.kind === 'deregister' ? runnerSubject(a) : { instanceId: a.instanceId };
  return { kind: a.kind, action: spec.actions[a.kind].audit, subject, reason: a.reason, facts: a.facts };
}

const changeKey = (c: Pick<PlannedChange, 'kind' | 'subject' | 'facts'>) =>
  JSON.stringify([c.kind, c.subject, c.facts]);

/**
 * A live run the breaker's share or the rolling budget refused, from inputs fit to judge from
 * (`plan.wouldHave`), asks the gate about exactly the removals it would have made: the run's
 * proposal (claimed by the run's own record). A dry run, a failed or empty listing, or nothing to
 * remove asks nothing.
 */
async function askForRun(kit: RunKit, s: RunnerSweepSettings, plan: SweepPlan) {
  const removals = plan.wouldHave ?? [];
  if (kit.dryRun || !plan.refused || removals.length === 0) return undefined;
  const why = plan.refusedBy ?? 'breaker';
  const terminations = removals.filter((a) => a.kind === 'terminate').length;
  return kit.gate.check({
    function: FUNCTION,
    why,
    summary: `remove ${removals.length} of ${plan.fleetSize} (${removals.length - terminations} deregistrations, ${terminations} terminations) the ${why === 'budget' ? 'rolling removal budget' : 'circuit breaker'} refused`,
    reason: plan.refused,
    changes: removals.map((a) => changeOf(kit.spec as Spec, a)),
    blastRadius: { count: removals.length, of: plan.fleetSize, what: 'runners' },
    trigger: kit.ctx.trigger,
    triggerId: kit.ctx.trigger.id,
    claimant: actionRecordId(kit.ctx, runRecord(s)),
  });
}

/**
 * The run's steps through the kernel. Approved (a refused run a human approved): exactly the
 * approved removals too, past the breaker: recorded in the rolling budget's ledger first, an
 * allowance of as many, and a gate that answers the run's approval for its own changes (so each
 * action record links it, `details.approval`); the approval is settled once, after the last.
 */
async function performRun(
  ports: SweepPorts,
  s: RunnerSweepSettings,
  kit: RunKit,
  plan: SweepPlan,
  asked: ApprovalVerdict | undefined,
  run: { runId: string; at: Date; now: () => Date },
) {
  const approved = asked?.approved ? asked : undefined;
  const removals = approved ? (plan.wouldHave ?? []) : [];
  if (approved && removals.length > 0) {
    const expires = new Date(run.at.getTime() + 2 * s.budgetWindow * 1000);
    const unconfirmed = removals.filter((a) => a.kind === 'deregister' && a.unconfirmed).length;
    await ports.sweepState.recordRemovals(removals.length, run.runId, run.at, expires, unconfirmed);
  }
  const runKit: RunKit = approved
    ? { ...kit, allowance: allowance(removals.length), gate: runGate(kit, approved, removals) }
    : kit;
  const details = approved ? { approval: approvalDetails(approved) } : undefined;
  const attempted = new Set<SweepAction>();
  const inRun = { ports, attempted };
  // the approved run's removals are in the ledger already; a planned one a human approves spends
  // its unit when it is performed (`reserve` left it out)
  const spend = (a: Removal) => spendWhenApproved(kit.spec as Spec, ports, s, plan, run, a);
  const steps = new Map([
    ...removals.map((a) => [stepOf(inRun, a, details), a] as const),
    ...plan.actions.map((a) => [stepOf(inRun, a, undefined, spend), a] as const),
  ]);
  let out: StepsOutcome;
  try {
    out = await performSteps(runKit, [...steps.keys()]);
  } catch (err) {
    await approved?.settle('failed');
    throw err;
  }
  await approved?.settle(out.errors.length > 0 ? 'failed' : 'acted');
  return { steps, attempted, ...out };
}

/** Whether a removal of this kind waits for a human's approval (irreversible, not `unattended`). */
const kindNeedsApproval = (spec: Spec, kind: Removal['kind']) =>
  !spec.actions[kind].reversible && !spec.actions[kind].unattended;
const needsApproval = (spec: Spec, a: Removal) => kindNeedsApproval(spec, a.kind);

/**
 * Just before a planned removal that needed a human's approval is made (the gate approved it): its
 * unit of the rolling budget, reserved in the ledger against the limit the planner judged by, under
 * a run id of its own. False: the window has no unit left for it (refused, not made). Nothing to
 * spend for a removal `reserve` already counted.
 */
async function spendWhenApproved(
  spec: Spec,
  ports: SweepPorts,
  s: RunnerSweepSettings,
  plan: SweepPlan,
  run: { runId: string; now: () => Date },
  a: Removal,
): Promise<boolean> {
  if (!needsApproval(spec, a)) return true;
  const granted = await reserveBudget(ports.sweepState, {
    runId: `${run.runId}/${a.kind}:${a.instanceId}`,
    at: run.now(),
    windowMs: s.budgetWindow * 1000,
    limit: removalBudget(s.maxRemovalShare, plan.fleetRunners ?? 0),
    want: spec.actions[a.kind].weight,
  });
  return granted.take(spec.actions[a.kind].weight);
}

/** The approved run's verdict for its own changes (settled once by the run); others ask the gate. */
function runGate(kit: RunKit, approved: Approved, removals: readonly Removal[]): ApprovalGate {
  const mine = new Set(removals.map((a) => changeKey(changeOf(kit.spec as Spec, a))));
  return {
    async check(r) {
      if (r.changes.every((c) => mine.has(changeKey(c)))) return { ...approved, settle: async () => {} };
      return kit.gate.check(r);
    },
  };
}

function auditContext(
  event: ScheduledEvent,
  dryRun: boolean,
  now: () => Date,
  deliveryId: string | undefined,
): AuditContext {
  return {
    function: FUNCTION,
    trigger: {
      source: 'fleetwarden.schedule',
      id: event.id,
      detailType: event['detail-type'],
      time: new Date(event.time).toISOString(),
    },
    mode: dryRun ? 'dry-run' : 'live',
    now,
    ...(deliveryId ? { deliveryId } : {}),
  };
}

const runRecord = (s: RunnerSweepSettings) => ({
  action: SWEEP_NOTES.run,
  subject: { runnerName: `fleet:${s.fleetTagValue}` },
});

/**
 * Reserve the plan's removals in the persisted rolling budget before making any (live runs only),
 * with how many of them EC2 did not confirm, against the limit the planner judged by. Only those
 * this run will attempt: a removal that needs a human's approval (terminate) spends nothing here:
 * without an approval it is only proposed or reported, and approved it spends its unit when it is
 * performed (`spendWhenApproved`). `runId` names the delivery, so a duplicate delivery of one
 * schedule spends its own share instead of overwriting the first one's. What is granted is the
 * run's allowance: a removal beyond it is refused.
 */
async function reserve(
  spec: Spec,
  ports: SweepPorts,
  s: RunnerSweepSettings,
  plan: SweepPlan,
  runId: string,
  at: Date,
): Promise<Allowance> {
  const removals = plan.actions.filter(
    (a): a is Removal => (a.kind === 'deregister' || a.kind === 'terminate') && !needsApproval(spec, a),
  );
  if (s.dryRun) return allowance(Number.POSITIVE_INFINITY);
  if (removals.length === 0) return allowance(0);
  return reserveBudget(ports.sweepState, {
    runId,
    at,
    windowMs: s.budgetWindow * 1000,
    limit: removalBudget(s.maxRemovalShare, plan.fleetRunners ?? 0),
    want: removals.length,
    unconfirmed: removals.filter((a) => a.kind === 'deregister' && a.unconfirmed).length,
  });
}

/**
 * One planned decision as a kernel step: the removals with their act and stable facts (what a
 * human approves), the rest as notes. `details`: what every removal's record carries (an approval).
 * `spend`: the removal's unit of the budget, taken first in its act (false: refused, not made).
 * `attempted` collects the terminations whose call was made (a failed one counts as terminated).
 */
function stepOf(
  run: { ports: SweepPorts; attempted: Set<SweepAction> },
  a: SweepAction,
  details?: Record<string, unknown>,
  spend?: (a: Removal) => Promise<boolean>,
): Step {
  const { ports } = run;
  switch (a.kind) {
    case 'deregister':
      return {
        kind: 'deregister',
        subject: runnerSubject(a),
        reason: a.reason,
        facts: a.facts,
        ...(details ? { details } : {}),
        act: budgeted(a, spend, () => deregister(ports, a.runner, a.reason)),
      };
    case 'terminate':
      return {
        kind: 'terminate',
        subject: { instanceId: a.instanceId },
        reason: a.reason,
        facts: a.facts,
        ...(details ? { details } : {}),
        act: budgeted(a, spend, () => {
          run.attempted.add(a);
          return terminate(ports, a.instanceId);
        }),
      };
    case 'skip':
      return note(SWEEP_NOTES.skip, 'skipped', runnerSubject(a), a.reason);
    case 'keep':
      return note(SWEEP_NOTES.keep, 'skipped', { instanceId: a.instanceId }, a.reason);
    case 'report':
      return note(SWEEP_NOTES.findings[a.finding], 'reported', a.subject, a.reason);
  }
}

/** `act` after its unit of the budget is spent (when `spend` says so), else refused. */
const budgeted =
  (a: Removal, spend: ((a: Removal) => Promise<boolean>) | undefined, act: () => Promise<ActResult>) =>
  async (): Promise<ActResult> => {
    if (spend && !(await spend(a)))
      return {
        decision: 'refused',
        reason: `blast-radius budget spent for this window: not allowed to ${a.kind}: ${a.reason}`,
      };
    return act();
  };

const runnerSubject = (a: { instanceId: string; runner: GitHubRunner }) => ({
  instanceId: a.instanceId,
  runnerName: a.runner.name,
  runnerId: a.runner.id,
});

const note = (
  audit: string,
  decision: 'skipped' | 'reported',
  subject: Step['subject'],
  reason: string,
): Step => ({ kind: 'note', audit, decision, subject, reason });

/** DELETE the runner; a runner that took a job since the listing (422) is skipped, never removed. */
async function deregister(ports: SweepPorts, runner: GitHubRunner, reason: string): Promise<ActResult> {
  try {
    const r = await ports.registry.deleteRunner(runner.id);
    return { decision: 'acted', reason: r === 'deleted' ? reason : `${reason} (already gone: 404)` };
  } catch (err) {
    if (!(err instanceof RunnerBusyError)) throw err;
    return {
      decision: 'skipped',
      reason: `runner ${runner.name} took a job since the listing; a busy runner is never removed`,
    };
  }
}

async function terminate(ports: SweepPorts, instanceId: string): Promise<ActResult> {
  await ports.terminator.terminate([instanceId]);
  return { decision: 'acted' };
}

interface Tally {
  summary: SweepSummary;
  /** Removals the run's allowance refused (a concurrent run reserved the budget first). */
  budgetRefused: number;
}

type Performed = Awaited<ReturnType<typeof performSteps>>['performed'];

/**
 * The run's counts, as before the kernel: a dry-run removal counts as the removal it would be. A
 * live removal the gate did not approve (reported: proposed, or no approval flow) is counted as
 * awaiting approval, never as done.
 */
function count(
  seen: Observed,
  plan: SweepPlan,
  run: {
    steps: ReadonlyMap<Step, SweepAction>;
    performed: Performed;
    attempted: ReadonlySet<SweepAction>;
    dryRun: boolean;
  },
  failures: number,
): Tally {
  const { steps, performed } = run;
  const summary: SweepSummary = {
    runners: seen.runners.ok ? seen.runners.items.length : 0,
    instances: seen.fleet.ok ? seen.fleet.items.length : 0,
    deregistered: 0,
    terminated: 0,
    awaitingApproval: 0,
    reported: 0,
    skipped: 0,
    failed: failures,
    deferred: plan.deferred?.length ?? 0,
    refused: plan.refused !== undefined,
  };
  let budgetRefused = 0;
  const done = new Set<Step>();
  for (const { step, outcome } of performed) {
    done.add(step);
    const action = steps.get(step);
    const d = outcome.decision;
    if (action?.kind === 'report') {
      summary.reported++;
      metrics.addMetric(`Finding-${action.finding}`, 'Count', 1);
    } else if (d === 'skipped') summary.skipped++;
    else if (d === 'refused') budgetRefused++;
    else if (d === 'reported' && !run.dryRun) summary.awaitingApproval++;
    else if (action?.kind === 'deregister') summary.deregistered++;
    else if (action?.kind === 'terminate') summary.terminated++;
  }
  // a termination attempted and failed still counts as terminated (and as failed), as before the
  // kernel (it may have happened); one that failed before its call (the gate, the ledger) did not
  for (const [step, action] of steps)
    if (!done.has(step) && action.kind === 'terminate' && run.attempted.has(action)) summary.terminated++;
  return { summary, budgetRefused };
}

async function writeRunRecord(
  ports: SweepPorts,
  ctx: AuditContext,
  s: RunnerSweepSettings,
  seen: Observed,
  plan: SweepPlan,
  { summary, budgetRefused }: Tally,
  asked?: ApprovalVerdict,
): Promise<void> {
  if (plan.refused) metrics.addMetric('SweepCircuitOpen', 'Count', 1);
  // a window with units for some ghosts only removes those and defers the rest: on-call is still told
  if (plan.refusedBy === 'budget' || plan.budgetSpent) metrics.addMetric('SweepBudgetExhausted', 'Count', 1);
  const removed = summary.deregistered + summary.terminated > 0;
  const refused = plan.refused && !asked?.approved;
  await auditedAction(ports.audit, ctx, runRecord(s), async () => ({
    decision: refused ? 'refused' : removed ? (s.dryRun ? 'reported' : 'acted') : 'skipped',
    reason: runRecordReason(s, plan, summary, asked),
    details: {
      ...(asked?.proposalId ? { proposalId: asked.proposalId } : {}),
      ...(asked?.approved ? { approval: approvalDetails(asked) } : {}),
      ...summary,
      wouldRemove: plan.wouldRemove,
      fleetSize: plan.fleetSize,
      ...(plan.fleetRunners !== undefined ? { fleetRunners: plan.fleetRunners } : {}),
      ...(plan.deferred?.length ? { deferred: plan.deferred } : {}),
      ...(plan.budgetSpent ? { budgetSpent: plan.budgetSpent } : {}),
      ...(refused ? heldBack(plan) : {}),
      // stopped-instance removals and terminations were withheld this run
      ...(seen.warmPool?.ok === false ? { warmPoolUnread: seen.warmPool.error } : {}),
      ...(budgetRefused > 0 ? { budgetRefused } : {}),
    },
    result: undefined,
  }));
}

/** What refused the run and, judged from fit inputs, the removals it held back (on-call: which). */
function heldBack(plan: SweepPlan) {
  const withheld = (plan.wouldHave ?? []).map((a) => ({
    kind: a.kind,
    instanceId: a.instanceId,
    ...(a.kind === 'deregister' ? { runnerId: a.runner.id } : {}),
    // removals the breaker does not count (planSweep): said so, for whoever judges the refusal
    ...(a.kind === 'deregister' && a.unconfirmed ? { unconfirmed: true } : {}),
    ...(a.kind === 'deregister' && a.handoff ? { handoff: true } : {}),
  }));
  return { refusedBy: plan.refusedBy ?? 'breaker', ...(withheld.length ? { withheld } : {}) };
}

/** Today's reasons; a refused run says what became of its proposal (waiting, or approved by whom). */
function runRecordReason(
  s: RunnerSweepSettings,
  plan: SweepPlan,
  summary: SweepSummary,
  asked: ApprovalVerdict | undefined,
): string {
  if (!plan.refused)
    return plan.budgetSpent ? `${plan.budgetSpent}: ${runReason(s, summary)}` : runReason(s, summary);
  if (!asked) return plan.refused;
  if (!asked.approved) return `${plan.refused}; ${asked.reason}`;
  return `${plan.refused}; approved by ${asked.by.join(', ')} (proposal ${asked.proposalId}): ${runReason(s, summary)}`;
}

function runReason(s: RunnerSweepSettings, t: SweepSummary): string {
  return `${t.runners} runners, ${t.instances} instances: ${t.deregistered} deregistered, ${t.terminated} terminated, ${t.awaitingApproval > 0 ? `${t.awaitingApproval} awaiting approval, ` : ''}${t.reported} reported, ${t.skipped} skipped, ${t.failed} failed, ${t.deferred} deferred to the next run (at most ${s.maxRemovalsPerRun} removals a run)${s.dryRun ? ' (dry run)' : ''}`;
}
