import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';

/**
 * A stack's outputs by key (CloudFormation DescribeStacks); undefined when no such stack exists in
 * the client's region. Used by the approval commands and `fleetwarden doctor`.
 */
export async function readStackOutputs(
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
