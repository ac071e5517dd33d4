import { ArnFormat, Aspects, type IAspect, Lazy, Names, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct, IConstruct } from 'constructs';

const KEY_ID = 'FleetKey';

/**
 * Gives every EventBridge rule of the stack a fixed name, and lets `events.amazonaws.com` use the
 * fleet key only with `aws:SourceArn` equal to one of those rules' ARNs (EventBridge encrypts into
 * the fleet's queues and target DLQs with it). The ARNs are built from the names, not read from the
 * rules: the rules depend on queues that depend on this key, so a reference would be a cycle (which
 * is why CDK's SqsQueue target falls back to `aws:SourceAccount` on encrypted queues).
 */
class FleetRulesOnly implements IAspect {
  private readonly ruleArns: string[] = [];

  constructor(private readonly key: kms.Key) {}

  visit(node: IConstruct): void {
    if (!(node instanceof events.CfnRule) || Stack.of(node) !== Stack.of(this.key)) return;
    const stack = Stack.of(node);
    // a Rule without ruleName carries a lazy physical name that resolves to nothing
    const given: unknown = stack.resolve(node.name);
    if (typeof given !== 'string' || given === '') {
      node.name = Names.uniqueResourceName(node.node.scope ?? node, { maxLength: 64, separator: '-' });
    }
    const resourceName = node.eventBusName ? `${node.eventBusName}/${node.name}` : node.name;
    if (this.ruleArns.length === 0) this.allowEventBridge();
    this.ruleArns.push(
      stack.formatArn({
        service: 'events',
        resource: 'rule',
        resourceName,
        arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
      }),
    );
  }

  private allowEventBridge(): void {
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowEventBridgeForTheFleetRulesOnly',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          ArnEquals: { 'aws:SourceArn': Lazy.list({ produce: () => this.ruleArns }) },
        },
      }),
    );
  }
}

/**
 * The stack's shared customer-managed key for logs, queues and topics that need no key of their
 * own: created once per stack on first use, rotation on, and a key policy that lets CloudWatch Logs
 * use it only for this account's log groups in this region, CloudWatch alarms only for this
 * account, and EventBridge only for the stack's own rules (`FleetRulesOnly`).
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
  // CloudWatch alarms publish to the encrypted alarm topic
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowcloudwatchToEncryptForThisAccount',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  Aspects.of(stack).add(new FleetRulesOnly(key));
  return key;
}
