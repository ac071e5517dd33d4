import { describe, expect, it } from 'vitest';
import { type EventPublisher, PublishError } from './publisher';

export interface PublisherHarness {
  publisher: EventPublisher;
  /** The next `n` entries PutEvents is given fail with ThrottlingException. */
  failNextEntries(n: number): void;
  /** Entries accepted by the bus so far, in order. */
  accepted(): Array<{ source: string; detailType: string; detail: unknown }>;
}

const event = (n: number) => ({ source: 'fleetwarden.github', detailType: 'workflow_job', detail: { n } });

export function describePublisherContract(name: string, make: () => PublisherHarness): void {
  describe(`EventPublisher contract: ${name}`, () => {
    it('publishes every event once and returns their ids in order', async () => {
      const h = make();
      const out = await h.publisher.publish([event(1), event(2)]);
      expect(out.eventIds).toHaveLength(2);
      expect(out.eventIds.every((id) => id.length > 0)).toBe(true);
      expect(h.accepted().map((a) => a.detail)).toEqual([{ n: 1 }, { n: 2 }]);
    });

    it('resends only the entries that failed: nothing is published twice', async () => {
      const h = make();
      h.failNextEntries(1);
      const out = await h.publisher.publish([event(1), event(2), event(3)]);
      expect(out.attempts).toBe(2);
      expect(
        h
          .accepted()
          .map((a) => (a.detail as { n: number }).n)
          .sort(),
      ).toEqual([1, 2, 3]);
    });

    it('gives up after bounded attempts with PublishError naming the entries', async () => {
      const h = make();
      h.failNextEntries(100);
      const err = await h.publisher.publish([event(1)]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PublishError);
      expect((err as PublishError).failures).toEqual([
        expect.objectContaining({ index: 0, errorCode: 'ThrottlingException' }),
      ]);
    });
  });
}
