import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import type { InstanceInfo, InstanceInventory } from './port';

export interface InventorySubject {
  inventory: InstanceInventory;
  /** Record a change to an instance now; DescribeInstances shows it after the subject's lag. */
  put(info: InstanceInfo): void;
  /** Move the subject's clock forward. */
  advance(ms: number): void;
  throttleNext(count: number): void;
  /** Lag configured for this subject, in ms. */
  lagMs: number;
}

const id = (n: number) => `i-${String(n).padStart(17, '0')}`;
const inst = (n: number, over: Partial<InstanceInfo> = {}): InstanceInfo => ({
  instanceId: id(n),
  state: 'running',
  privateIp: `10.0.0.${n}`,
  tags: { 'fleetwarden:dns-name': `h${n}` },
  ...over,
});

/** InstanceInventory behaviour, identical for InMemoryInstanceInventory and Ec2InstanceInventory. */
export function describeInstanceInventoryContract(name: string, make: () => InventorySubject): void {
  describe(`InstanceInventory contract: ${name}`, () => {
    it('describes known ids and omits unknown ones without throwing', async () => {
      const s = make();
      s.put(inst(1, { publicIp: '203.0.113.1', launchTime: '2026-11-24T10:00:00.000Z' }));
      s.advance(s.lagMs);
      const out = await s.inventory.describe([id(1), id(999)]);
      expect(out).toEqual([
        {
          instanceId: id(1),
          state: 'running',
          privateIp: '10.0.0.1',
          publicIp: '203.0.113.1',
          tags: { 'fleetwarden:dns-name': 'h1' },
          launchTime: '2026-11-24T10:00:00.000Z',
        },
      ]);
      expect(await s.inventory.describe([])).toEqual([]);
    });

    it('shows a change only after the DescribeInstances lag', async () => {
      const s = make();
      s.put(inst(1));
      s.advance(s.lagMs);
      s.put(inst(1, { state: 'stopped' }));
      if (s.lagMs > 0) expect((await s.inventory.describe([id(1)]))[0]?.state).toBe('running');
      s.advance(s.lagMs);
      expect((await s.inventory.describe([id(1)]))[0]?.state).toBe('stopped');
    });

    it('keeps a terminated instance describable for a while, without its IP, then forgets it', async () => {
      const s = make();
      s.put(inst(1));
      s.advance(s.lagMs);
      s.put(inst(1, { state: 'terminated' }));
      s.advance(s.lagMs);
      const [gone] = await s.inventory.describe([id(1)]);
      expect(gone).toMatchObject({
        instanceId: id(1),
        state: 'terminated',
        tags: { 'fleetwarden:dns-name': 'h1' },
      });
      expect(gone?.privateIp).toBeUndefined();
      // when it left (EC2: StateTransitionReason "User initiated (2026-11-24 10:00:02 GMT)"), to the second
      expect(Date.parse(gone?.stateChangedAt ?? '')).toBeGreaterThan(Date.parse('2026-11-24T00:00:00Z'));
      s.advance(2 * 3_600_000);
      expect(await s.inventory.describe([id(1)])).toEqual([]);
    });

    it('lists by tag (key, or key and value) across every page, excluding terminated', async () => {
      const s = make();
      for (let n = 1; n <= 23; n++) s.put(inst(n));
      s.put(inst(30, { tags: { other: 'x' } }));
      s.put(inst(31, { state: 'stopped', tags: { 'fleetwarden:dns-name': 'special' } }));
      s.advance(s.lagMs);
      s.put(inst(2, { state: 'terminated' }));
      s.advance(s.lagMs);
      const tagged = await s.inventory.listByTag('fleetwarden:dns-name');
      expect(tagged.map((i) => i.instanceId).sort()).toEqual(
        [1, ...Array.from({ length: 21 }, (_, k) => k + 3), 31].map(id).sort(),
      );
      const special = await s.inventory.listByTag('fleetwarden:dns-name', 'special');
      expect(special).toEqual([expect.objectContaining({ instanceId: id(31), state: 'stopped' })]);
    });

    it('lists every instance in the given states, tagged or not, across every page', async () => {
      const s = make();
      for (let n = 1; n <= 12; n++) s.put(inst(n, { tags: {} }));
      s.put(inst(20, { state: 'stopped' }));
      s.put(inst(21, { state: 'terminated' }));
      s.advance(s.lagMs);
      const running = await s.inventory.listInStates(['running']);
      expect(running.map((i) => i.instanceId).sort()).toEqual(
        Array.from({ length: 12 }, (_, k) => id(k + 1)).sort(),
      );
      const stopped = await s.inventory.listInStates(['stopped', 'stopping']);
      expect(stopped.map((i) => i.instanceId)).toEqual([id(20)]);
    });

    it('reports throttling as ThrottledError', async () => {
      const s = make();
      s.throttleNext(1);
      await expect(s.inventory.listByTag('k')).rejects.toBeInstanceOf(ThrottledError);
      await expect(s.inventory.listByTag('k')).resolves.toEqual([]);
    });
  });
}
