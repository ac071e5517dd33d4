import { type AuditContext, actionRecordId, auditedAction, declareIntent } from '../audit/audited-action';
import type { AuditSink } from '../audit/port';
import type { Subject } from '../audit/schema';
import { FleetwardenError } from '../core/errors';
import type { ApprovalGate, ApprovalVerdict } from './approval';
import type { ActionKind, Noted, Planned } from './definition';

/** A planned kind the remediation does not declare: a bug in its planner; nothing is done. */
export class UndeclaredActionError extends FleetwardenError {
  override readonly name: string = 'UndeclaredActionError';
}

/** What one run may spend of the persisted blast-radius budget (reserved before acting). */
export interface Allowance {
  /** Take `weight` units; false (nothing taken) when too few are left. */
  take(weight: number): boolean;
  readonly left: number;
}

/** An allowance of `units` (Infinity for a dry run or a remediation without a budget). */
export function allowance(units: number): Allowance {
  let left = units;
  return {
    take(weight) {
      if (weight > left) return false;
      left -= weight;
      return true;
    },
    get left() {
      return left;
    },
  };
}

/** What `perform` reads of an action kind (its IAM and GitHub permissions are the deployment's). */
export type PerformedAction = Omit<ActionKind<never>, 'iam' | 'github'>;

/** What performing an action needs: the same for every remediation (built by the kernel's run). */
export interface RunKit {
  spec: { name: string; actions: Readonly<Record<string, PerformedAction>> };
  audit: AuditSink;
  ctx: AuditContext;
  dryRun: boolean;
  gate: ApprovalGate;
  allowance: Allowance;
}

/** What an `act` reports; `reason` and `details` refine the planned ones. */
export interface ActResult {
  decision: 'acted' | 'skipped' | 'reported' | 'refused';
  reason?: string;
  details?: Record<string, unknown>;
}

export interface Performed extends ActResult {
  reason: string;
}

function kindOf(kit: RunKit, planned: Planned): PerformedAction {
  const kind = kit.spec.actions[planned.kind];
  if (kind) return kind;
  const declared = Object.keys(kit.spec.actions).join(', ');
  throw new UndeclaredActionError(
    `${planned.kind} is not an action ${kit.spec.name} declares (declared: ${declared}); nothing was done`,
  );
}

/**
 * The one way a remediation changes the fleet. For a planned action of a declared kind, inside its
 * audit record: dry run -> reported; irreversible and not `unattended` -> the approval gate (no ->
 * reported); weight > 0 -> the run's budget allowance (spent -> refused); then the intent record
 * (written before the first mutating call, by the call recorder), `act`, and the outcome record.
 * Only the kind's declared calls can be sent; any other fails the action (UndeclaredCallError).
 * Errors of `act` leave a failed record and are rethrown (retries, DLQ).
 *
 * `preview` (optional) is what a dry run runs instead of `act`: reads only (no fleet-mutating call
 * can leave it: none is allowed in a dry run), to report what the action would do; its reason and
 * details are recorded, its decision is always 'reported'.
 */
export function perform(
  kit: RunKit,
  planned: Planned,
  act: () => Promise<ActResult>,
  preview?: () => Promise<ActResult>,
): Promise<Performed> {
  return performThrough(throughGate, kit, planned, act, preview);
}

/** An action kind that needs a human's approval, performed by `performUngated`: a bug; nothing is done. */
export class UngatedPerformError extends FleetwardenError {
  override readonly name: string = 'UngatedPerformError';
}

/**
 * `perform` for a remediation with no gated action (every kind reversible or `unattended`, as
 * `ungatedLambdaHandler`): the same guarantees, without the approval gate's code in its bundle. A
 * kind that needs approval fails its action (UngatedPerformError, failed record): it never acts.
 */
export function performUngated(
  kit: RunKit,
  planned: Planned,
  act: () => Promise<ActResult>,
  preview?: () => Promise<ActResult>,
): Promise<Performed> {
  return performThrough(refuseUngated, kit, planned, act, preview);
}

/** How an action that needs approval gets past the gate (`perform`) or not (`performUngated`). */
type GateStep = (
  kit: RunKit,
  kind: PerformedAction,
  planned: Planned,
  details: Record<string, unknown>,
) => Promise<{
  notes: readonly Noted[];
  reported?: string;
  act?: (act: () => Promise<ActResult>) => Promise<ActResult>;
}>;

