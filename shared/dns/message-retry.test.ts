import { ChangeMessageVisibilityCommand, ReceiptHandleIsInvalid, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MessageRetryError, SqsMessageRetry } from './message-retry';

const sqs = mockClient(SQSClient);
const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleetwarden-dns-sync';
const message = {
  messageId: 'm-1',
  receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:fleetwarden-dns-sync',
};

describe('SqsMessageRetry', () => {
  beforeEach(() => sqs.reset());

  it('sets the visibility of the received message on the queue URL it was given (QUEUE_URL), never one built from the ARN', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({ $metadata: { httpStatusCode: 200, requestId: 'r-1' } });
    // a VPC interface endpoint without private DNS: the SDK sends the request to the queue URL's host
    const url =
      'https://vpce-0a1b2c3d-4e5f.sqs.eu-west-1.vpce.amazonaws.com/123456789012/fleetwarden-dns-sync';
    await new SqsMessageRetry(url, new SQSClient({ region: 'eu-west-1' })).after(message, 20);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({
      QueueUrl: url,
      ReceiptHandle: message.receiptHandle,
      VisibilityTimeout: 20,
    });
  });

  it('wraps a failure in MessageRetryError with the cause', async () => {
    const cause = new ReceiptHandleIsInvalid({
      message: 'The input receipt handle is invalid.',
      $metadata: {},
    });
    sqs.on(ChangeMessageVisibilityCommand).rejects(cause);
    const err = await new SqsMessageRetry(QUEUE_URL, new SQSClient({ region: 'eu-west-1' }))
      .after(message, 20)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessageRetryError);
    expect((err as Error).cause).toBe(cause);
  });

  it('refuses a message from another queue than the one it was given', async () => {
    const err = await new SqsMessageRetry(QUEUE_URL, new SQSClient({ region: 'eu-west-1' }))
      .after({ ...message, eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:other-queue' }, 20)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessageRetryError);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)).toHaveLength(0);
  });
});
