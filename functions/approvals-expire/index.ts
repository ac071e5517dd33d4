import { DynamoDbProposalStore } from '../../shared/approvals/dynamodb-proposal-store';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { approvalsExpire } from './definition';

/** The Lambda entry: approvals-expire with the real adapters (one memoised client each). */
export const handler = lambdaHandler(approvalsExpire, (settings) => ({
  audit: new DynamoDbAuditSink(settings.auditTable),
  proposals: new DynamoDbProposalStore({ tableName: settings.proposalsTable }),
}));
