import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { StsApproverIdentity } from './approver-identity';
import type { ApprovalsAt, ApprovalsAws } from './port';

/** The real wiring: the caller's credentials (default chain or `profile`), adaptive retries. */
export function awsApprovals(at: ApprovalsAt): ApprovalsAws {
  const common = {
    region: at.region,
    maxAttempts: 6,
    retryMode: 'adaptive',
    ...(at.profile ? { profile: at.profile } : {}),
  } as const;
  return {
    stackOutputs: async (stackName) => stackOutputs(new CloudFormationClient(common), stackName),
    proposals: () => {
      throw new Error('not wired yet');
    },
    decisions: () => {
      throw new Error('not wired yet');
    },
    identity: () =>
      new StsApproverIdentity({ region: at.region, ...(at.profile ? { profile: at.profile } : {}) }),
    writer: () => {
      throw new Error('not wired yet');
    },
  };
}

async function stackOutputs(
  client: CloudFormationClient,
  stackName: string,
): Promise<Record<string, string> | undefined> {
  try {
    const out = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const outputs = out.Stacks?.[0]?.Outputs ?? [];
    return Object.fromEntries(
      outputs.flatMap((o) =>
        o.OutputKey && o.OutputValue !== undefined ? [[o.OutputKey, o.OutputValue]] : [],
      ),
    );
  } catch (err) {
    // CloudFormation answers a missing stack with ValidationError "Stack with id X does not exist"
    if ((err as Error).name === 'ValidationError' && /does not exist/.test((err as Error).message))
      return undefined;
    throw err;
  }
}
