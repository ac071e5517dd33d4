import type { ApprovalGate } from '../kernel/approval';
import { DynamoDbDecisionStore } from './dynamodb-decision-store';
import { DynamoDbProposalStore } from './dynamodb-proposal-store';
import { proposalGate } from './gate';
import { type ApprovalSettings, approvalPolicy } from './settings';
import { SnsProposalNotifier } from './sns-notifier';

/**
 * The real approval gate of a deployed function: the proposals and decisions tables and the topic
 * its approval settings name, judged by the deployed policy, on the real clock. Loaded by the entry
 * of a gated remediation only (`lambdaHandler(def, adapters, { approvals: () => import(...) })`):
 * other bundles carry none of it. The decisions store is only read here (a fleet function never
 * writes a decision: its role cannot).
 */
export function approvalGate(_functionName: string, settings: ApprovalSettings): ApprovalGate {
  return proposalGate(
    {
      proposals: new DynamoDbProposalStore({ tableName: settings.proposalsTable }),
      decisions: new DynamoDbDecisionStore({ tableName: settings.decisionsTable }),
      notifier: new SnsProposalNotifier({ topicArn: settings.topicArn }),
    },
    approvalPolicy(settings),
    () => new Date(),
  );
}
