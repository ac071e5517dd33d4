import { expect, it } from 'vitest';
import { InMemoryInstanceInventory } from './in-memory-instance-inventory';
import { describeInstanceInventoryContract } from './instance-inventory.contract';

for (const lagMs of [0, 5000]) {
  describeInstanceInventoryContract(`InMemoryInstanceInventory (lag ${lagMs} ms)`, () => {
    let now = Date.parse('2026-11-24T10:00:00Z');
    const inv = new InMemoryInstanceInventory({ now: () => now, lagMs });
    return {
      inventory: inv,
      put: (i) => inv.put(i),
      advance: (ms) => (now += ms),
      throttleNext: (n) => inv.throttleNext(n),
      lagMs,
    };
  });
}

it('a brand-new instance is absent until the lag has passed (not an error)', async () => {
  let now = 0;
  const inv = new InMemoryInstanceInventory({ now: () => now, lagMs: 3000 });
  inv.put({ instanceId: 'i-00000000000000001', state: 'running', privateIp: '10.0.0.1', tags: {} });
  expect(await inv.describe(['i-00000000000000001'])).toEqual([]);
  now = 3000;
  expect(await inv.describe(['i-00000000000000001'])).toHaveLength(1);
});

it('can keep the IP of a terminated instance when told to', async () => {
  let now = 0;
  const inv = new InMemoryInstanceInventory({ now: () => now, dropIpWhenTerminated: false });
  inv.put({ instanceId: 'i-00000000000000001', state: 'terminated', privateIp: '10.0.0.1', tags: {} });
  now = 1;
  expect((await inv.describe(['i-00000000000000001']))[0]?.privateIp).toBe('10.0.0.1');
});
