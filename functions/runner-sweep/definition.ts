import type { ScheduledEvent } from 'aws-lambda';
import type { Remediation } from '../../shared/kernel/remediation';
import { EXEMPT_TAG } from '../../shared/runners/matching';
import { poolAudit } from '../../shared/runners/pool';
import { settings } from './settings';
import { type SweepSummary, sweepHandler } from './sweep-run';

export { SWEEP_NOTES } from './sweep-run';

type SweepPort =
  | 'registry'
  | 'inventory'
  | 'instanceLifecycle'
  | 'warmPool'
  | 'terminator'
  | 'audit'
  | 'sweepState';

/** Scheduled sweep of ghost runners and never-registered instances (shared/runners/sweep-planner.ts judges). */
export const runnerSweep: Remediation<
  typeof settings,
  'deregister' | 'terminate',
  SweepPort,
  ScheduledEvent,
  SweepSummary
> = {
  name: 'runner-sweep',
  summary: 'Sweeps ghost runners and never-registered instances through a circuit breaker',
  entry: 'functions/runner-sweep/index.ts',
  triggers: [{ kind: 'schedule', minutes: 5 }],
  settings,
  actions: {
    deregister: {
      audit: 'runner.deregister',
      does: 'deregister',
      reversible: false,
      unattended:
        'only an idle, offline runner of this fleet (fleet label, region) whose instance EC2 shows gone past the grace period, or, unconfirmed by EC2, claimed by both fleetwarden labels and counted apart: a busy runner is never removed (GitHub refuses its DELETE, 422: skipped), the circuit breaker and the persisted rolling budget cap how many per window, and GitHub itself removes such offline runners after 14 days',
      weight: 1,
      iam: () => [],
      calls: [
        'GitHub DELETE /orgs/{org}/actions/runners/{runner_id}',
        'GitHub DELETE /repos/{owner}/{repo}/actions/runners/{runner_id}',
      ],
      // one of the two, by the runners' scope (organisation runners / repository runners)
      github: ['organization_self_hosted_runners:write', 'administration:write'],
    },
    terminate: {
      audit: 'instance.terminate',
      does: 'terminate',
      // a human approves each one (a proposal per instance, with its stable facts); planned only
      // when the operator opted in (allowTerminate), for instances of the configured ASGs
      // (aws:autoscaling:groupName, which no user can write) carrying the fleet tag, not tagged
      // fleetwarden:exempt=true, running past the boot timeout with no runner after a second look
      reversible: false,
      weight: 1,
      iam: (s) =>
        s.allowTerminate
          ? [
              {
                actions: ['ec2:TerminateInstances'],
                resources: ['*'],
                conditions: {
                  StringEquals: {
                    'aws:ResourceTag/aws:autoscaling:groupName': s.autoScalingGroupNames,
                    [`aws:ResourceTag/${s.fleetTagKey}`]: s.fleetTagValue,
                  },
                  StringNotEqualsIgnoreCase: { [`aws:ResourceTag/${EXEMPT_TAG}`]: 'true' },
                },
              },
            ]
          : [],
      calls: ['EC2.TerminateInstances'],
    },
  },
  // read-only calls that support no resource-level permissions
  reads: () => [
    {
      actions: [
        'ec2:DescribeInstances',
        'autoscaling:DescribeAutoScalingInstances',
        'autoscaling:DescribeAutoScalingGroups',
      ],
      resources: ['*'],
    },
    { actions: ['autoscaling:DescribeWarmPool'], resources: ['*'] },
  ],
  needs: ['state-table', 'github-app'],
  // a run the circuit breaker or the rolling budget refuses becomes a proposal (ApprovalGate)
  proposesRuns: true,
  ports: ['registry', 'inventory', 'instanceLifecycle', 'warmPool', 'terminator', 'audit', 'sweepState'],
  // a pool's records name it (details.pool)
  create: (ports, s, runtime) =>
    sweepHandler(runnerSweep, { ...ports, audit: poolAudit(ports.audit, s.poolName) }, s, runtime),
};
