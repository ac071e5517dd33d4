import type { Decision, PlannedChange, Proposal } from '../model';
import { fingerprint, proposalId, proposalKey } from '../rules';

/** Test data shared by the approvals tests and contract suites. */
export const ACCOUNT = '123456789012';
export const APPROVER_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/fleetwarden/FleetwardenApprover`;
export const approverSession = (name: string, role = 'FleetwardenApprover') =>
  `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/${name}`;
export const ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/OnCall/alice`;
export const BOB = `arn:aws:iam::${ACCOUNT}:user/bob`;
export const MALLORY = `arn:aws:iam::${ACCOUNT}:user/mallory`;

export function aChange(over: Partial<PlannedChange> = {}): PlannedChange {
  return {
    kind: 'delete',
    action: 'volume.delete',
    subject: { instanceId: 'i-0123456789abcdef0' },
    reason: 'orphaned volume vol-0abc of terminated fleet instance i-0123456789abcdef0',
    facts: { volumeId: 'vol-0abc', sizeGiB: 100, state: 'available' },
    ...over,
  };
}

export function aProposal(over: Partial<Proposal> = {}): Proposal {
  const changes = over.changes ?? [aChange()];
  const fn = over.function ?? 'orphaned-volumes';
  const key = over.key ?? proposalKey({ function: fn, why: 'irreversible', changes });
  const fp = fingerprint(changes);
  const createdAt = over.createdAt ?? '2026-11-30T08:00:00.000Z';
  return {
    id: proposalId(key, fp, createdAt),
    function: fn,
    key,
    why: 'irreversible',
    summary: 'delete EBS volume vol-0abc (100 GiB)',
    reason: 'orphaned volume of a terminated fleet instance',
    changes,
    blastRadius: { count: 1, what: 'EBS volume' },
    fingerprint: fp,
    evidence: {
      triggerId: 'sched-1',
      auditRecordIds: ['orphaned-volumes:abc'],
      cloudTrailEventIds: ['ev-1'],
    },
    proposedBy: { function: fn, trigger: { source: 'fleetwarden.schedule', id: 'sched-1' } },
    createdAt,
    expiresAt: '2026-12-01T08:00:00.000Z',
    status: 'open',
    ...over,
  };
}

export function aDecision(
  p: Pick<Proposal, 'id' | 'fingerprint'>,
  arn: string,
  over: Partial<Decision> = {},
): Decision {
  return {
    proposalId: p.id,
    fingerprint: p.fingerprint,
    decision: 'approve',
    reason: 'checked: nobody uses it',
    approver: { arn, sessionArn: approverSession(arn.split('/').at(-1) ?? 'approver'), account: ACCOUNT },
    decidedAt: '2026-11-30T08:30:00.000Z',
    requestIds: ['req-assume-role', 'req-put-item'],
    ...over,
  };
}

/** The approval flow's whole environment group, valid (what FleetStack writes when approvals are on). */
export const APPROVALS_ENV = {
  PROPOSALS_TABLE: 'Fleet-Proposals',
  DECISIONS_TABLE: 'Fleet-Decisions',
  PROPOSAL_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:Fleet-Proposals',
  APPROVER_ROLE_ARN: 'arn:aws:iam::123456789012:role/fleetwarden-approver-Fleet',
  APPROVERS: 'arn:aws:iam::123456789012:role/OnCall',
};
