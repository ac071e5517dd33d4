import { type AuditRecord, type AuditRecordInput, AuditRecordSchema } from '../../../../shared/audit/schema';
import type { TrailEvent } from '../../../../shared/cloudtrail/event';
import type { DeadLetter } from '../model';

/**
 * One CI runner instance's day, as the audit table and CloudTrail would show it: launched by Auto
 * Scaling, published in DNS, ran jobs, scaled in by a person while a job ran (heartbeat, cordon),
 * deregistration failed on GitHub's rate limit, an intent whose outcome was never written, the
 * lifecycle message dead-lettered, then the DNS record removed after a throttled first try.
 * Used by the renderer's tests, the headless-Chromium test and the README screenshots.
 */
export const SUBJECT = 'i-0abc1234567890def';

const ALICE =
  'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Operator_0123456789abcdef/alice@example.com';
const ASG = 'autoscaling.amazonaws.com';

function record(r: Partial<AuditRecordInput> & Pick<AuditRecordInput, 'recordId' | 'time' | 'action'>) {
  return AuditRecordSchema.parse({
    schemaVersion: 1,
    function: 'dns-sync',
    trigger: { source: 'aws.ec2', id: `evt-${r.recordId}` },
    subject: { instanceId: SUBJECT },
    decision: 'acted',
    reason: 'done',
    mode: 'live',
    correlation: { status: 'not-applicable', attempts: 0, calls: [] },
    ...r,
  });
}

const launchCause = {
  eventId: '0f5e2c61-run-4c1a-9e2f-launch000001',
  eventName: 'RunInstances',
  eventTime: '2026-11-24T08:00:02.000Z',
  actor: ASG,
};
const scaleIn = {
  eventId: '7a9d3b52-asg-4f0e-8c1d-scalein00002',
  eventName: 'TerminateInstanceInAutoScalingGroup',
  eventTime: '2026-11-24T09:20:00.000Z',
  actor: ALICE,
};

