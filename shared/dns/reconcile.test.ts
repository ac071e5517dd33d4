import { describe, expect, it } from 'vitest';
import { InMemoryInstanceInventory } from '../ec2/in-memory-instance-inventory';
import { formatMarker } from './marker';
import { planDns } from './planner';
import type { RecordSet } from './port';
import { observeFleet, planReconcile } from './reconcile';

const id = (n: number) => `i-${String(n).padStart(17, '0')}`;
const T = '2026-11-24T10:00:00.000Z';
const owned = (n: number, name: string, owner = 'prod'): RecordSet[] => [
  { name, type: 'A', ttl: 60, values: [`10.0.0.${n}`] },
  {
    name: `_fleetwarden.${name}`,
    type: 'TXT',
    ttl: 60,
    values: [
      formatMarker({
        owner,
        instanceId: id(n),
        type: 'A',
        value: `10.0.0.${n}`,
        state: 'running',
        time: T,
      }),
    ],
  },
];

describe('observeFleet', () => {
  it('never takes a live instance it cannot act on yet (pending, or running without an IP) for terminated', async () => {
    const inventory = new InMemoryInstanceInventory({ now: () => 0 });
    // a stop/start cycle: the instance we named is pending again; another is running without its IP yet
    inventory.put({ instanceId: id(1), state: 'pending', tags: {} });
    inventory.put({ instanceId: id(2), state: 'running', tags: {} });
    const zone = [...owned(1, 'web.example.com.'), ...owned(2, 'api.example.com.')];
    const facts = await observeFleet({
      inventory,
      nameTag: 'n',
      owner: 'prod',
      zones: [zone],
      observedAt: T,
    });
    expect(facts.filter((f) => f.state === 'terminated')).toEqual([]);
    const plan = planDns({
      config: { zoneName: 'example.com', ownerId: 'prod', ttl: 60, publishPublicIp: false },
      forward: zone,
      facts,
    });
    expect(plan.forward).toEqual([]);
  });

  it('still takes an owned instance DescribeInstances no longer knows for terminated', async () => {
    const inventory = new InMemoryInstanceInventory({ now: () => 0 });
    const facts = await observeFleet({
      inventory,
      nameTag: 'n',
      owner: 'prod',
      zones: [owned(3, 'gone.example.com.')],
      observedAt: T,
    });
    expect(facts).toEqual([
      { instanceId: id(3), state: 'terminated', time: T, source: 'observation', optedIn: false },
    ]);
  });

  it("never deletes another deployment's records in a shared zone: only the owner id tells them apart", async () => {
    // eu-west-1's instance, its record and an old tombstone of its own, in a zone us-east-1 also writes
    const EU = 'fleetwarden-123456789012-eu-west-1';
    const tombstone: RecordSet = {
      name: `_fleetwarden.${id(8)}.example.com.`,
      type: 'TXT',
      ttl: 60,
      values: [formatMarker({ owner: EU, instanceId: id(8), type: 'A', state: 'terminated', time: T })],
    };
    const zone = [...owned(5, 'eu-web.example.com.', EU), tombstone];
    const reconcileAs = async (owner: string) => {
      // us-east-1's DescribeInstances cannot see eu-west-1's instances
      const inventory = new InMemoryInstanceInventory({ now: () => 0 });
      const facts = await observeFleet({ inventory, nameTag: 'n', owner, zones: [zone], observedAt: T });
      return planReconcile({
        config: { zoneName: 'example.com', ownerId: owner, ttl: 60, publishPublicIp: false },
        forward: zone,
        facts,
        now: new Date(Date.parse(T) + 48 * 3_600_000),
        tombstoneMs: 24 * 3_600_000,
      });
    };
    expect((await reconcileAs('fleetwarden-123456789012-us-east-1')).forward).toEqual([]);
    // the failure a shared default owner id caused: the other region's live record taken for terminated
    const shared = await reconcileAs(EU);
    const deleted = shared.forward.flatMap((u) => u.changes).filter((c) => c.action === 'DELETE');
    expect(deleted.map((c) => `${c.record.type} ${c.record.name}`)).toContain('A eu-web.example.com.');
  });
});
