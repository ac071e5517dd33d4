import { describe, expect, it } from 'vitest';
import { InMemoryInstanceLifecycle } from '../autoscaling/instance-lifecycle';
import { InMemoryWarmPool } from '../autoscaling/warm-pool';
import { InMemoryInstanceInventory } from '../ec2/in-memory-instance-inventory';
import { InMemoryInstanceTerminator } from '../ec2/instance-terminator';
import type { InstanceInfo } from '../ec2/port';
import { acrossScopes, fleetAcrossScopes } from './across-scopes';
import { UnknownScopeError } from './scope';

const HUB = { account: '111111111111', region: 'eu-west-1' };
const SPOKE = { account: '222222222222', region: 'us-east-1' };
const runner = (instanceId: string): InstanceInfo => ({
  instanceId,
  state: 'running',
  tags: { 'fleetwarden:fleet': 'runners' },
});

function fleet() {
  const part = (ids: string[]) => {
    const inventory = new InMemoryInstanceInventory();
    for (const id of ids) inventory.put(runner(id));
    const lifecycle = new InMemoryInstanceLifecycle();
    const warmPool = new InMemoryWarmPool();
    return { inventory, terminator: new InMemoryInstanceTerminator(inventory), lifecycle, warmPool };
  };
  const hub = part(['i-0000000000000aaa1']);
  const spoke = part(['i-0000000000000bbb1', 'i-0000000000000bbb2']);
  const across = acrossScopes([
    { scope: HUB, ...hub, instanceLifecycle: hub.lifecycle },
    { scope: SPOKE, ...spoke, instanceLifecycle: spoke.lifecycle },
  ]);
  return { hub, spoke, across };
}

describe('acrossScopes: one fleet seen in every account and region', () => {
  it('lists the instances of every scope (a sweep never takes a spoke runner for a ghost)', async () => {
    const { across } = fleet();
    const listed = await across.inventory.listByTag('fleetwarden:fleet', 'runners');
    expect(listed.map((i) => i.instanceId).sort()).toEqual([
      'i-0000000000000aaa1',
      'i-0000000000000bbb1',
      'i-0000000000000bbb2',
    ]);
    expect((await across.inventory.listInStates(['running'])).length).toBe(3);
    expect((await across.inventory.describe(['i-0000000000000bbb2'])).map((i) => i.instanceId)).toEqual([
      'i-0000000000000bbb2',
    ]);
  });

  it('terminates each instance in the account and region it was listed in, and only there', async () => {
    const { across, hub, spoke } = fleet();
    await across.inventory.listByTag('fleetwarden:fleet');
    await across.terminator.terminate(['i-0000000000000bbb1', 'i-0000000000000aaa1']);
    expect(spoke.terminator.terminated).toEqual(['i-0000000000000bbb1']);
    expect(hub.terminator.terminated).toEqual(['i-0000000000000aaa1']);
  });

  it('refuses to terminate an instance no scope listed (never a guessed account)', async () => {
    const { across, hub, spoke } = fleet();
    await expect(across.terminator.terminate(['i-0000000000000ccc1'])).rejects.toBeInstanceOf(
      UnknownScopeError,
    );
    expect([...hub.terminator.terminated, ...spoke.terminator.terminated]).toEqual([]);
  });

  it('merges Auto Scaling views of every scope (terminating instances, warm pools)', async () => {
    const { across, spoke, hub } = fleet();
    spoke.lifecycle.put('runners', 'i-0000000000000bbb1', 'Terminating:Wait');
    hub.lifecycle.put('runners', 'i-0000000000000aaa1', 'InService');
    spoke.warmPool.put('runners', 'i-0000000000000bbb2', 'Warmed:Stopped');
    expect([
      ...(await across.instanceLifecycle.terminating(['i-0000000000000bbb1', 'i-0000000000000aaa1'])),
    ]).toEqual(['i-0000000000000bbb1']);
    expect([...(await across.instanceLifecycle.terminatingInGroups(['runners']))]).toEqual([
      'i-0000000000000bbb1',
    ]);
    expect([...(await across.warmPool.warmedInGroups(['runners'])).keys()]).toEqual(['i-0000000000000bbb2']);
  });

  it('a listing fails as a whole when one scope fails (a partial inventory is never returned)', async () => {
    const { across, spoke } = fleet();
    spoke.inventory.throttleNext(1);
    await expect(across.inventory.listByTag('fleetwarden:fleet')).rejects.toThrow();
  });
});

describe('fleetAcrossScopes: the ports of a run that sees the whole fleet', () => {
  const topology = { hub: HUB, spokes: [SPOKE], fleetId: 'prod', partition: 'aws' };

  it("without spokes: the single scope's own ports, unchanged", () => {
    const inventory = new InMemoryInstanceInventory();
    const made: unknown[] = [];
    const ports = fleetAcrossScopes(
      (scope) => {
        made.push(scope);
        return { inventory };
      },
      () => undefined,
    );
    expect(ports.inventory).toBe(inventory);
    expect(made).toEqual([undefined]);
  });

  it('with spokes: one part per scope (hub first), merged', async () => {
    const made: unknown[] = [];
    const ports = fleetAcrossScopes(
      (scope) => {
        made.push(scope);
        const inventory = new InMemoryInstanceInventory();
        inventory.put(runner(scope === SPOKE ? 'i-0000000000000bbb9' : 'i-0000000000000aaa9'));
        return { inventory };
      },
      () => topology,
    );
    expect(made).toEqual([HUB, SPOKE]);
    expect((await ports.inventory.listInStates(['running'])).length).toBe(2);
  });
});
