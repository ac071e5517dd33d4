import type { Subject } from '../audit/schema';

/**
 * The approval seam: every irreversible action a remediation does not declare `unattended` asks the
 * gate before it acts. The gate answers from a human's recorded decision; until the approval flow
 * exists (proposals, approvers), `REPORT_ONLY_GATE` answers no and the action is only reported.
 */
export interface ApprovalRequest {
  /** The remediation asking. */
  function: string;
  /** The action's audit name ("volume.delete"). */
  action: string;
  subject: Subject;
  /** Why the planner wants it. */
  reason: string;
  /** The facts behind it (what a human is asked to approve). */
  details: Readonly<Record<string, unknown>>;
  /** The audit record id of the trigger's run (evidence for the approver). */
  triggerId: string;
}

export type ApprovalVerdict =
  | { approved: true; approvalId: string; by: string }
  | { approved: false; reason: string; proposalId?: string };

export interface ApprovalGate {
  check(request: ApprovalRequest): Promise<ApprovalVerdict>;
}

/** No approvals yet: an irreversible action is reported, never taken. */
export const REPORT_ONLY_GATE: ApprovalGate = {
  async check() {
    return {
      approved: false,
      reason: 'irreversible: it waits for a human approval, and no approval flow is deployed: reported only',
    };
  },
};
