import { approvalGate } from '../../shared/approvals/wiring';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AutoScalingInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { AutoScalingWarmPool } from '../../shared/autoscaling/warm-pool';
import { fleetAcrossScopes } from '../../shared/aws/across-scopes';
import { autoScalingClientFor, ec2ClientFor } from '../../shared/aws/scoped-clients';
import { DynamoDbSweepState } from '../../shared/budget/dynamodb-sweep-state';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { Ec2InstanceTerminator } from '../../shared/ec2/instance-terminator';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { lambdaHandler } from '../../shared/kernel/remediation';
import { runnerSweep } from './definition';

/**
 * The Lambda entry: runner-sweep's definition with the real adapters (one memoised client each);
 * its instances are the whole fleet's (hub and spokes: `fleetAcrossScopes`), a termination goes to
 * the account/region that listed the instance. A refused run and a termination ask the approval
 * gate (its wiring is used only when approvals are deployed; imported statically: a dynamic import
 * would stop esbuild shaking the shared modules).
 */
export const handler = lambdaHandler(
  runnerSweep,
  async (s) => ({
    registry: await runnerRegistryFromEnv(),
    ...fleetAcrossScopes((scope) => ({
      inventory: new Ec2InstanceInventory(ec2ClientFor(scope)),
      instanceLifecycle: new AutoScalingInstanceLifecycle(autoScalingClientFor(scope)),
      warmPool: new AutoScalingWarmPool(autoScalingClientFor(scope)),
      terminator: new Ec2InstanceTerminator(ec2ClientFor(scope)),
    })),
    audit: new DynamoDbAuditSink(s.auditTable),
    sweepState: new DynamoDbSweepState(s.sweepStateTable),
  }),
  { approvals: async () => ({ approvalGate }) },
);
