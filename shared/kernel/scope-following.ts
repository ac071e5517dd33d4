import { type AwsScope, scopeKey, scopesOf, type Topology } from '../aws/scope';
import { currentSpoke } from '../aws/scope-context';

/**
 * Ports across the topology that act where the caller acts: each method call goes to the port of
 * the scope acted in at that moment (`inSpoke`; the hub outside any spoke). Every scope's ports are
 * built once, here; they should connect lazily (a spoke's role is assumed on its first call). This
 * is how one handler serves a whole batch across scopes (`routeByScope` with `batches: wholeBatch`):
 * a message's reads and its audit record stay in its own scope, the batch-wide step (the hub's
 * zone) runs in the hub. A method is looked up when it is read: read it inside the scope that calls
 * it (`ports.inventory.describe(ids)` in `inSpoke`), not once outside and kept.
 */
export function portsFollowingScope<P extends object>(
  topology: Topology,
  portsFor: (scope: AwsScope) => P,
): P {
  const byScope = new Map(scopesOf(topology).map((s) => [scopeKey(s), portsFor(s)]));
  const here = (): P => byScope.get(scopeKey(currentSpoke() ?? topology.hub)) as P;
  const hub = byScope.get(scopeKey(topology.hub)) as P;
  return Object.fromEntries(
    Object.entries(hub).map(([name, port]) => [
      name,
      typeof port === 'object' && port !== null ? following(name, port, here) : port,
    ]),
  ) as P;
}

/** A port whose every property is read from the port of the same name in the current scope. */
function following<P extends object>(name: string, hubPort: object, here: () => P): object {
  return new Proxy(hubPort, {
    get: (_t, prop) => {
      const port = (here() as Record<string, object>)[name] as Record<PropertyKey, unknown>;
      const v = port[prop];
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(port) : v;
    },
  });
}
