import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AutoScalingInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { fleetAcrossScopes } from '../../shared/aws/across-scopes';
import { autoScalingClientFor, ec2ClientFor } from '../../shared/aws/scoped-clients';
import { Ec2InstanceInventory } from '../../shared/ec2/ec2-instance-inventory';
import { READ_ACCESS, runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { ungatedLambdaHandler } from '../../shared/kernel/lambda-handler';
import { runnerJobWatch } from './definition';

/** The Lambda entry: runner-job-watch with its real adapters. */
export const handler = ungatedLambdaHandler(runnerJobWatch, async (settings) => ({
  // read-only installation token: this function only reads runners (README: GitHub App permissions)
  registry: await runnerRegistryFromEnv(undefined, undefined, { access: READ_ACCESS }),
  // a job's runner may run in any account/region of the fleet: read them all (read-only)
  ...fleetAcrossScopes((scope) => ({
    inventory: new Ec2InstanceInventory(ec2ClientFor(scope)),
    instanceLifecycle: new AutoScalingInstanceLifecycle(autoScalingClientFor(scope)),
  })),
  audit: new DynamoDbAuditSink(settings.auditTable),
}));
