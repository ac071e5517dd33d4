import { describe, expect, it } from 'vitest';
import { webhookLatency } from './webhook-ingress.bench';

describe('webhook ingress under redelivery', () => {
  it('publishes each delivery once and answers redeliveries as duplicates', async () => {
    const r = await webhookLatency(200);
    expect(r.published).toBe(180);
    expect(r.duplicates).toBe(20);
  });
});
