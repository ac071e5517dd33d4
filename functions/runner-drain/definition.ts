import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { IamGrant } from '../../shared/kernel/definition';
import type { Remediation } from '../../shared/kernel/remediation';
import {
  SPOT_INTERRUPTION_DETAIL_TYPE,
  TERMINATE_LIFECYCLE_DETAIL_TYPE,
} from '../../shared/runners/lifecycle-event';
import type { DrainPortName } from './run';
import { createDrain, DRAIN_ACTIONS, type DrainKind, type DrainSettings, drainSettings } from './runtime';

/** The fleet's runner groups, as the resource ARNs of the lifecycle calls (the group id is a wildcard). */
const groupArns = (s: DrainSettings) =>
  s.autoScalingGroupNames.map(
    (n) =>
      `arn:\${AWS::Partition}:autoscaling:\${AWS::Region}:\${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/${n}`,
  );
const onGroups =
  (action: string) =>
  (s: DrainSettings): IamGrant[] => [{ actions: [action], resources: groupArns(s) }];
/** Organisation runners; repository runners need `administration:write` instead. */
const RUNNERS_WRITE = ['organization_self_hosted_runners:write'];

/**
 * What each of runner-drain's own settings does (docs table, construct errors, config keys): here,
 * not in runtime.ts, so that the Lambda bundles none of it (its settings there have empty docs).
 */
const DRAIN_SETTING_DOCS: { readonly [k in keyof typeof drainSettings]?: string } = {
  stateTable:
    'Where runner-drain keeps its own state per lifecycle action (first look, runners seen, an absence seen once): the sweep state table, partition `drain`.',
  queueUrl: "The drain's own queue: its look-again retries are sent there, delayed.",
  autoScalingGroupNames:
    "The fleet's runner Auto Scaling groups: a lifecycle action or spot warning of any other group is refused.",
  lifecycleHookName:
    "The fleet's own terminate hook: the only one runner-drain heartbeats or completes (another owner's is ignored).",
  deadlineSeconds:
    'How long a busy runner may hold its terminating instance; then the lifecycle action is completed anyway (its job fails; alarmed).',
  retryDelaySeconds:
    "How long to wait before looking again at a held instance (shortened to stay inside the hook's heartbeat timeout).",
  dryRun:
    'Deregister and cordon nothing, only report; the lifecycle action is still completed (an instance is never held hostage).',
};

/** The settings the deployment and the docs read: the Lambda's, with their docs. */
const documentedSettings = Object.fromEntries(
  Object.entries(drainSettings).map(([k, s]) => [
    k,
    { ...s, doc: DRAIN_SETTING_DOCS[k as keyof typeof drainSettings] ?? s.doc },
  ]),
) as typeof drainSettings;

/** Why an irreversible action needs no human (docs); the Lambda's declaration only marks it so. */
const UNATTENDED = {
  deregister:
    "Auto Scaling itself confirmed the instance is terminating (Terminating:Wait on the fleet's own hook, in a configured group): its runner goes with it, and only an idle one is deregistered",
  complete:
    'Auto Scaling is already terminating the instance; CONTINUE only ends the wait that the hook would end at its own timeout',
};

/**
 * runner-drain: drains terminating runner instances (the fleet's own terminate lifecycle hook),
 * cordons the runner of a spot instance about to be interrupted, looks again at a held instance
 * through its own queue, and every minute looks for instances held by the hook whose lifecycle
 * event was lost (look.ts) to drain them the same way, in the hub and (fanned out through its
 * queue) in every spoke. Every message is a hint re-verified against Auto Scaling (drain-trust.ts);
 * the pure decision is decideDrain (shared/runners/drain.ts); every change goes through the kernel.
 */
export const runnerDrain: Remediation<
  typeof drainSettings,
  DrainKind,
  DrainPortName,
  SQSEvent,
  SQSBatchResponse
> = {
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
    // Terminating:Wait (or Warmed:Pending:Wait, back into the warm pool) that no drain has looked
    // at, and starts their drain (look.ts); the
    // construct sends the schedule through the drain queue like the events
    { kind: 'schedule', minutes: 1 },
  ],
  settings: documentedSettings,
  // what the kernel performs each kind with is the Lambda's (runtime.ts); the permissions are the deployment's
  actions: {
    deregister: {
      ...DRAIN_ACTIONS.deregister,
      unattended: UNATTENDED.deregister,
      iam: () => [],
      github: RUNNERS_WRITE,
    },
    cordon: { ...DRAIN_ACTIONS.cordon, iam: () => [], github: RUNNERS_WRITE },
    heartbeat: { ...DRAIN_ACTIONS.heartbeat, iam: onGroups('autoscaling:RecordLifecycleActionHeartbeat') },
    complete: {
      ...DRAIN_ACTIONS.complete,
      unattended: UNATTENDED.complete,
      iam: onGroups('autoscaling:CompleteLifecycleAction'),
    },
    adopt: { ...DRAIN_ACTIONS.adopt, iam: () => [] },
    'look-spokes': { ...DRAIN_ACTIONS['look-spokes'], iam: () => [] },
  },
  // read-only, no resource-level permissions: every message is re-verified against Auto Scaling;
  // the scheduled look lists the groups' instances (DescribeAutoScalingGroups, and DescribeWarmPool
  // for a group with a warm pool), in every spoke too (the spoke role grants these reads:
  // infra/constructs/spoke-permissions.ts)
  reads: () => [
    {
      actions: [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeLifecycleHooks',
        'autoscaling:DescribeScalingActivities',
        'autoscaling:DescribeWarmPool',
      ],
      resources: ['*'],
    },
  ],
  needs: ['state-table', 'github-app', 'own-queue'],
  ports: ['audit', 'registry', 'lifecycleActions', 'drainState', 'drainScheduler'],
  create: createDrain,
};
