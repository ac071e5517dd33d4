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
export class MessageRetryError extends FleetwardenError {
  override readonly name: string = 'MessageRetryError';
}

/** The queue name: the last segment of a queue URL, or of a queue ARN. */
const queueName = (urlOrArn: string) => urlOrArn.split(/[/:]/).at(-1) ?? '';

/**
 * SQS ChangeMessageVisibility behind MessageRetry (the event source mapping's role already allows
 * it). The queue URL is the one the construct passes in (env QUEUE_URL), never built from the ARN:
 * with `useQueueUrlAsEndpoint` the SDK sends the request to that URL's host, which differs from
 * sqs.<region>.amazonaws.com behind a VPC endpoint without private DNS, in FIPS or custom endpoints.
 */
export class SqsMessageRetry implements MessageRetry {
  constructor(
    private readonly queueUrl: string,
    private readonly client: SQSClient = defaultSqsClient(),
  ) {}

  async after(message: ReceivedMessage, seconds: number): Promise<void> {
    if (queueName(message.eventSourceARN) !== queueName(this.queueUrl)) {
      throw new MessageRetryError(
        `message ${message.messageId} comes from ${message.eventSourceARN}, not from the queue ${this.queueUrl}`,
      );
    }
    try {
      await this.client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: this.queueUrl,
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
