import type { BusEvent, EventPublisher } from './publisher';
import { PublishError } from './publisher';

/** An event as the bus holds it: EventBridge's envelope. */
export interface DeliveredEvent {
  id: string;
  source: string;
  'detail-type': string;
  time: string;
  detail: Record<string, unknown>;
}

/**
 * In-memory fake of a custom EventBridge bus behind the EventPublisher port: partial failures per
 * entry (the next `n` entries fail with ThrottlingException, like PutEvents answering
 * FailedEntryCount > 0), and subscribers that receive accepted events (the simulator routes them;
 * delivery there is at-least-once and unordered).
 */
export class InMemoryEventBus implements EventPublisher {
  readonly events: DeliveredEvent[] = [];
  readonly putCalls: number[] = [];
  private failEntries = 0;
  private seq = 0;
  private readonly subscribers: Array<(e: DeliveredEvent) => void> = [];

  constructor(private readonly options: { maxAttempts?: number; now?: () => Date } = {}) {}

  failNextEntries(n: number): void {
    this.failEntries += n;
  }

  subscribe(fn: (e: DeliveredEvent) => void): void {
    this.subscribers.push(fn);
  }

  async publish(events: readonly BusEvent[]): Promise<{ eventIds: string[]; attempts: number }> {
    const maxAttempts = this.options.maxAttempts ?? 3;
    const ids: string[] = new Array(events.length).fill('');
    let pending = events.map((e, index) => ({ e, index }));
    let attempt = 0;
    while (pending.length > 0) {
      attempt++;
      this.putCalls.push(pending.length);
      const failed: typeof pending = [];
      for (const p of pending) {
        if (this.failEntries > 0) {
          this.failEntries--;
          failed.push(p);
          continue;
        }
        const delivered: DeliveredEvent = {
          id: `evt-${++this.seq}`,
          source: p.e.source,
          'detail-type': p.e.detailType,
          time: (p.e.time ?? this.options.now?.() ?? new Date()).toISOString(),
          detail: p.e.detail,
        };
        this.events.push(delivered);
        ids[p.index] = delivered.id;
        for (const s of this.subscribers) s(delivered);
      }
      if (failed.length > 0 && attempt >= maxAttempts) {
        throw new PublishError(
          `PutEvents refused ${failed.length} of ${events.length} entries after ${attempt} attempts: ThrottlingException`,
          failed.map((f) => ({ index: f.index, errorCode: 'ThrottlingException' })),
        );
      }
      pending = failed;
    }
    return { eventIds: ids, attempts: attempt };
  }
}
