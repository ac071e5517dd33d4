import type { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { InvalidAuditRecordError } from '../../../shared/audit/errors';
import { ConfigError, ThrottledError } from '../../../shared/core/errors';
import { search } from '../../../shared/core/no-jmespath';
import { type DeliveryKeys, deliveryDeduper } from '../../../shared/webhook/dedupe';
import { InMemoryEventBus } from '../../../shared/webhook/in-memory-event-bus';
import type { BusEvent } from '../../../shared/webhook/publisher';
import { InMemoryPersistenceLayer } from '../../../shared/webhook/testing/in-memory-persistence-layer';

/** The in-memory store, noting the key of every record written (to compare with the pinned ones). */
class KeyNotingStore extends InMemoryPersistenceLayer {
  readonly keys = new Set<string>();
  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    this.keys.add(record.idempotencyKey);
    await super._putRecord(record);
  }
}

const EVENT: BusEvent = { source: 'fleetwarden.github', detailType: 'workflow_job', detail: { id: 1 } };

/**
 * A delivery's life through the webhook deduper (Powertools idempotency), for FleetFunction's tests
 * to bundle as every function is bundled and run: first delivery, GitHub's redelivery (same id), a
 * captured body replayed under a new id, a publish that fails and then its redelivery.
 */
export const handler = async () => {
  const store = new KeyNotingStore();
  const bus = new InMemoryEventBus({ maxAttempts: 1 });
  const publishOnce = deliveryDeduper(store, bus, { ttlSeconds: 3600 });
  const deliver = (keys: DeliveryKeys) =>
    publishOnce(keys, EVENT).then(
      (o) => (o.duplicate ? `duplicate by ${o.by}` : 'published'),
      (e: Error) => `failed: ${String(e)}`,
    );
  const seen = { deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', bodyDigest: 'a'.repeat(64) };
  const outcomes = [
    await deliver(seen),
    await deliver(seen),
    await deliver({ ...seen, deliveryId: 'new-id' }),
  ];
  bus.failNextEntries(1);
  const failing = { deliveryId: 'fails-once', bodyDigest: 'b'.repeat(64) };
  outcomes.push(await deliver(failing), await deliver(failing));
  return { outcomes, published: bus.events.length, keys: [...store.keys] };
};

/** What an on-call engineer reads of an error (Powertools logs `name`; audit records `name: message`). */
const seenAs = (e: Error) => ({
  name: e.name,
  message: e.message,
  string: String(e),
  stack: e.stack?.split('\n')[0],
});

/**
 * Errors of every shape, bundled and minified as every function is: a direct FleetwardenError
 * subclass both thrown and subclassed (ConfigError), a subclass of a subclass thrown by shared code
 * (the JMESPath stand-in's; InvalidAuditRecordError), one with its own constructor (ThrottledError).
 */
export const errors = () => {
  const thrown: Error[] = [
    new ConfigError('FLEET_ID is missing'),
    new InvalidAuditRecordError('bad record'),
    new ThrottledError('Route 53 throttled', 1200, { cause: new Error('Rate exceeded') }),
  ];
  try {
    search('detail.id');
  } catch (e) {
    thrown.push(e as Error);
  }
  return thrown.map(seenAs);
};
