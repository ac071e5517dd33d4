import type { Decision, Proposal } from '../../../shared/approvals/model';
import {
  ACCOUNT,
  ALICE,
  APPROVER_ROLE_ARN,
  aChange,
  aDecision,
  aProposal,
  approverSession,
} from '../../../shared/approvals/testing/fixtures';
import { testDeps } from '../../test-deps';

export { ACCOUNT, ALICE, APPROVER_ROLE_ARN, aChange, aDecision, aProposal, approverSession };

/** The stack outputs of a fleet with approvals deployed: OnCall may approve, one approval, two-person. */
export const OUTPUTS = {
  ProposalsTableName: 'Fleetwarden-Proposals',
  DecisionsTableName: 'Fleetwarden-Decisions',
  ApproverRoleArn: APPROVER_ROLE_ARN,
  Approvers: `arn:aws:iam::${ACCOUNT}:role/OnCall`,
  ApprovalsRequired: '1',
  ApprovalTwoPerson: 'true',
} as const;

/** testDeps with the approvals deployed (stack Fleetwarden) and these proposals and decisions stored. */
export async function seeded(
  now: string,
  proposals: readonly Proposal[],
  decisions: readonly Decision[] = [],
  outputs: Record<string, string> = OUTPUTS,
) {
  const t = testDeps(now);
  t.approvals.outputs.set('Fleetwarden', outputs);
  for (const p of proposals) await t.approvals.proposals.create(p);
  for (const d of decisions) await t.approvals.decisions.as(d.approver.sessionArn).decide(d);
  return t;
}
