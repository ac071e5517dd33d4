import type { InstanceLifecycle } from '../autoscaling/instance-lifecycle';
import type { WarmPool } from '../autoscaling/warm-pool';
import type { InstanceTerminator } from '../ec2/instance-terminator';
import type { InstanceInfo, InstanceInventory } from '../ec2/port';
import {
  type AwsScope,
  scopeKey,
  scopesOf,
  type Topology,
  topologyFromEnv,
  UnknownScopeError,
} from './scope';

/** One scope's ports (each calls in that account and region only). */
export interface ScopePart {
  scope: AwsScope;
  inventory: InstanceInventory;
  terminator?: InstanceTerminator;
  instanceLifecycle?: InstanceLifecycle;
  warmPool?: WarmPool;
}

export interface AcrossScopes {
  inventory: InstanceInventory;
  terminator: InstanceTerminator;
  instanceLifecycle: InstanceLifecycle;
  warmPool: WarmPool;
}

const need = <T>(part: ScopePart, port: T | undefined, name: string): T => {
  if (!port) throw new UnknownScopeError(`${scopeKey(part.scope)} has no ${name} port`);
  return port;
};

async function union<T>(parts: readonly ScopePart[], read: (p: ScopePart) => Promise<Iterable<T>>) {
  // every scope is read; one failure fails the whole read (a partial fleet is never returned)
  const all = await Promise.all(parts.map(read));
  return all.flatMap((xs) => [...xs]);
}

/**
 * The whole fleet for a run that sees every account and region at once (runner-sweep,
 * dns-reconcile: a runner or record whose instance lives in a spoke is not a ghost): listings are
 * the union of every scope's (all or nothing); each instance listed is remembered with its scope,
 * and a termination goes to that scope only. An instance no scope listed is never terminated.
 */
export function acrossScopes(parts: readonly ScopePart[]): AcrossScopes {
  const home = new Map<string, ScopePart>();
  const noted = (part: ScopePart) => (infos: InstanceInfo[]) => {
    for (const i of infos) home.set(i.instanceId, part);
    return infos;
  };
  const inventory: InstanceInventory = {
    describe: (ids) => union(parts, (p) => p.inventory.describe(ids).then(noted(p))),
    listByTag: (key, value) => union(parts, (p) => p.inventory.listByTag(key, value).then(noted(p))),
    listInStates: (states) => union(parts, (p) => p.inventory.listInStates(states).then(noted(p))),
  };
  const terminator: InstanceTerminator = {
    async terminate(ids) {
      const byScope = new Map<ScopePart, string[]>();
      for (const id of ids) {
        const part = home.get(id);
        if (!part) throw new UnknownScopeError(`${id} was listed in no scope of the fleet: not terminated`);
        byScope.set(part, [...(byScope.get(part) ?? []), id]);
      }
      for (const [part, mine] of byScope) await need(part, part.terminator, 'terminator').terminate(mine);
    },
  };
  const instanceLifecycle: InstanceLifecycle = {
    terminating: async (ids) =>
      new Set(await union(parts, (p) => need(p, p.instanceLifecycle, 'instanceLifecycle').terminating(ids))),
    terminatingInGroups: async (groups) =>
      new Set(
        await union(parts, (p) =>
          need(p, p.instanceLifecycle, 'instanceLifecycle').terminatingInGroups(groups),
        ),
      ),
  };
  const warmPool: WarmPool = {
    warmedInGroups: async (groups) =>
      new Map(await union(parts, (p) => need(p, p.warmPool, 'warmPool').warmedInGroups(groups))),
  };
  return { inventory, terminator, instanceLifecycle, warmPool };
}

/**
 * The fleet-wide ports of an entry (runner-sweep, dns-reconcile): `make(scope)` builds one scope's
 * adapters (clients from `ec2ClientFor(scope)`, …). Without spokes: that single scope's own ports,
 * exactly as before; with spokes: every scope's, merged by `acrossScopes` (the hub first).
 */
export function fleetAcrossScopes<P extends Omit<ScopePart, 'scope'>>(
  make: (scope: AwsScope | undefined) => P,
  deployed: () => Topology | undefined = topologyFromEnv,
): P | (P & AcrossScopes) {
  const topology = deployed();
  if (!topology) return make(undefined);
  const parts = scopesOf(topology).map((scope) => ({ ...make(scope), scope }));
  return { ...(parts[0] as P), ...acrossScopes(parts) };
}
