import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { defaultSqsClient } from '../aws/clients';
import { FleetwardenError } from '../core/errors';

/** The fields of a received SQS message that ChangeMessageVisibility needs. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  /** The queue's ARN, as the SQS event source puts it on every record. */
  eventSourceARN: string;
}

/**
 * Port: bring a failed message back sooner than the queue's visibility timeout (6x the function
 * timeout, 360 s for dns-sync), e.g. when DescribeInstances merely lags for a few seconds.
 */
export interface MessageRetry {
  after(message: ReceivedMessage, seconds: number): Promise<void>;
}

/** ChangeMessageVisibility failed; the queue's own visibility timeout then applies. */
export class MessageRetryError extends FleetwardenError {}

const QUEUE_ARN = /^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):(\d{12}):(.+)$/;

/** https://sqs.<region>.amazonaws.com[.cn]/<account>/<name> for a queue ARN. */
export function queueUrlOf(arn: string): string {
  const m = QUEUE_ARN.exec(arn);
  if (!m) throw new MessageRetryError(`not an SQS queue ARN: ${arn}`);
  const [, partition, region, account, name] = m;
  const suffix = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${suffix}/${account}/${name}`;
}

/** SQS ChangeMessageVisibility behind MessageRetry (the event source mapping's role already allows it). */
export class SqsMessageRetry implements MessageRetry {
  constructor(private readonly client: SQSClient = defaultSqsClient()) {}

  async after(message: ReceivedMessage, seconds: number): Promise<void> {
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: queueUrlOf(message.eventSourceARN),
          ReceiptHandle: message.receiptHandle,
          VisibilityTimeout: seconds,
        }),
      );
    } catch (err) {
      throw new MessageRetryError(
        `ChangeMessageVisibility of message ${message.messageId} to ${seconds} s failed: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}
