import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { IamGrant } from '../../shared/kernel/definition';
import type { Remediation } from '../../shared/kernel/remediation';
import { AUDIT_TABLE_SETTING, type SettingsOf, setting } from '../../shared/kernel/settings';
import { sqsBatch } from '../../shared/kernel/sqs-batch';
import {
  SPOT_INTERRUPTION_DETAIL_TYPE,
  TERMINATE_LIFECYCLE_DETAIL_TYPE,
} from '../../shared/runners/lifecycle-event';
import { POOL_SETTINGS, poolAudit } from '../../shared/runners/pool';
import { onMessage } from './message';
import type { DrainPortName, DrainRun } from './run';

const settings = {
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
type Settings = SettingsOf<typeof settings>;
type Kind = 'deregister' | 'cordon' | 'heartbeat' | 'complete' | 'adopt' | 'look-spokes';

/** The fleet's runner groups, as the resource ARNs of the lifecycle calls (the group id is a wildcard). */
const groupArns = (s: Settings) =>
  s.autoScalingGroupNames.map(
    (n) =>
      `arn:\${AWS::Partition}:autoscaling:\${AWS::Region}:\${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/${n}`,
  );
const onGroups =
  (action: string) =>
  (s: Settings): IamGrant[] => [{ actions: [action], resources: groupArns(s) }];
/** A GitHub runner route as the call recorder names it, organisation and repository runners. */
const runnerCalls = (method: string, suffix = '') => [
  `GitHub ${method} /orgs/{org}/actions/runners/{runner_id}${suffix}`,
  `GitHub ${method} /repos/{owner}/{repo}/actions/runners/{runner_id}${suffix}`,
];
/** Organisation runners; repository runners need `administration:write` instead. */
const RUNNERS_WRITE = ['organization_self_hosted_runners:write'];

/**
 * runner-drain: drains terminating runner instances (the fleet's own terminate lifecycle hook),
 * cordons the runner of a spot instance about to be interrupted, looks again at a held instance
 * through its own queue, and every minute looks for instances held by the hook whose lifecycle
 * event was lost (look.ts) to drain them the same way, in the hub and (fanned out through its
 * queue) in every spoke. Every message is a hint re-verified against Auto Scaling (drain-trust.ts);
 * the pure decision is decideDrain (shared/runners/drain.ts); every change goes through the kernel.
 */
export const runnerDrain: Remediation<typeof settings, Kind, DrainPortName, SQSEvent, SQSBatchResponse> = {
  name: 'runner-drain',
  summary:
    'Drains terminating runner instances: deregisters idle runners, holds busy ones, completes the lifecycle action',
  entry: 'functions/runner-drain/index.ts',
  triggers: [
    // the fleet's own terminate hook on its groups: other owners' hooks on the same groups (log
    // shippers, LB deregistration) are not ours
    {
      kind: 'events',
      id: 'TerminateHookRule',
      bus: 'default',
      pattern: (s) => ({
        source: ['aws.autoscaling'],
        detailType: [TERMINATE_LIFECYCLE_DETAIL_TYPE],
        detail: {
          AutoScalingGroupName: [...s.autoScalingGroupNames],
          LifecycleHookName: [s.lifecycleHookName],
        },
      }),
      delivery: 'queue',
    },
    // the warning names only the instance: no pattern can scope it; the drain re-verifies the group
    {
      kind: 'events',
      id: 'SpotInterruptionRule',
      bus: 'default',
      pattern: { source: ['aws.ec2'], detailType: [SPOT_INTERRUPTION_DETAIL_TYPE] },
      delivery: 'queue',
    },
    // Auto Scaling's lifecycle events are best-effort: every minute (well inside the hook's
    // heartbeat timeout, 240 s at least) the drain looks for instances of its groups held in
    // Terminating:Wait that no drain has looked at, and starts their drain (look.ts); the
    // construct sends the schedule through the drain queue like the events
    { kind: 'schedule', minutes: 1 },
  ],
  settings,
  actions: {
    deregister: {
      audit: 'runner.deregister',
      does: 'deregister the idle runner',
      reversible: false,
      unattended:
        "Auto Scaling itself confirmed the instance is terminating (Terminating:Wait on the fleet's own hook, in a configured group): its runner goes with it, and only an idle one is deregistered",
      // the drain is bounded by Auto Scaling's own scale-in (one runner per terminating instance), not by the sweep's budget
      weight: 0,
      iam: () => [],
      calls: runnerCalls('DELETE'),
      github: RUNNERS_WRITE,
    },
    cordon: {
      audit: 'runner.cordon',
      does: 'cordon the runner (replace its custom labels with the draining label)',
      reversible: true,
      weight: 0,
      iam: () => [],
      calls: runnerCalls('PUT', '/labels'),
      github: RUNNERS_WRITE,
    },
    heartbeat: {
      audit: 'lifecycle.heartbeat',
      does: 'hold the terminating instance (lifecycle heartbeat)',
      reversible: true,
      weight: 0,
      iam: onGroups('autoscaling:RecordLifecycleActionHeartbeat'),
      calls: ['AutoScaling.RecordLifecycleActionHeartbeat'],
    },
    complete: {
      audit: 'lifecycle.complete',
      does: 'let the terminating instance go (CompleteLifecycleAction CONTINUE)',
      reversible: false,
      unattended:
        'Auto Scaling is already terminating the instance; CONTINUE only ends the wait that the hook would end at its own timeout',
      weight: 0,
      iam: onGroups('autoscaling:CompleteLifecycleAction'),
      calls: ['AutoScaling.CompleteLifecycleAction'],
    },
    adopt: {
      audit: 'drain.adopt',
      does: 'start the drain of an instance found leaving without one (its lifecycle event was lost)',
      // it only puts a hint on the drain's own queue: the drain it starts re-verifies everything
      reversible: true,
      weight: 0,
      iam: () => [],
      calls: [],
    },
    'look-spokes': {
      audit: 'drain.look-spokes',
      does: "send the scheduled look to each spoke (on the drain's own queue)",
      // it only puts hints on the drain's own queue: each spoke's look re-verifies in its spoke
      reversible: true,
      weight: 0,
      iam: () => [],
      calls: [],
    },
  },
  // read-only, no resource-level permissions: every message is re-verified against Auto Scaling;
  // the scheduled look lists the groups' instances (DescribeAutoScalingGroups), in every spoke too
  // (the spoke role grants these reads: infra/constructs/spoke-permissions.ts)
  reads: () => [
    {
      actions: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:DescribeScalingActivities',
      ],
      resources: ['*'],
    },
  ],
  needs: ['state-table', 'github-app', 'own-queue'],
  ports: ['audit', 'registry', 'lifecycleActions', 'drainState', 'drainScheduler'],
  create(ports, s, runtime) {
    const run: DrainRun = {
      spec: runnerDrain,
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
  },
};
