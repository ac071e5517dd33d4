import { createHash } from 'node:crypto';
import type { IdempotencyRecord } from '@aws-lambda-powertools/idempotency/persistence';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deliveryDeduper } from './dedupe';
import { InMemoryEventBus } from './in-memory-event-bus';
import type { BusEvent } from './publisher';
import { InMemoryPersistenceLayer } from './testing/in-memory-persistence-layer';

/** The in-memory store, noting the key of every record Powertools writes (in-progress and completed). */
class RecordingStore extends InMemoryPersistenceLayer {
  readonly written: string[] = [];
  protected override async _putRecord(record: IdempotencyRecord): Promise<void> {
    this.written.push(`put ${record.idempotencyKey}`);
    await super._putRecord(record);
  }
  protected override async _updateRecord(record: IdempotencyRecord): Promise<void> {
    this.written.push(`update ${record.idempotencyKey}`);
    await super._updateRecord(record);
  }
}

const DELIVERY = { deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958', bodyDigest: 'a'.repeat(64) };
const EVENT: BusEvent = { source: 'fleetwarden.github', detailType: 'workflow_job', detail: { id: 1 } };

describe('deliveryDeduper: the idempotency keys it stores', () => {
  beforeEach(() => {
    // the persistence layer takes its key prefix from the function name when it is constructed
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'fleetwarden-WebhookIngress');
  });
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  // Pinned from the code that stored them through Powertools' `eventKeyJmesPath: 'key'`: a deploy
  // that changed them would publish again every delivery already seen within the TTL.
  const BY_DELIVERY_ID = 'fleetwarden-WebhookIngress#EZ3V9kT6WgSMgzk8Fx6nPg==';
  const BY_BODY_DIGEST = 'fleetwarden-WebhookIngress#Mk+lXspAH9xfo8WCPiSQdg==';

  it('stores a delivery under <function name>#md5(JSON of the delivery id), then of sha256:<digest>', async () => {
    const store = new RecordingStore();
    const publishOnce = deliveryDeduper(store, new InMemoryEventBus(), { ttlSeconds: 3600 });
    expect(await publishOnce(DELIVERY, EVENT)).toMatchObject({ duplicate: false });
    expect(store.written).toEqual([
      `put ${BY_DELIVERY_ID}`,
      `put ${BY_BODY_DIGEST}`,
      `update ${BY_BODY_DIGEST}`,
      `update ${BY_DELIVERY_ID}`,
    ]);
    // what Powertools hashes: the selected key as JSON (a quoted string), md5, base64
    const md5 = (s: string) => createHash('md5').update(JSON.stringify(s)).digest('base64');
    expect(BY_DELIVERY_ID).toBe(`fleetwarden-WebhookIngress#${md5(DELIVERY.deliveryId)}`);
    expect(BY_BODY_DIGEST).toBe(`fleetwarden-WebhookIngress#${md5(`sha256:${DELIVERY.bodyDigest}`)}`);
  });

  it('answers a redelivery by its id and a replay under a new id by its body, publishing once', async () => {
    const store = new RecordingStore();
    const bus = new InMemoryEventBus();
    const publishOnce = deliveryDeduper(store, bus, { ttlSeconds: 3600 });
    const first = await publishOnce(DELIVERY, EVENT);
    expect(await publishOnce(DELIVERY, EVENT)).toEqual({ ...first, duplicate: true, by: 'delivery-id' });
    const replay = await publishOnce({ ...DELIVERY, deliveryId: 'another-id' }, EVENT);
    expect(replay).toEqual({ ...first, duplicate: true, by: 'body-digest' });
    expect(bus.events).toHaveLength(1);
  });

  it('leaves no record when the publish fails, so the redelivery publishes', async () => {
    const store = new RecordingStore();
    const bus = new InMemoryEventBus({ maxAttempts: 1 });
    const publishOnce = deliveryDeduper(store, bus, { ttlSeconds: 3600 });
    bus.failNextEntries(1);
    await expect(publishOnce(DELIVERY, EVENT)).rejects.toThrow();
    expect(store.size).toBe(0);
    expect(await publishOnce(DELIVERY, EVENT)).toMatchObject({ duplicate: false });
    expect(bus.events).toHaveLength(1);
  });
});
