import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { defaultSqsClient } from '../aws/clients';
import type { DrainQueueMessage } from './lifecycle-event';

/** Port: look at a draining instance again after a delay (SQS DelaySeconds, at most 900 s), or start a drain (0 s). */
export interface DrainScheduler {
  later(message: DrainQueueMessage, delaySeconds: number): Promise<void>;
}

export class SqsDrainScheduler implements DrainScheduler {
  constructor(
    private readonly queueUrl: string,
    private readonly client: SQSClient = defaultSqsClient(),
  ) {}

  async later(message: DrainQueueMessage, delaySeconds: number): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: JSON.stringify(message),
        DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))),
      }),
    );
  }
}

/** Fake: keeps what was scheduled; the simulator delivers it when its clock reaches `dueAt`. */
export class InMemoryDrainScheduler implements DrainScheduler {
  readonly scheduled: Array<{ message: DrainQueueMessage; delaySeconds: number }> = [];
  async later(message: DrainQueueMessage, delaySeconds: number): Promise<void> {
    this.scheduled.push({ message, delaySeconds });
  }
}
