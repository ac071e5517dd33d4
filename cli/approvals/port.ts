import type { DecisionReader, DecisionWriter, ProposalStore } from '../../shared/approvals/port';
import type { ApproverIdentityPort, ApproverSession } from './approver-identity';

/** Where the approval commands work: a region, and the named profile of the caller's credentials. */
export interface ApprovalsAt {
  region: string;
  profile?: string;
}

/** The decisions table written under an Approver session; the request ids of the writes it made. */
export interface SessionDecisionWriter extends DecisionWriter {
  requestIds(): string[];
}

/**
 * What the approval commands reach in AWS, behind ports: the stack's outputs, the proposals and
 * decisions tables (read with the caller's credentials), the caller's identity and the Approver
 * role, and the decisions table written under the Approver session. Real: `awsApprovals`; tests:
 * `FakeApprovals` (cli/approvals/testing/).
 */
export interface ApprovalsAws {
  /** The stack's outputs by key; undefined when no such stack exists in the region. */
  stackOutputs(stackName: string): Promise<Record<string, string> | undefined>;
  proposals(tableName: string): ProposalStore;
  decisions(tableName: string): DecisionReader;
  identity(): ApproverIdentityPort;
  writer(tableName: string, session: ApproverSession): SessionDecisionWriter;
}
