import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

const KEY_ID = 'FleetKey';

/**
 * The stack's shared customer-managed key for logs, queues and topics that need no key of their
 * own: created once per stack on first use, rotation on, and a key policy that lets CloudWatch Logs
 * use it only for this account's log groups in this region.
 */
export function fleetKey(scope: Construct): kms.IKey {
  const stack = Stack.of(scope);
  const existing = stack.node.tryFindChild(KEY_ID) as kms.Key | undefined;
  if (existing) return existing;
  const key = new kms.Key(stack, KEY_ID, {
    description: `fleetwarden ${stack.stackName}: logs, queues and alarm topic`,
    enableKeyRotation: true,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowCloudWatchLogsForThisAccountsLogGroups',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:*`,
        },
      },
    }),
  );
  // CloudWatch alarms publish to the encrypted alarm topic; EventBridge delivers to encrypted queues.
  for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: `Allow${service.split('.')[0]}ToEncryptForThisAccount`,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
  }
  return key;
}
