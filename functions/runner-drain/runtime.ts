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
 * the deployment reads (triggers, IAM, reads, docs of the remediation and of its settings, and why
 * an action may run unattended: definition.ts, `DRAIN_SETTING_DOCS`, `UNATTENDED`).
 */
export const drainSettings = {
  auditTable: AUDIT_TABLE_SETTING,
  stateTable: setting.string('DRAIN_STATE_TABLE', {
    doc: '',
  }),
  queueUrl: setting.string('DRAIN_QUEUE_URL', {
    doc: '',
  }),
  autoScalingGroupNames: setting.list('AUTO_SCALING_GROUP_NAMES', {
    doc: '',
  }),
  lifecycleHookName: setting.string('LIFECYCLE_HOOK_NAME', {
    doc: '',
  }),
  deadlineSeconds: setting.seconds('DRAIN_DEADLINE_SECONDS', {
    doc: '',
    default: 1800,
    min: 60,
    max: 172_800,
  }),
  retryDelaySeconds: setting.seconds('RETRY_DELAY_SECONDS', {
    doc: '',
    default: 60,
    min: 10,
    max: 900,
  }),
  dryRun: setting.boolean('DRY_RUN', {
    doc: '',
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
    // why it needs no approval: definition.ts (UNATTENDED)
    unattended: 'definition.ts',
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
    unattended: 'definition.ts',
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