export function sampleRecords(): AuditRecord[] {
  return [
    record({
      recordId: 'dns-sync:6b1f0c9e2d3a4b5c6d7e8f9a0b1c2d3e',
      time: '2026-11-24T08:00:41.000Z',
      trigger: {
        source: 'aws.ec2',
        id: 'b9f1a3c4-0000-4000-8000-000000000001',
        detailType: 'EC2 Instance State-change Notification',
        time: '2026-11-24T08:00:35Z',
      },
      subject: { instanceId: SUBJECT, recordName: 'ci-17.fleet.example.internal.' },
      action: 'dns.upsert',
      reason: 'A ci-17.fleet.example.internal. -> 10.0.3.17',
      details: { ip: '10.0.3.17', state: 'running' },
      calls: [
        call('EC2', 'DescribeInstances', '2026-11-24T08:00:41.100Z', 'req-ec2-0001'),
        call('Route53', 'ChangeResourceRecordSets', '2026-11-24T08:00:41.400Z', 'req-r53-0002'),
      ],
      correlation: {
        status: 'resolved',
        attempts: 1,
        calls: [
          { requestId: 'req-ec2-0001', eventId: 'ct-3e1d-describe-0001', eventName: 'DescribeInstances' },
          {
            requestId: 'req-r53-0002',
            eventId: 'ct-51aa-route53-0002',
            eventName: 'ChangeResourceRecordSets',
          },
        ],
        trigger: launchCause,
        resolvedAt: '2026-11-24T08:10:00.000Z',
      },
    }),
    record({
      recordId: 'runner-job-watch:1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f',
      time: '2026-11-24T08:03:12.000Z',
      function: 'runner-job-watch',
      trigger: {
        source: 'fleetwarden.github',
        id: 'evt-2',
        detailType: 'workflow_job',
        githubDeliveryId: '5d8e0a10-c9d1-11f0-8a3e-1f2e3d4c5b6a',
      },
      subject: { instanceId: SUBJECT, runnerName: 'ci-i-0abc1234567890def', runnerId: 17 },
      action: 'runner.job-started',
      decision: 'skipped',
      reason: 'job build started on a healthy instance (running)',
      details: { jobId: 29679001, repository: 'acme/app' },
    }),
    record({
      recordId: 'runner-drain:2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f70',
      time: '2026-11-24T09:20:05.000Z',
      function: 'runner-drain',
      trigger: {
        source: 'aws.autoscaling',
        id: 'asg-hook-1',
        detailType: 'EC2 Instance-terminate Lifecycle Action',
      },
      subject: { instanceId: SUBJECT, autoScalingGroupName: 'ci-runners' },
      action: 'lifecycle.heartbeat',
      reason: 'runner ci-i-0abc1234567890def is busy (job build): heartbeat recorded, looking again in 100 s',
      calls: [
        call('AutoScaling', 'RecordLifecycleActionHeartbeat', '2026-11-24T09:20:05.200Z', 'req-asg-0003'),
      ],
      correlation: {
        status: 'resolved',
        attempts: 1,
        calls: [
          {
            requestId: 'req-asg-0003',
            eventId: 'ct-77b2-heartbeat-0003',
            eventName: 'RecordLifecycleActionHeartbeat',
          },
        ],
        trigger: scaleIn,
      },
    }),
    record({
      recordId: 'runner-drain:3e4f5a6b7c8d9e0f1a2b3c4d5e6f7081',
      time: '2026-11-24T09:20:06.000Z',
      function: 'runner-drain',
      trigger: { source: 'aws.autoscaling', id: 'asg-hook-1#2' },
      subject: { instanceId: SUBJECT, runnerName: 'ci-i-0abc1234567890def', runnerId: 17 },
      action: 'runner.cordon',
      reason: 'runner is busy on a terminating instance: custom labels replaced by fleetwarden-fleet',
      githubCalls: [
        {
          method: 'PUT',
          route: 'PUT /orgs/{org}/actions/runners/{runner_id}/labels',
          time: '2026-11-24T09:20:06.300Z',
          status: 200,
          requestId: 'C0DE:1F2E:3D4C5B:6A7988:6743A1B2',
        },
      ],
      correlation: { status: 'resolved', attempts: 1, calls: [], trigger: scaleIn },
    }),
    record({
      recordId: 'runner-job-watch:4f5a6b7c8d9e0f1a2b3c4d5e6f708192',
      time: '2026-11-24T09:21:40.000Z',
      function: 'runner-job-watch',
      trigger: {
        source: 'fleetwarden.github',
        id: 'evt-208',
        detailType: 'workflow_job',
        githubDeliveryId: '8e1f2a30-c9d8-11f0-9b4f-2a3b4c5d6e7f',
      },
      subject: { instanceId: SUBJECT, runnerName: 'ci-i-0abc1234567890def', runnerId: 17 },
      action: 'runner.job-on-leaving-instance',
      decision: 'reported',
      reason: 'job test (acme/app run 5822302123) started while the instance is being terminated by its ASG',
    }),
    record({
      recordId: 'runner-drain:5a6b7c8d9e0f1a2b3c4d5e6f70819203',
      time: '2026-11-24T09:35:10.000Z',
      function: 'runner-drain',
      trigger: { source: 'aws.autoscaling', id: 'asg-hook-1#3' },
      subject: { instanceId: SUBJECT, runnerName: 'ci-i-0abc1234567890def', runnerId: 17 },
      action: 'runner.deregister',
      decision: 'failed',
      reason: 'ThrottledError: GitHub rate limit exhausted; resets in 199 s',
      githubCalls: [
        {
          method: 'GET',
          route: 'GET /orgs/{org}/actions/runners',
          time: '2026-11-24T09:35:10.100Z',
          status: 403,
          requestId: 'C0DE:2A3B:4C5D6E:7F8091:6743A9C0',
        },
      ],
      correlation: { status: 'resolved', attempts: 1, calls: [], trigger: scaleIn },
    }),
    record({
      recordId: 'runner-drain:6b7c8d9e0f1a2b3c4d5e6f7081920314',
      time: '2026-11-24T09:36:30.000Z',
      function: 'runner-drain',
      trigger: { source: 'aws.autoscaling', id: 'asg-hook-1#4' },
      subject: { instanceId: SUBJECT, autoScalingGroupName: 'ci-runners' },
      action: 'lifecycle.complete',
      decision: 'intended',
      reason: 'about to complete the lifecycle action (CONTINUE): the runner is idle',
      details: { intendedCall: 'AutoScaling.CompleteLifecycleAction' },
      calls: [
        call('AutoScaling', 'DescribeAutoScalingInstances', '2026-11-24T09:36:29.800Z', 'req-asg-0004'),
      ],
    }),
    record({
      recordId: 'dns-sync:7c8d9e0f1a2b3c4d5e6f708192031425',
      time: '2026-11-24T10:20:09.000Z',
      trigger: {
        source: 'aws.ec2',
        id: 'b9f1a3c4-0000-4000-8000-000000000077',
        detailType: 'EC2 Instance State-change Notification',
        time: '2026-11-24T10:20:02Z',
      },
      subject: { instanceId: SUBJECT, recordName: 'ci-17.fleet.example.internal.' },
      action: 'dns.delete',
      reason: 'shutting-down: removed A ci-17.fleet.example.internal. (10.0.3.17); tombstone kept',
      details: { state: 'shutting-down' },
      calls: [
        {
          ...call('Route53', 'ChangeResourceRecordSets', '2026-11-24T10:20:09.100Z', 'req-r53-0005'),
          outcome: 'error',
          errorName: 'Throttling',
          httpStatus: 400,
        },
        call('Route53', 'ChangeResourceRecordSets', '2026-11-24T10:20:10.300Z', 'req-r53-0006'),
      ],
      correlation: {
        status: 'unresolved',
        attempts: 6,
        // the second call's event arrived after the correlator gave up: matched by request id only
        calls: [],
        trigger: {
          eventId: 'e4c1a7d0-asg-4b2a-9d3c-terminate0077',
          eventName: 'TerminateInstances',
          eventTime: '2026-11-24T10:20:00.000Z',
          actor: ASG,
        },
        unresolvedReason: 'CloudTrail never showed request req-r53-0005 (a throttled call is not logged)',
      },
    }),
  ];
}

