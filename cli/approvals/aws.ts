import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbDecisionStore } from '../../shared/approvals/dynamodb-decision-store';
import { DynamoDbProposalStore } from '../../shared/approvals/dynamodb-proposal-store';
import { readStackOutputs } from '../../shared/aws/stack-outputs';
import { type ApproverSession, StsApproverIdentity } from './approver-identity';
import type { ApprovalsAt, ApprovalsAws, SessionDecisionWriter } from './port';

/**
 * The real wiring: reads with the caller's credentials (the default chain, or `profile`); the
 * decision is written with the Approver session's credentials only. Adaptive retries.
 */
export function awsApprovals(at: ApprovalsAt): ApprovalsAws {
  const common = { region: at.region, maxAttempts: 6, retryMode: 'adaptive' } as const;
  const own = { ...common, ...(at.profile ? { profile: at.profile } : {}) };
  let dynamodb: DynamoDBClient | undefined;
  const reader = () => {
    dynamodb ??= new DynamoDBClient(own);
    return dynamodb;
  };
  return {
    stackOutputs: async (stackName) => readStackOutputs(new CloudFormationClient(own), stackName),
    proposals: (tableName) => new DynamoDbProposalStore({ tableName, client: reader() }),
    decisions: (tableName) => new DynamoDbDecisionStore({ tableName, client: reader() }),
    identity: () =>
      new StsApproverIdentity({ region: at.region, ...(at.profile ? { profile: at.profile } : {}) }),
    writer: (tableName, session) => sessionWriter(tableName, session, common),
  };
}

/** The decisions table under the Approver session; keeps the request id of every PutItem it sends. */
function sessionWriter(
  tableName: string,
  session: ApproverSession,
  common: { region: string; maxAttempts: number; retryMode: 'adaptive' },
): SessionDecisionWriter {
  const client = new DynamoDBClient({ ...common, credentials: session.credentials });
  const ids: string[] = [];
  const send = client.send.bind(client) as (
    command: unknown,
  ) => Promise<{ $metadata?: { requestId?: string } }>;
  client.send = (async (command: unknown) => {
    const out = await send(command);
    if (command instanceof PutItemCommand && out?.$metadata?.requestId) ids.push(out.$metadata.requestId);
    return out;
  }) as typeof client.send;
  const store = new DynamoDbDecisionStore({ tableName, client });
  return { decide: (d) => store.decide(d), requestIds: () => [...ids] };
}
