import * as z from 'zod';
import type { Decision } from '../../shared/approvals/model';
import type { AuditRecord } from '../../shared/audit/schema';

/** A human decision as a timeline shows it (from the decisions table, or an action's details.approval). */
export interface ApprovalDecision {
  proposalId: string;
  decision: string;
  approver: string;
  session?: string;
  reason?: string;
  decidedAt: string;
  requestIds: string[];
  /** The audit record that carries it (an executed action's details.approval). */
  recordId?: string;
}

const ApprovalDetailsSchema = z.object({
  proposalId: z.string(),
  by: z.array(z.string()).default([]),
  decisions: z
    .array(
      z.object({
        approver: z.string(),
        session: z.string().optional(),
        decision: z.string().default('approve'),
        reason: z.string().optional(),
        decidedAt: z.string(),
        requestIds: z.array(z.string()).default([]),
      }),
    )
    .default([]),
});

/** The approval an executed action acted on (`details.approval`, written by the kernel), if any. */
export function approvalOf(r: AuditRecord): z.infer<typeof ApprovalDetailsSchema> | undefined {
  const parsed = ApprovalDetailsSchema.safeParse(r.details.approval);
  return parsed.success ? parsed.data : undefined;
}

/** The proposal a record is about: an approval.* note's, a reported action's, or the approval acted on. */
export function proposalIdOf(r: AuditRecord): string | undefined {
  const id = r.details.proposalId;
  return typeof id === 'string' ? id : approvalOf(r)?.proposalId;
}

export function fromDecision(d: Decision): ApprovalDecision {
  return {
    proposalId: d.proposalId,
    decision: d.decision,
    approver: d.approver.arn,
    session: d.approver.sessionArn,
    reason: d.reason,
    decidedAt: d.decidedAt,
    requestIds: [...d.requestIds],
  };
}
