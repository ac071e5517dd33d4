import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AutoScalingLifecycleActions } from '../../shared/autoscaling/autoscaling-lifecycle-actions';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { readSettings } from '../../shared/kernel/settings';
import { SqsDrainScheduler } from '../../shared/runners/drain-scheduler';
import { DynamoDbDrainState } from '../../shared/runners/drain-state-dynamodb';
import { runnerDrain } from './definition';
import { auditOnlyFromEnv, createLazyHandler } from './wiring';

/** The Lambda entry: runner-drain wired to the real adapters on first use (a failed wiring is audited). */
export const handler = createLazyHandler(async () => {
  const settings = readSettings(runnerDrain.settings);
  const ports = {
    registry: await runnerRegistryFromEnv(),
    lifecycleActions: new AutoScalingLifecycleActions(),
    drainScheduler: new SqsDrainScheduler(settings.queueUrl),
    audit: new DynamoDbAuditSink(settings.auditTable),
    drainState: new DynamoDbDrainState(settings.stateTable),
  };
  return runnerDrain.create(ports, settings, { now: () => new Date(), gate: REPORT_ONLY_GATE });
}, auditOnlyFromEnv);
