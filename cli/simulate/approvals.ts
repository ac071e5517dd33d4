/**
 * Approvals in the simulator (issue 12): the named scenarios that deploy the approval flow, the
 * simulated on-call approver, and the invariants every run keeps:
 * - no irreversible action (TerminateInstances, DeleteVolume, or any call made under an approval)
 *   without a valid, unexpired approval of a configured approver recorded BEFORE it, for a proposal
 *   that names that very resource and was not void, rejected or expired (judged from the tables,
 *   never from what the action's record claims);
 * - no decision written by a fleet function role (the decisions table records every writer; a
 *   write its resource policy denied counts too);
 * - with an approver on duty: every proposal they approved (in time for a run to see it) ends
 *   executed or void, never left hanging.
 */

import type { Decision, Proposal } from '../../shared/approvals/model';
import { judge } from '../../shared/approvals/rules';
import { approvalPolicy, readApprovalSettings } from '../../shared/approvals/settings';
import type { AuditRecord } from '../../shared/audit/schema';
import { T0 } from './engine';
import { SIM_ACCOUNT } from './evidence';
import { OPERATOR } from './fleet-model';
import type { MutatingCall } from './journal';
import { MULTI_ACCOUNT_CONFIG, scheduleMultiAccount } from './multi-account';
import { envOf, type Invariant, invariant, rel } from './remediation-simulation';
import type { Engine } from './scenario';

/** The role session a fleet function runs as (as CloudTrail names it). */
export const functionPrincipal = (fn: string) =>
  `arn:aws:sts::${SIM_ACCOUNT}:assumed-role/Fleetwarden-${fn}/${fn}`;

/** The simulated on-call approver: their own identity, and the Approver role session they decide under. */
export const SIM_APPROVER = `arn:aws:sts::${SIM_ACCOUNT}:assumed-role/OnCall/sim-approver`;
/** The approvers the simulated stack configures (the on-call role). */
export const SIM_APPROVERS = [`arn:aws:iam::${SIM_ACCOUNT}:role/OnCall`];

/** A named scenario (`--scenario`): what the simulated stack deploys, and the events it adds. */
export interface Scenario {
  name: string;
  description: string;
  /** Deploy the approval flow, with the simulated on-call role as the approvers. */
  approvals?: boolean;
  /** Lay its events out (after the fleet's own and the faults'). */
  schedule?: (e: Engine) => void;
  /** Fleet configuration the scenario's stack adds (e.g. the spokes of a hub). */
  config?: Record<string, unknown>;
}

/** How long the simulated on-call takes to read a proposal and approve it. */
export const APPROVER_DELAY_MS = 8 * 60_000;

export const SCENARIOS: readonly Scenario[] = [
  { name: 'fleet', description: "the fleet's day (default)" },
  {
    name: 'on-call',
    description:
      "the fleet's day with approvals deployed and an on-call who approves every proposal after 8 min",
    approvals: true,
    schedule: (e) => approver(e, APPROVER_DELAY_MS),
  },
  {
    name: 'approvals',
    description:
      'approvals deployed; an operator kills 60% of the runners at once: the sweep breaker refuses the mass removal and proposes it, the on-call approves, the sweep removes exactly the approved runners',
    approvals: true,
    schedule: (e) => {
      massGhosting(e);
      approver(e, APPROVER_DELAY_MS);
    },
  },
  {
    name: 'approval-void',
    description:
      'as approvals, but a human deregisters one of the ghosts after the proposal and before the approval: the approved proposal is void (facts changed), a fresh one is approved and executed',
    approvals: true,
    schedule: (e) => {
      massGhosting(e);
      factsChangeBeforeApproval(e);
      // quick enough to approve the proposal after the facts changed, before the next sweep run
      approver(e, 3 * 60_000);
    },
  },
  {
    name: 'multi-account',
    description:
      "a hub and spokes in 3 accounts x 2 regions: hosts in every spoke reach the hub through the spoke stacks' forwarding rules and are acted on in their own account and region; an unknown account's event is refused, a spoke's claim about another spoke's instance changes nothing",
    config: MULTI_ACCOUNT_CONFIG,
    schedule: scheduleMultiAccount,
  },
];

