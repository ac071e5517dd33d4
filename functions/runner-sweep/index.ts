import { approvalGate } from '../../shared/approvals/wiring';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AutoScalingInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { AutoScalingWarmPool } from '../../shared/autoscaling/warm-pool';
import { DynamoDbSweepState } from '../../shared/budget/dynamodb-sweep-state';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { Ec2InstanceTerminator } from '../../shared/ec2/instance-terminator';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { runnerSweep } from './definition';

/**
 * The Lambda entry: runner-sweep's definition with the real adapters (one memoised client each); a
 * refused run and a termination ask the approval gate (its wiring is used only when approvals are
 * deployed; imported statically: a dynamic import would stop esbuild shaking the shared modules).
 */
export const handler = lambdaHandler(
  runnerSweep,
  async (s) => ({
    registry: await runnerRegistryFromEnv(),
    inventory: new Ec2InstanceInventory(),
    instanceLifecycle: new AutoScalingInstanceLifecycle(),
    warmPool: new AutoScalingWarmPool(),
    terminator: new Ec2InstanceTerminator(),
    audit: new DynamoDbAuditSink(s.auditTable),
    sweepState: new DynamoDbSweepState(s.sweepStateTable),
  }),
  { approvals: async () => ({ approvalGate }) },
);
