import type { Decision, Proposal, ProposalStatus } from './model';

/**
 * The proposals table. Fleet function roles create proposals, change their status and claim their
 * execution; the Approver role reads them. Nobody deletes one (point-in-time recovery, audit).
 */
export interface ProposalStore {
  /** Create; 'exists' when a proposal with this id is already stored (at-least-once runs). */
  create(proposal: Proposal): Promise<'created' | 'exists'>;
  get(id: string): Promise<Proposal | undefined>;
  /** Every proposal with this key, newest first (strongly consistent enough for one writer). */
  byKey(key: string): Promise<Proposal[]>;
  /** Proposals, newest first, optionally filtered (the CLI; the expiry sweep). */
  list(filter?: { status?: ProposalStatus; function?: string; limit?: number }): Promise<Proposal[]>;
  /**
   * Move to `to` only if the stored status is one of `from` (conditional write); false when it was
   * not (a concurrent run moved it first).
   */
  transition(
    id: string,
    from: readonly ProposalStatus[],
    to: ProposalStatus,
    reason: string,
    at: string,
  ): Promise<boolean>;
  /**
   * Claim the execution for the run whose audit record is `recordId`: succeeds when nobody claimed
   * it, when `recordId` claimed it already (a retry), or when the last execution failed.
   */
  claimExecution(id: string, recordId: string, at: string): Promise<boolean>;
  /** Record how the claimed execution ended (acted -> status executed; failed -> stays approved). */
  settleExecution(id: string, recordId: string, outcome: 'acted' | 'failed', at: string): Promise<void>;
}

/** Reading decisions: fleet functions and the CLI. */
export interface DecisionReader {
  decisions(proposalId: string): Promise<Decision[]>;
}

/**
 * Writing decisions: ONLY the Approver role (the `fleetwarden approve|reject` CLI). No fleet function
 * is ever wired with it (the decisions table's resource policy and IAM deny every other writer).
 * A decision is never overwritten (one per approver and proposal).
 */
export interface DecisionWriter {
  decide(decision: Decision): Promise<'written' | 'exists'>;
}

/** Tells humans a proposal waits for them (SNS topic; optionally a GitHub issue). */
export interface ProposalNotifier {
  proposed(proposal: Proposal): Promise<void>;
}