async function performThrough(
  gate: GateStep,
  kit: RunKit,
  planned: Planned,
  act: () => Promise<ActResult>,
  preview?: () => Promise<ActResult>,
): Promise<Performed> {
  const kind = kindOf(kit, planned);
  const calls = new Set(kit.dryRun ? [] : kind.calls);
  const what = { action: kind.audit, subject: planned.subject, calls };
  let notes: readonly Noted[] = [];
  const performed = await auditedAction(kit.audit, kit.ctx, what, async () => {
    const details: Record<string, unknown> = { ...planned.details };
    const say = (decision: Performed['decision'], reason: string) => ({
      decision,
      reason,
      details,
      result: { decision, reason, details },
    });
    if (kit.dryRun) {
      const p = preview ? await preview() : undefined;
      Object.assign(details, p?.details);
      return say('reported', p?.reason ?? `dry run: would ${kind.does}: ${planned.reason}`);
    }
    const gated = !kind.reversible && !kind.unattended ? await gate(kit, kind, planned, details) : undefined;
    notes = gated?.notes ?? [];
    if (gated?.reported) return say('reported', gated.reported);
    // a human's approval stands in for the budget: the breaker's limit is what they were asked about
    if (!gated?.act && kind.weight > 0 && !kit.allowance.take(kind.weight)) {
      return say(
        'refused',
        `blast-radius budget spent for this window: not allowed to ${kind.does}: ${planned.reason}`,
      );
    }
    declareIntent(planned.reason, details);
    const r = gated?.act ? await gated.act(act) : await act();
    Object.assign(details, r.details);
    return say(r.decision, r.reason ?? planned.reason);
  });
  // the gate's own decisions (a proposal made, voided, rejected) follow the action's record
  for (const note of notes) await recordNote(kit, note);
  return performed;
}

/** The approval gate: not approved -> reported (with its proposal); approved -> acts, then settles. */
const throughGate: GateStep = async (kit, kind, planned, details) => {
  const verdict = await askGate(kit, kind, planned);
  const notes = verdict.notes ?? [];
  if (!verdict.approved) {
    if (verdict.proposalId) details.proposalId = verdict.proposalId;
    return { notes, reported: `needs approval to ${kind.does}: ${planned.reason} (${verdict.reason})` };
  }
  details.approval = approvalDetails(verdict);
  return { notes, act: (act) => settled(verdict, act) };
};

const refuseUngated: GateStep = async (kit, kind) => {
  throw new UngatedPerformError(
    `${kit.spec.name}'s ${kind.audit} needs a human's approval, and it was performed without the approval gate (performUngated): nothing was done`,
  );
};

function askGate(kit: RunKit, kind: PerformedAction, planned: Planned): Promise<ApprovalVerdict> {
  const change = {
    kind: planned.kind,
    action: kind.audit,
    subject: planned.subject,
    reason: planned.reason,
    facts: { ...(planned.facts ?? planned.details ?? {}) },
  };
  return kit.gate.check({
    function: kit.spec.name,
    why: 'irreversible',
    reason: planned.reason,
    changes: [change],
    trigger: kit.ctx.trigger,
    triggerId: kit.ctx.trigger.id,
    ...(planned.evidence ? { evidence: planned.evidence } : {}),
    claimant: actionRecordId(kit.ctx, { action: kind.audit, subject: planned.subject }),
  });
}

/** What the action's record says of the approval it acts on (the evidence links). */
export function approvalDetails(v: Extract<ApprovalVerdict, { approved: true }>): Record<string, unknown> {
  return {
    proposalId: v.proposalId,
    by: [...v.by],
    decisions: v.decisions.map((d) => ({
      approver: d.approver.arn,
      session: d.approver.sessionArn,
      decision: d.decision,
      reason: d.reason,
      decidedAt: d.decidedAt,
      requestIds: [...d.requestIds],
    })),
  };
}

/** Run `act`; an approved execution is settled with how it ended (failed: it may be retried). */
async function settled(
  approved: Extract<ApprovalVerdict, { approved: true }>,
  act: () => Promise<ActResult>,
): Promise<ActResult> {
  let r: ActResult;
  try {
    r = await act();
  } catch (err) {
    await approved.settle('failed');
    throw err;
  }
  await approved.settle(r.decision === 'acted' || r.decision === 'skipped' ? 'acted' : 'failed');
  return r;
}

/** Record a decision that takes no action (skipped, reported, refused) under its own audit name. */
export async function recordNote(kit: RunKit, note: Noted): Promise<void> {
  await auditedAction(kit.audit, kit.ctx, { action: note.audit, subject: note.subject }, async () => ({
    decision: note.decision,
    reason: note.reason,
    ...(note.details ? { details: { ...note.details } } : {}),
    result: undefined,
  }));
}

/**
 * Record a decision that failed without acting (a malformed message, a fact that cannot be verified
 * yet, an action whose batch failed), in dry runs too, then rethrow `error` (the message is retried,
 * then dead-lettered; the run fails).
 */
export async function recordFailure(
  kit: RunKit,
  what: { audit: string; subject: Subject },
  error: Error,
): Promise<never> {
  return auditedAction(kit.audit, kit.ctx, { action: what.audit, subject: what.subject }, async () => {
    throw error;
  });
}
