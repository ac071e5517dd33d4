import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import { AutoScalingLifecycleActions } from '../../shared/autoscaling/autoscaling-lifecycle-actions';
import { topologyFromEnv } from '../../shared/aws/scope';
import { autoScalingClientFor } from '../../shared/aws/scoped-clients';
import { runnerRegistryFromEnv } from '../../shared/github/registry-from-env';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { createInScopes } from '../../shared/kernel/queue-scopes';
import { readSettings } from '../../shared/kernel/settings';
import { SqsDrainScheduler } from '../../shared/runners/drain-scheduler';
import { DynamoDbDrainState } from '../../shared/runners/drain-state-dynamodb';
import { FUNCTION } from './run';
import { createDrain, drainSettings } from './runtime';
import { auditOnlyFromEnv, createLazyHandler } from './wiring';

/**
 * The Lambda entry: runner-drain wired to the real adapters on first use (a failed wiring is
 * audited); each lifecycle action is verified and completed in its own account/region (hub or spoke).
 */
export const handler = createLazyHandler(async () => {
  const settings = readSettings(drainSettings);
  const registry = await runnerRegistryFromEnv();
  const topology = topologyFromEnv();
  // the topology: the hub's scheduled look fans out to every spoke (look.ts)
  const runtime = { now: () => new Date(), gate: REPORT_ONLY_GATE, topology };
  return createInScopes({
    name: FUNCTION,
    topology,
    audit: new DynamoDbAuditSink(settings.auditTable),
    mode: settings.dryRun ? 'dry-run' : 'live',
    portsFor: (scope) => ({
      registry,
      lifecycleActions: new AutoScalingLifecycleActions(autoScalingClientFor(scope)),
      drainScheduler: new SqsDrainScheduler(settings.queueUrl),
      drainState: new DynamoDbDrainState(settings.stateTable),
    }),
    create: (ports) => createDrain(ports, settings, runtime),
  });
}, auditOnlyFromEnv);
