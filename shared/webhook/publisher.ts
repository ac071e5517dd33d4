import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { defaultEventBridgeClient } from '../aws/clients';
import { FleetwardenError } from '../core/errors';

/** One event for the fleet's bus. */
export interface BusEvent {
  source: string;
  detailType: string;
  detail: Record<string, unknown>;
  time?: Date;
}

/** Port: put events on an EventBridge bus; resolves only when EVERY entry was accepted. */
export interface EventPublisher {
  publish(events: readonly BusEvent[]): Promise<{ eventIds: string[]; attempts: number }>;
}

/** Some entries were still refused after the bounded resends; the caller must fail (and be retried). */
export class PublishError extends FleetwardenError {
  override readonly name: string = 'PublishError';
  constructor(
    message: string,
    readonly failures: Array<{ index: number; errorCode: string; errorMessage?: string }>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface PublishPolicy {
  /** Attempts per entry, the first included. @default 3 */
  maxAttempts: number;
  /** Base backoff in ms (full jitter, doubling). @default 50 */
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
}

export const DEFAULT_PUBLISH_POLICY: PublishPolicy = {
  maxAttempts: 3,
  baseDelayMs: 50,
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  random: Math.random,
};

/** EventBridge accepts at most 10 entries per PutEvents request. */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * PutEvents adapter. PutEvents is not all-or-nothing: it answers 200 with FailedEntryCount and a
 * per-entry ErrorCode (e.g. ThrottlingException, InternalFailure). Only the failed entries are sent
 * again, with jittered backoff; after `maxAttempts` a PublishError names each entry still failing.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly busName: string,
    private readonly client: EventBridgeClient = defaultEventBridgeClient(),
    private readonly policy: PublishPolicy = DEFAULT_PUBLISH_POLICY,
  ) {}

  async publish(events: readonly BusEvent[]): Promise<{ eventIds: string[]; attempts: number }> {
    const eventIds: string[] = new Array(events.length).fill('');
    let attempts = 0;
    for (let start = 0; start < events.length; start += PUT_EVENTS_MAX_ENTRIES) {
      let pending = events
        .slice(start, start + PUT_EVENTS_MAX_ENTRIES)
        .map((e, i) => ({ index: start + i, e }));
      for (let attempt = 1; pending.length > 0; attempt++) {
        attempts = Math.max(attempts, attempt);
        const entries: PutEventsRequestEntry[] = pending.map(({ e }) => ({
          EventBusName: this.busName,
          Source: e.source,
          DetailType: e.detailType,
          Detail: JSON.stringify(e.detail),
          ...(e.time ? { Time: e.time } : {}),
        }));
        const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
        const failed: Array<{ index: number; e: BusEvent; errorCode: string; errorMessage?: string }> = [];
        pending.forEach((p, i) => {
          const r = out.Entries?.[i];
          if (r?.EventId && !r.ErrorCode) eventIds[p.index] = r.EventId;
          else
            failed.push({
              ...p,
              errorCode: r?.ErrorCode ?? 'NoResult',
              ...(r?.ErrorMessage ? { errorMessage: r.ErrorMessage } : {}),
            });
        });
        if (failed.length === 0) break;
        if (attempt >= this.policy.maxAttempts) {
          throw new PublishError(
            `PutEvents to ${this.busName} refused ${failed.length} of ${events.length} entries after ${attempt} attempts: ${[...new Set(failed.map((f) => f.errorCode))].join(', ')}`,
            failed.map(({ index, errorCode, errorMessage }) => ({
              index,
              errorCode,
              ...(errorMessage ? { errorMessage } : {}),
            })),
          );
        }
        await this.policy.sleep(this.policy.random() * this.policy.baseDelayMs * 2 ** (attempt - 1));
        pending = failed.map(({ index, e }) => ({ index, e }));
      }
    }
    return { eventIds, attempts };
  }
}
