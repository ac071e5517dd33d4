import type { Subject, Trigger } from '../audit/schema';

/**
 * Approvals (issue 12): an irreversible action, or a run the circuit breaker or the removal budget
 * refuses, becomes a PROPOSAL instead of an action. A human with the Approver role DECIDES it
 * (approve / reject, with a reason); the fleet honours only decisions whose approver identity
 * matches the configured approvers (and the two-person rule). After approval the proposing
 * remediation re-verifies the facts on its next run: the same plan (same fingerprint) -> it acts
 * once (execution claimed on the proposal id) and audits; a different plan -> the proposal is void
 * (audited) and a fresh one is made. Expired and rejected proposals are audited; nothing happens.
 *
 * This module is pure: types and rules. Stores and notifiers are ports (port.ts).
 */

export const PROPOSAL_STATUSES = ['open', 'approved', 'rejected', 'expired', 'void', 'executed'] as const;
export type ProposalStatus = (typeof PROPOSAL_STATUSES)[number];

/** Why an action needs a human: it cannot be undone, or the breaker/budget refused the run. */
export type ProposalWhy = 'irreversible' | 'breaker' | 'budget';

/** One exact planned action of a proposal. */
export interface PlannedChange {
  /** The definition's action kind ("delete", "terminate", "deregister"). */
  readonly kind: string;
  /** Its audit name ("volume.delete"). */
  readonly action: string;
  readonly subject: Subject;
  readonly reason: string;
  /**
   * The facts the approval is about, stable across runs while nothing changed (ids, sizes, states,
   * times of events; never "now" or an age): the fingerprint is computed over them.
   */
  readonly facts: Readonly<Record<string, unknown>>;
}

/** What an approver is shown as the evidence behind a proposal. */
export interface ProposalEvidence {
  /** Audit record id of the run/trigger that proposed it. */
  readonly triggerId: string;
  /** Audit record ids of the facts (e.g. the fleet's own attachment / snapshot records). */
  readonly auditRecordIds: readonly string[];
  /** CloudTrail event ids known when proposing (e.g. the termination of the volume's instance). */
  readonly cloudTrailEventIds: readonly string[];
}

export interface Proposal {
  /** Stable id ("fwp-" + 12 base32 chars), derived from key, fingerprint and generation. */
  readonly id: string;
  /** The proposing remediation ("orphaned-volumes"). */
  readonly function: string;
  /** What it is about, stable across runs: `<function>#<kind>#<subject key>` or `<function>#run`. */
  readonly key: string;
  readonly why: ProposalWhy;
  /** One line: what would be done ("delete 1 EBS volume vol-0abc (100 GiB)"). */
  readonly summary: string;
  /** Why the planner wants it, and why it needs a human. */
  readonly reason: string;
  /** The exact planned actions (one, or a run's batch). */
  readonly changes: readonly PlannedChange[];
  /** How much it touches: `count` of `of` (the fleet size the breaker judged by, when known). */
  readonly blastRadius: { readonly count: number; readonly of?: number; readonly what: string };
  /** sha256 over the changes' (kind, subject, facts), hex. */
  readonly fingerprint: string;
  readonly evidence: ProposalEvidence;
  /** Who/what proposed it: the function, its trigger, and the principal behind the trigger if known. */
  readonly proposedBy: { readonly function: string; readonly trigger: Trigger; readonly principal?: string };
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly status: ProposalStatus;
  readonly statusReason?: string;
  readonly statusAt?: string;
  /** The voided proposal this one replaces (facts changed). */
  readonly supersedes?: string;
  /** Set once by the run that executes it (idempotent on the proposal id). */
  readonly execution?: {
    readonly recordId: string;
    readonly claimedAt: string;
    readonly outcome?: 'acted' | 'failed';
    readonly at?: string;
  };
}

/** The identity of an approver as AWS sees it (sts:GetCallerIdentity). */
export interface ApproverIdentity {
  /** The approver's own identity ARN before assuming the Approver role (user, role session, SSO). */
  readonly arn: string;
  /** The Approver role session the decision was written under (assumed-role ARN). */
  readonly sessionArn: string;
  readonly account: string;
  readonly userId?: string;
}

export interface Decision {
  readonly proposalId: string;
  /** The fingerprint the approver saw: a decision never carries over to a changed plan. */
  readonly fingerprint: string;
  readonly decision: 'approve' | 'reject';
  readonly reason: string;
  readonly approver: ApproverIdentity;
  readonly decidedAt: string;
  /** AWS request ids of the calls that made the decision (STS AssumeRole, DynamoDB PutItem). */
  readonly requestIds: readonly string[];
}

/** How decisions are judged (from the deployment's `approvals` config). */
export interface ApprovalPolicy {
  /**
   * IAM principal ARN patterns allowed to approve (`*` wildcard), matched against the approver's
   * own identity in IAM form (an assumed-role session `arn:aws:sts::A:assumed-role/R/s` matches as
   * `arn:aws:iam::A:role/R`, and also as the session ARN itself).
   */
  readonly approvers: readonly string[];
  /** ARN of the Approver role: a decision must have been written under one of its sessions. */
  readonly approverRoleArn: string;
  /** Distinct approvals needed. @default 1 */
  readonly required: number;
  /** Two-person rule: an approver may not be the proposal's `proposedBy.principal`. @default true */
  readonly distinctFromProposer: boolean;
  /** Seconds a proposal stays open. @default 86400 */
  readonly expirySeconds: number;
}

/** A decision the fleet does not honour, and why (shown by `fleetwarden show`, audited on use). */
export interface IgnoredDecision {
  readonly decision: Decision;
  readonly why: string;
}

/** The state of a proposal judged from its stored status, its decisions, the policy and the clock. */
export interface Judgement {
  readonly state: ProposalStatus;
  /** Human-readable: "approved by alice, bob", "rejected by carol: not during the freeze", "expired at …". */
  readonly reason: string;
  readonly honoured: readonly Decision[];
  readonly ignored: readonly IgnoredDecision[];
}
