import type { InstanceState } from '../../ec2/port';

/** The EventBridge envelope of an event about one EC2 instance (second-precision time). */
function ec2InstanceEnvelope(instanceId: string, atMs: number) {
  return {
    version: '0',
    account: '123456789012',
    time: new Date(Math.floor(atMs / 1000) * 1000).toISOString().replace('.000', ''),
    region: 'eu-west-1',
    resources: [`arn:aws:ec2:eu-west-1:123456789012:instance/${instanceId}`],
  };
}

/** An EventBridge "EC2 Instance State-change Notification" as EC2 sends it (second-precision time). */
export function stateChangeEvent(instanceId: string, state: InstanceState, atMs: number, eventId?: string) {
  return {
    ...ec2InstanceEnvelope(instanceId, atMs),
    id: eventId ?? `ev-${instanceId}-${state}-${atMs}`,
    'detail-type': 'EC2 Instance State-change Notification',
    source: 'aws.ec2',
    detail: { 'instance-id': instanceId, state },
  };
}

/** An SQS record carrying `body` the way the EventBridge -> SQS target delivers it. */
export function sqsRecord(body: unknown, messageId: string, sentAtMs = Date.now()) {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(sentAtMs),
      SenderId: 'AIDAEXAMPLE',
      ApproximateFirstReceiveTimestamp: String(sentAtMs),
    },
    messageAttributes: {},
    md5OfBody: 'not-checked',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:fleetwarden-dns-sync',
    awsRegion: 'eu-west-1',
  };
}

/** An EventBridge "Tag Change on Resource" for an EC2 instance as the tagging service sends it. */
export function tagChangeEvent(
  instanceId: string,
  changedKeys: string[],
  tags: Record<string, string>,
  atMs: number,
  eventId?: string,
) {
  return {
    ...ec2InstanceEnvelope(instanceId, atMs),
    id: eventId ?? `tag-${instanceId}-${atMs}`,
    'detail-type': 'Tag Change on Resource',
    source: 'aws.tag',
    detail: {
      'changed-tag-keys': changedKeys,
      service: 'ec2',
      'resource-type': 'instance',
      version: 2,
      tags,
    },
  };
}
