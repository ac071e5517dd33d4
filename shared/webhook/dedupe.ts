import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { BusEvent, EventPublisher } from './publisher';

/** What a delivery is known by: GitHub's X-GitHub-Delivery, and the sha256 of the signed body. */
export interface DeliveryKeys {
  deliveryId: string;
  /** Hex sha256 of the raw body as sent (what the signature covers). */
  bodyDigest: string;
}

export interface PublishOutcome {
  duplicate: boolean;
  eventId: string;
  /** Which key found the earlier delivery: its id (a redelivery) or its signed body (a replay). */
  by?: 'delivery-id' | 'body-digest';
}

export type PublishOnce = (keys: DeliveryKeys, event: BusEvent, context?: Context) => Promise<PublishOutcome>;

/**
 * Publish each GitHub delivery at most once per TTL, with Powertools idempotency on two keys, one
 * inside the other: X-GitHub-Delivery (shared by GitHub's redeliveries), then `sha256:<digest>` of the
 * signed body. The delivery id is not covered by the signature, so a captured body sent again under a
 * fresh id is caught by its digest. Both keys live in one store under one config (a persistence layer
 * keeps the first config it sees). A publish that throws deletes both in-progress records, so GitHub's
 * (manual or API) redelivery is published; a completed one answers from the store.
 *
 * The hashed data is the key string itself (`dataIndexArgument: 0`), never a JMESPath selection:
 * JMESPath is not in the function bundles (FUNCTION_ALIAS, infra/constructs/fleet-function.ts). The
 * stored key is the same as the `eventKeyJmesPath: 'key'` it replaced: `<prefix>#md5(JSON of the key)`
 * (pinned in dedupe.test.ts), so records written before a deploy still answer after it.
 */
export function deliveryDeduper(
  store: BasePersistenceLayer,
  publisher: EventPublisher,
  options: { ttlSeconds: number },
): PublishOnce {
  const config = new IdempotencyConfig({
    expiresAfterSeconds: options.ttlSeconds,
    responseHook: (response) => {
      const r = response as unknown as PublishOutcome;
      return { ...r, duplicate: true, by: r.by ?? 'delivery-id' };
    },
  });
  const idempotent = { persistenceStore: store, config, dataIndexArgument: 0 };
  const publishBody = makeIdempotent(async (_key: string, event: BusEvent): Promise<PublishOutcome> => {
    const { eventIds } = await publisher.publish([event]);
    return { duplicate: false, eventId: eventIds[0] ?? '' };
  }, idempotent);
  const publishDelivery = makeIdempotent(
    async (
      _deliveryId: string,
      delivery: { bodyDigest: string; event: BusEvent },
    ): Promise<PublishOutcome> => {
      const out = (await publishBody(`sha256:${delivery.bodyDigest}`, delivery.event)) as PublishOutcome;
      return out.duplicate ? { ...out, by: 'body-digest' } : out;
    },
    idempotent,
  );
  return async (keys, event, context) => {
    if (context) config.registerLambdaContext(context);
    return (await publishDelivery(keys.deliveryId, { bodyDigest: keys.bodyDigest, event })) as PublishOutcome;
  };
}