function call(service: string, operation: string, time: string, requestId: string) {
  return { service, operation, time, requestId, outcome: 'success' as const };
}

/** CloudTrail events about the subject that no record cites, and one a record's call matches. */
export function sampleEvents(): TrailEvent[] {
  return [
    {
      eventId: 'a3f0c2d1-tag-4e5f-8a9b-createtags003',
      eventName: 'CreateTags',
      eventSource: 'ec2.amazonaws.com',
      eventTime: '2026-11-24T08:12:00.000Z',
      requestId: 'tag-req-1',
      actor: ALICE,
      resources: [{ type: 'AWS::EC2::Instance', name: SUBJECT }],
    },
    {
      eventId: 'ct-9c04-route53-0006',
      eventName: 'ChangeResourceRecordSets',
      eventSource: 'route53.amazonaws.com',
      eventTime: '2026-11-24T10:20:10.000Z',
      requestId: 'req-r53-0006',
      actor: 'arn:aws:sts::123456789012:assumed-role/Fleetwarden-dns-sync/dns-sync',
      resources: [],
    },
    {
      eventId: 'b8e2f4a6-cmp-4d3c-9e1f-complete0099',
      eventName: 'CompleteLifecycleAction',
      eventSource: 'autoscaling.amazonaws.com',
      eventTime: '2026-11-24T09:36:30.000Z',
      requestId: 'req-asg-0099',
      actor: 'arn:aws:sts::123456789012:assumed-role/Fleetwarden-runner-drain/runner-drain',
      resources: [{ type: 'AWS::EC2::Instance', name: SUBJECT }],
    },
  ];
}

export function sampleDeadLetters(): DeadLetter[] {
  return [
    {
      time: '2026-11-24T09:50:00.000Z',
      function: 'runner-drain',
      messageId: 'msg-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0',
      tries: 3,
      subjects: [SUBJECT],
      body: `{"detail-type":"EC2 Instance-terminate Lifecycle Action","detail":{"EC2InstanceId":"${SUBJECT}","LifecycleActionToken":"tok-1"}}`,
    },
  ];
}
