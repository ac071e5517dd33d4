import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AutoScalingInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { runnerJobWatch } from './definition';

/** The Lambda entry: runner-job-watch with its real adapters. */
export const handler = lambdaHandler(runnerJobWatch, async (settings) => ({
  // read-only installation token: this function only reads runners (README: GitHub App permissions)
  registry: await runnerRegistryFromEnv(undefined, undefined, { access: 'read' }),
  inventory: new Ec2InstanceInventory(),
  instanceLifecycle: new AutoScalingInstanceLifecycle(),
  audit: new DynamoDbAuditSink(settings.auditTable),
}));
