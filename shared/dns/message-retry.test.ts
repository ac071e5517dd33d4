import { ChangeMessageVisibilityCommand, ReceiptHandleIsInvalid, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { MessageRetryError, queueUrlOf, SqsMessageRetry } from './message-retry';

const sqs = mockClient(SQSClient);
const message = {
  messageId: 'm-1',
  receiptHandle: 'AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a',
  eventSourceARN: 'arn:aws:sqs:eu-west-1:123456789012:fleetwarden-dns-sync',
};

describe('SqsMessageRetry', () => {
  beforeEach(() => sqs.reset());

  it('sets the visibility of the received message on its queue (URL from the event source ARN)', async () => {
    sqs.on(ChangeMessageVisibilityCommand).resolves({ $metadata: { httpStatusCode: 200, requestId: 'r-1' } });
    await new SqsMessageRetry(new SQSClient({ region: 'eu-west-1' })).after(message, 20);
    expect(sqs.commandCalls(ChangeMessageVisibilityCommand)[0]?.args[0].input).toEqual({
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/fleetwarden-dns-sync',
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
    const err = await new SqsMessageRetry(new SQSClient({ region: 'eu-west-1' }))
      .after(message, 20)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessageRetryError);
    expect((err as Error).cause).toBe(cause);
  });

  it('derives China-partition queue URLs', () => {
    expect(queueUrlOf('arn:aws-cn:sqs:cn-north-1:123456789012:q')).toBe(
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q',
    );
  });
});
