import type { ApprovalPolicy, Decision, Judgement, Proposal } from '../../shared/approvals/model';
import { isFinal, judge } from '../../shared/approvals/rules';
import type { ApprovalsSetup } from './setup';

/** A proposal with its decisions, judged now as the fleet would (when the policy is known here). */
export interface Judged {
  proposal: Proposal;
  decisions: Decision[];
  judgement: Judgement;
  /** False when the configured approvers are unknown here: the state is the stored one (or expired). */
  judged: boolean;
  /** How often the proposing remediation runs ("every 5 min"), when it runs on a schedule. */
  schedule?: string;
}

export async function judgeProposal(setup: ApprovalsSetup, proposal: Proposal, now: Date): Promise<Judged> {
  const decisions = await setup.aws.decisions(setup.decisionsTable).decisions(proposal.id);
  return { proposal, decisions, ...judgeHere(proposal, decisions, setup.policy, now) };
}

/** `judge` with the policy; without it, the stored status (expired once past expiresAt). */
export function judgeHere(
  p: Proposal,
  decisions: readonly Decision[],
  policy: ApprovalPolicy | undefined,
  now: Date,
): { judgement: Judgement; judged: boolean } {
  if (policy) return { judgement: judge(p, decisions, policy, now), judged: true };
  const expired = !isFinal(p.status) && p.status === 'open' && now.getTime() >= Date.parse(p.expiresAt);
  const state = expired ? 'expired' : p.status;
  const reason = expired
    ? `expired at ${p.expiresAt} (decisions not judged here: approvers unknown)`
    : `${p.status}${p.statusReason ? `: ${p.statusReason}` : ''} (as stored; decisions not judged here: approvers unknown)`;
  return { judgement: { state, reason, honoured: [], ignored: [] }, judged: false };
}

/**
 * "every 5 min" for a remediation on a schedule; undefined otherwise. The registry (every handler,
 * and the Powertools logger with them) loads on first use only: not at CLI startup, where it would
 * slow --help and log before `simulate --json` silences the handlers.
 */
export async function scheduleOf(functionName: string): Promise<string | undefined> {
  const { REMEDIATIONS } = await import('../../functions/registry');
  const def = REMEDIATIONS.find((d) => d.name === functionName);
  const schedule = def?.triggers.find((t) => t.kind === 'schedule');
  return schedule && 'minutes' in schedule ? `every ${schedule.minutes} min` : undefined;
}

/** What happens next to a proposal in this state (shown by `show`, `approve`, `reject`). */
export function whatNext(j: Pick<Judged, 'proposal' | 'judgement' | 'schedule'>): string {
  const p = j.proposal;
  const run = `${p.function} acts on it at its next run${j.schedule ? ` (${j.schedule})` : ''}`;
  switch (j.judgement.state) {
    case 'open':
      return `it ${j.judgement.reason}; once approved, ${run} after re-checking the facts (a changed plan voids it and proposes afresh)`;
    case 'approved':
      return `${run} after re-checking the facts: the same plan -> it acts once and audits (details.approval); a changed plan -> void, and a fresh proposal`;
    case 'rejected':
      return `nothing: rejected (${j.judgement.reason}); ${p.function} records the rejection and does not act`;
    case 'expired':
      return `nothing: expired; if ${p.function} still plans it, its next run proposes it afresh`;
    case 'void':
      return `nothing: void (${p.statusReason ?? 'the facts changed'}); the fresh proposal supersedes it (fleetwarden proposals --function ${p.function})`;
    case 'executed':
      return `nothing: executed${p.execution ? ` by record ${p.execution.recordId}${p.execution.at ? ` at ${p.execution.at}` : ''}` : ''}`;
  }
}

/** "1 of 12 runners", "1 EBS volume". */
export function blastText(p: Proposal): string {
  const b = p.blastRadius;
  return `${b.count}${b.of !== undefined ? ` of ${b.of}` : ''} ${b.what}`;
}

/** A duration as "45s", "35m", "5h", "3d". */
export function ageText(ms: number): string {
  const s = Math.floor(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${s % 3600 >= 60 ? `${Math.floor((s % 3600) / 60)}m` : ''}`;
  return `${Math.floor(s / 86_400)}d${s % 86_400 >= 3600 ? `${Math.floor((s % 86_400) / 3600)}h` : ''}`;
}

/** "in 23h30m" or "5m ago". */
export function relative(iso: string, now: Date): string {
  const ms = Date.parse(iso) - now.getTime();
  return ms >= 0 ? `in ${ageText(ms)}` : `${ageText(ms)} ago`;
}
