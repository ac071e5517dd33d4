import type { SQSEvent } from 'aws-lambda';
import type { TerminateLifecycleEvent } from '../../shared/runners/lifecycle-event';

/** Test fixtures shared by runner-drain's handler tests (definition.test.ts, look.test.ts). */

export const DRAIN_INSTANCE = 'i-0123456789abcdef0';
export const DRAIN_T0 = Date.parse('2026-11-24T12:00:00Z');

/** The fleet's terminate lifecycle event for the instance, as Auto Scaling sends it. */
export function lifecycleEvent(token = 'tok-1', instanceId = DRAIN_INSTANCE): TerminateLifecycleEvent {
  return {
    id: `evt-${token}`,
    source: 'aws.autoscaling',
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    time: new Date(DRAIN_T0).toISOString(),
    detail: {
      LifecycleActionToken: token,
      AutoScalingGroupName: 'ci-runners',
      LifecycleHookName: 'fleetwarden-drain',
      EC2InstanceId: instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
    },
  };
}

/** A batch from the drain queue: each body a message, its id from `messageId(n)`. */
export function drainBatch(
  bodies: unknown[],
  messageId: (n: number) => string,
  attributes: Record<string, string> = {},
): SQSEvent {
  return {
    Records: bodies.map((b, n) => ({
      messageId: messageId(n),
      receiptHandle: 'r',
      body: JSON.stringify(b),
      attributes: attributes as never,
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:drain',
      awsRegion: 'eu-west-1',
    })),
  };
}

/** runner-drain's settings as the construct writes them for the `ci-runners` group. */
export const drainSettings = (dryRun = false) => ({
  auditTable: 'audit',
  stateTable: 'state',
  queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/drain',
  autoScalingGroupNames: ['ci-runners'],
  lifecycleHookName: 'fleetwarden-drain',
  deadlineSeconds: 30 * 60,
  retryDelaySeconds: 60,
  dryRun,
  poolName: undefined as string | undefined,
  runnerLabels: undefined as readonly string[] | undefined,
  githubApiUrl: undefined,
  githubEnterprise: undefined,
});