export function scenarioNamed(name: string | undefined): Scenario {
  const s = SCENARIOS.find((x) => x.name === (name ?? 'fleet'));
  if (!s) throw new Error(`unknown scenario "${name}": one of ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}

/** The Approver role session the simulated on-call decides under (the deployed role's name). */
export function approverSession(e: Engine): string {
  const role = [...e.routing.functions.values()]
    .map((f) => f.env.APPROVER_ROLE_ARN)
    .find((a): a is string => a !== undefined);
  const name = role?.split(':role/')[1]?.split('/').pop() ?? 'approver';
  return `arn:aws:sts::${SIM_APPROVER.split(':')[4]}:assumed-role/${name}/sim-approver`;
}

/** The approval block the simulated stack deploys for a scenario that wants approvals. */
export function approvalsConfig(s: Scenario): Record<string, unknown> {
  return { ...(s.approvals ? { approvals: { approvers: SIM_APPROVERS } } : {}), ...s.config };
}

/** At 15 min, an operator terminates 60% of the running runners at once (their runners stay registered). */
function massGhosting(e: Engine): void {
  e.at(T0 + 15 * 60_000, () => {
    const runners = [...e.truth.values()].filter((t) => t.kind === 'runner' && t.state === 'running');
    for (const t of runners.slice(0, Math.ceil(runners.length * 0.6))) {
      e.world.evidence.change('TerminateInstances', OPERATOR, t.id);
      e.terminateNow(t, 'other');
    }
  });
}

const newestOpenRun = (e: Engine) =>
  e.world.proposals.all().find((p) => p.key.endsWith('#run') && p.status === 'open');

/**
 * Once the sweep proposed the mass removal, a human deregisters one of its runners by hand (two
 * minutes later): the plan the on-call then approves is no longer the plan a run would make.
 */
function factsChangeBeforeApproval(e: Engine): void {
  let done = false;
  const watch = () => {
    const p = newestOpenRun(e);
    const runnerId = p?.changes.find((c) => c.subject.runnerId !== undefined)?.subject.runnerId;
    if (p && runnerId !== undefined && !done) {
      done = true;
      e.after(2 * 60_000, () => e.world.registry.unregister(runnerId));
      return;
    }
    if (!done) e.after(30_000, watch);
  };
  e.at(T0 + 15 * 60_000, watch);
}

/** The on-call approver: every minute, approves each open proposal older than `delayMs`. */
function approver(e: Engine, delayMs: number): void {
  const end = T0 + (e.options.durationMinutes + e.options.settleMinutes) * 60_000;
  const look = async () => {
    for (const p of e.world.proposals.all()) {
      if (p.status !== 'open' || e.clock.now - Date.parse(p.createdAt) < delayMs) continue;
      if ((await e.world.decisions.decisions(p.id)).some((d) => d.approver.arn === SIM_APPROVER)) continue;
      await e.world.decisions.as(approverSession(e)).decide(approval(e, p));
    }
    if (e.clock.now + 60_000 < end) e.after(60_000, look);
  };
  e.at(T0 + 60_000, look);
}

function approval(e: Engine, p: Proposal): Decision {
  return {
    proposalId: p.id,
    fingerprint: p.fingerprint,
    decision: 'approve',
    reason: 'checked the ghosts in the runner list and EC2: simulated on-call',
    approver: {
      arn: SIM_APPROVER,
      sessionArn: approverSession(e),
      account: SIM_APPROVER.split(':')[4] ?? '',
    },
    decidedAt: new Date(e.clock.now).toISOString(),
    requestIds: [`sim-approve-${p.id}`],
  };
}

/** The approval an action's audit record cites (`details.approval.proposalId`), if any. */
const citedProposal = (r: AuditRecord | undefined): string | undefined => {
  const a = (r?.details as { approval?: { proposalId?: unknown } } | undefined)?.approval;
  return typeof a?.proposalId === 'string' ? a.proposalId : undefined;
};

const IRREVERSIBLE = new Set<MutatingCall['operation']>(['TerminateInstances', 'DeleteVolume']);

/** Whether the proposal names the call's resource (instance, volume or runner). */
function names(p: Proposal, c: MutatingCall): boolean {
  const subjects = p.changes.map((x) => x.subject);
  return c.resources.every((r) =>
    subjects.some(
      (s) =>
        s.instanceId === r || s.recordName === r || (s.runnerId !== undefined && String(s.runnerId) === r),
    ),
  );
}

/** Why the approval behind call `c` is not valid, or undefined when it is. */
function invalidApproval(e: Engine, c: MutatingCall, record: AuditRecord | undefined): string | undefined {
  const id = citedProposal(record);
  if (!id) return 'no approval cited by its audit record';
  const settings = readApprovalSettings(envOf(e, c.fn));
  if (!settings) return `cites ${id} but ${c.fn} has no approval flow deployed`;
  const p = e.world.proposals.all().find((x) => x.id === id);
  if (!p) return `cites ${id}, which is not in the proposals table`;
  if (['void', 'rejected', 'expired'].includes(p.status)) return `cites ${id}, which is ${p.status}`;
  if (!names(p, c)) return `${id} does not name ${c.resources.join(',')}`;
  const before = allDecisions(e).filter((d) => d.proposalId === id && Date.parse(d.decidedAt) <= c.at);
  const j = judge({ ...p, status: 'open' }, before, approvalPolicy(settings), new Date(c.at));
  return j.state === 'approved' ? undefined : `${id} was not approved before it (${j.reason})`;
}

const allDecisions = (e: Engine): Decision[] => e.world.decisions.writes().map((w) => w.decision);

const holders = (records: AuditRecord[]) => {
  const holder = new Map<string, AuditRecord>();
  for (const r of records)
    for (const c of [...r.calls, ...r.githubCalls]) if (c.requestId) holder.set(c.requestId, r);
  return holder;
};

/**
 * The request ids of the calls made under a valid approval (a human approved exactly that, before
 * it): the breaker's budget does not count them (what was approved is checked by
 * `approvedBeforeIrreversible`).
 */
export function approvedCalls(e: Engine, records: AuditRecord[]): Set<string> {
  const holder = holders(records);
  return new Set(
    e.world.journal.calls
      .filter(
        (c) => citedProposal(holder.get(c.requestId)) && !invalidApproval(e, c, holder.get(c.requestId)),
      )
      .map((c) => c.requestId),
  );
}

/** Invariant: no irreversible action without a valid, unexpired approval recorded before it. */
export function approvedBeforeIrreversible(e: Engine, records: AuditRecord[]): Invariant {
  const holder = holders(records);
  const details: string[] = [];
  let checked = 0;
  for (const c of e.world.journal.calls) {
    if (c.invocation === 0 || c.outcome !== 'success') continue;
    const record = holder.get(c.requestId);
    if (!IRREVERSIBLE.has(c.operation) && !citedProposal(record)) continue;
    checked++;
    const why = invalidApproval(e, c, record);
    if (why) details.push(`${c.fn} ${c.operation} ${c.resources.join(',')} at ${rel(c.at)}: ${why}`);
  }
  return invariant('no irreversible action without a valid approval recorded before it', details, checked);
}

/** Invariant: every decision was written under the Approver role; none by (or tried by) a fleet function. */
export function decisionsByApproversOnly(e: Engine): Invariant {
  const writes = e.world.decisions.writes();
  const tried = e.world.decisions.denied();
  const details = [
    ...writes.map((w) => ({ ...w, how: 'written' })),
    ...tried.map((w) => ({ ...w, how: 'tried (denied)' })),
  ]
    .filter((w) => w.principal !== approverSession(e))
    .map((w) => `decision ${w.decision.decision} of ${w.decision.proposalId} ${w.how} by ${w.principal}`);
  return invariant('no decision written by a fleet function role', details, writes.length + tried.length);
}

/** Whether the proposing function asked the gate about `p` again after `at` (a run that re-judged it). */
const askedAgain = (records: AuditRecord[], p: Proposal, at: number) =>
  records.some(
    (r) =>
      r.function === p.function &&
      Date.parse(r.time) > at &&
      (r.details as { proposalId?: unknown } | undefined)?.proposalId === p.id,
  );

/**
 * Invariant (approver on duty): a proposal approved in time ends executed or void, never hanging
 * once its function re-judged it. One its function could not re-judge (its listing came back empty:
 * nothing judged) rightly stays approved until it expires.
 */
export function approvedProposalsSettled(e: Engine, records: AuditRecord[] = []): Invariant {
  const end = T0 + (e.options.durationMinutes + e.options.settleMinutes) * 60_000;
  const approvedInTime = new Set(
    allDecisions(e)
      .filter((d) => d.decision === 'approve' && Date.parse(d.decidedAt) < end - 15 * 60_000)
      .map((d) => d.proposalId),
  );
  const approvedAt = (id: string) =>
    Math.min(
      ...allDecisions(e)
        .filter((d) => d.proposalId === id)
        .map((d) => Date.parse(d.decidedAt)),
    );
  const details = e.world.proposals
    .all()
    .filter((p) => approvedInTime.has(p.id) && !['executed', 'void'].includes(p.status))
    .filter((p) => askedAgain(records, p, approvedAt(p.id)))
    .map((p) => `${p.id} (${p.summary}) approved but still ${p.status} at the end`);
  return invariant('every approved proposal executed or void', details, approvedInTime.size);
}

/** The approval invariants of a run. */
export function approvalInvariants(e: Engine, records: AuditRecord[]): Invariant[] {
  return [
    approvedBeforeIrreversible(e, records),
    decisionsByApproversOnly(e),
    approvedProposalsSettled(e, records),
  ];
}
