import type { Decision, PlannedChange, ProposalEvidence, ProposalWhy } from '../approvals/model';
import type { Trigger } from '../audit/schema';
import type { Noted } from './definition';

/**
 * The approval seam: every irreversible action a remediation does not declare `unattended`, and a
 * run the circuit breaker or the removal budget refuses, asks the gate before it acts. The gate
 * answers from humans' recorded decisions (shared/approvals/gate.ts: proposals, approvers); without
 * an approval flow deployed, `REPORT_ONLY_GATE` answers no and the action is only reported.
 */
export interface ApprovalRequest {
  /** The remediation asking. */
  function: string;
  why: ProposalWhy;
  /** One line: what would be done (defaults to the changes' reasons). */
  summary?: string;
  /** Why the planner wants it (and, for breaker/budget, why the run was refused). */
  reason: string;
  /** The exact planned actions (one for an irreversible action; a refused run's batch). */
  changes: readonly PlannedChange[];
  /** How much it touches: `count` of `of` (fleet size judged by), what. */
  blastRadius?: { count: number; of?: number; what: string };
  /** The trigger of the asking run, and its audit record id (evidence for the approver). */
  trigger: Trigger;
  triggerId: string;
  evidence?: Partial<Omit<ProposalEvidence, 'triggerId'>>;
  /** The principal behind the trigger, when known (two-person rule). */
  principal?: string;
  /**
   * Who would execute (the audit record id of the action or run): the execution is claimed for it,
   * so an approved proposal is acted on once (a retry with the same id may claim again).
   */
  claimant: string;
}

export type ApprovalVerdict =
  | {
      approved: true;
      proposalId: string;
      /** The honoured approvers' identities (ARNs). */
      by: readonly string[];
      decisions: readonly Decision[];
      /** Record how the execution ended (acted -> the proposal is executed; failed -> it stays approved). */
      settle(outcome: 'acted' | 'failed'): Promise<void>;
      /** Decisions about proposals to record after the action's own record (a void, a rejection seen). */
      notes?: readonly Noted[];
    }
  | {
      approved: false;
      /** Why not: "proposal fwp-… waits for approval (expires …)", "rejected by …", "no approval flow …". */
      reason: string;
      proposalId?: string;
      /** Decisions about proposals to record after the action's own record (proposed, void, expired, rejected). */
      notes?: readonly Noted[];
    };

export interface ApprovalGate {
  check(request: ApprovalRequest): Promise<ApprovalVerdict>;
}

/** No approvals deployed: an irreversible action is reported, never taken. */
export const REPORT_ONLY_GATE: ApprovalGate = {
  async check() {
    return {
      approved: false,
      reason: 'irreversible: it waits for a human approval, and no approval flow is deployed: reported only',
    };
  },
};
