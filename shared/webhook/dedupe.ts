import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { BusEvent, EventPublisher } from './publisher';

export type PublishOnce = (
  deliveryId: string,
  event: BusEvent,
  context?: Context,
) => Promise<{ duplicate: boolean; eventId: string }>;

/**
 * Publish each GitHub delivery at most once per TTL, keyed on X-GitHub-Delivery (shared by
 * redeliveries), with Powertools idempotency. A publish that throws deletes its in-progress record,
 * so GitHub's (manual or API) redelivery is published; a completed one answers from the store.
 */
export function deliveryDeduper(
  store: BasePersistenceLayer,
  publisher: EventPublisher,
  options: { ttlSeconds: number },
): PublishOnce {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'deliveryId',
    expiresAfterSeconds: options.ttlSeconds,
    responseHook: (response) => ({ ...(response as object), duplicate: true }),
  });
  const publishOne = makeIdempotent(
    async (input: { deliveryId: string; event: BusEvent }) => {
      const { eventIds } = await publisher.publish([input.event]);
      return { duplicate: false, eventId: eventIds[0] ?? '' };
    },
    { persistenceStore: store, config },
  );
  return async (deliveryId, event, context) => {
    if (context) config.registerLambdaContext(context);
    return (await publishOne({ deliveryId, event })) as { duplicate: boolean; eventId: string };
  };
}
