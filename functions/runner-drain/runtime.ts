import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { PerformedAction } from '../../shared/kernel/perform';
import type { PortsOf } from '../../shared/kernel/ports';
import type { Handler, Runtime } from '../../shared/kernel/remediation';
import { AUDIT_TABLE_SETTING, type SettingsOf, setting } from '../../shared/kernel/settings';
import { sqsBatch } from '../../shared/kernel/sqs-batch';
import { POOL_SETTINGS, poolAudit } from '../../shared/runners/pool';
import { onMessage } from './message';
import { type DrainPortName, type DrainRun, FUNCTION } from './run';

/**
 * What runner-drain's Lambda needs of its declaration: its settings, what the kernel performs each
 * action kind with, and the handler. Its own module so the Lambda entry bundles none of what only
 * the deployment reads (triggers, IAM, reads, docs of the remediation: definition.ts).
 */
export const drainSettings = {
  auditTable: AUDIT_TABLE_SETTING,
  stateTable: setting.string('DRAIN_STATE_TABLE', {
    doc: 'Where runner-drain keeps its own state per lifecycle action (first look, runners seen, an absence seen once): the sweep state table, partition `drain`.',
  }),
  queueUrl: setting.string('DRAIN_QUEUE_URL', {
    doc: "The drain's own queue: its look-again retries are sent there, delayed.",
  }),
  autoScalingGroupNames: setting.list('AUTO_SCALING_GROUP_NAMES', {
    doc: "The fleet's runner Auto Scaling groups: a lifecycle action or spot warning of any other group is refused.",
  }),
  lifecycleHookName: setting.string('LIFECYCLE_HOOK_NAME', {
    doc: "The fleet's own terminate hook: the only one runner-drain heartbeats or completes (another owner's is ignored).",
  }),
  deadlineSeconds: setting.seconds('DRAIN_DEADLINE_SECONDS', {
    doc: 'How long a busy runner may hold its terminating instance; then the lifecycle action is completed anyway (its job fails; alarmed).',
    default: 1800,
    min: 60,
    max: 172_800,
  }),
  retryDelaySeconds: setting.seconds('RETRY_DELAY_SECONDS', {
    doc: "How long to wait before looking again at a held instance (shortened to stay inside the hook's heartbeat timeout).",
    default: 60,
    min: 10,
    max: 900,
  }),
  dryRun: setting.boolean('DRY_RUN', {
    doc: 'Deregister and cordon nothing, only report; the lifecycle action is still completed (an instance is never held hostage).',
    default: true,
  }),
  ...POOL_SETTINGS,
};
export type DrainSettings = SettingsOf<typeof drainSettings>;
export type DrainKind = 'deregister' | 'cordon' | 'heartbeat' | 'complete' | 'adopt' | 'look-spokes';

/** A GitHub runner route as the call recorder names it, organisation and repository runners. */
const runnerCalls = (method: string, suffix = '') => [
  `GitHub ${method} /orgs/{org}/actions/runners/{runner_id}${suffix}`,
  `GitHub ${method} /repos/{owner}/{repo}/actions/runners/{runner_id}${suffix}`,
];

export const DRAIN_ACTIONS: { readonly [k in DrainKind]: PerformedAction } = {
  deregister: {
    audit: 'runner.deregister',
    does: 'deregister the idle runner',
    reversible: false,
    unattended:
      "Auto Scaling itself confirmed the instance is terminating (Terminating:Wait on the fleet's own hook, in a configured group): its runner goes with it, and only an idle one is deregistered",
    // the drain is bounded by Auto Scaling's own scale-in (one runner per terminating instance), not by the sweep's budget
    weight: 0,
    calls: runnerCalls('DELETE'),
  },
  cordon: {
    audit: 'runner.cordon',
    does: 'cordon the runner (replace its custom labels with the draining label)',
    reversible: true,
    weight: 0,
    calls: runnerCalls('PUT', '/labels'),
  },
  heartbeat: {
    audit: 'lifecycle.heartbeat',
    does: 'hold the terminating instance (lifecycle heartbeat)',
    reversible: true,
    weight: 0,
    calls: ['AutoScaling.RecordLifecycleActionHeartbeat'],
  },
  complete: {
    audit: 'lifecycle.complete',
    does: 'let the terminating instance go (CompleteLifecycleAction CONTINUE)',
    reversible: false,
    unattended:
      'Auto Scaling is already terminating the instance; CONTINUE only ends the wait that the hook would end at its own timeout',
    weight: 0,
    calls: ['AutoScaling.CompleteLifecycleAction'],
  },
  adopt: {
    audit: 'drain.adopt',
    does: 'start the drain of an instance found leaving without one (its lifecycle event was lost)',
    // it only puts a hint on the drain's own queue: the drain it starts re-verifies everything
    reversible: true,
    weight: 0,
    calls: [],
  },
  'look-spokes': {
    audit: 'drain.look-spokes',
    does: "send the scheduled look to each spoke (on the drain's own queue)",
    // it only puts hints on the drain's own queue: each spoke's look re-verifies in its spoke
    reversible: true,
    weight: 0,
    calls: [],
  },
};

/** runner-drain's handler over its ports (definition.ts `create`, and the Lambda entry). */
export function createDrain(
  ports: PortsOf<DrainPortName>,
  s: DrainSettings,
  runtime: Runtime,
): Handler<SQSEvent, SQSBatchResponse> {
  const run: DrainRun = {
    spec: { name: FUNCTION, actions: DRAIN_ACTIONS },
    // a pool's records name it (details.pool)
    ports: { ...ports, audit: poolAudit(ports.audit, s.poolName) },
    runtime,
    dryRun: s.dryRun,
    deadlineMs: s.deadlineSeconds * 1000,
    retryDelaySeconds: s.retryDelaySeconds,
    groups: new Set(s.autoScalingGroupNames),
    hook: s.lifecycleHookName,
    labels: s.runnerLabels ?? [],
    spokes: runtime.topology?.spokes ?? [],
  };
  return (event: SQSEvent, context?: Context) => sqsBatch(event, context, (r) => onMessage(run, r));
}
