/**
 * The simulated fleet across accounts and regions (issue 16, hub and spokes): each spoke scope has
 * its own EC2 and Auto Scaling (an instance of one account is unknown to every other), the hub's
 * is the World's own. A hub function is wired the way its entry wires it (`SCOPING`): per event
 * (`routeByScope`: each event acts in its own account/region only, an unknown one is refused) or
 * fleet-wide (`acrossScopes`: the union of every scope's listings). Every call a handler makes to
 * a scope's ports is journaled with that scope, so the invariants can tell where it acted.
 */

import { auditSinkInScope } from '../../shared/audit/scoped-sink';
import { InMemoryLifecycleActions } from '../../shared/autoscaling/in-memory-lifecycle-actions';
import type { InstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import { InMemoryInstanceLifecycle } from '../../shared/autoscaling/instance-lifecycle';
import type { LifecycleActions } from '../../shared/autoscaling/port';
import type { WarmPool } from '../../shared/autoscaling/warm-pool';
import { InMemoryWarmPool } from '../../shared/autoscaling/warm-pool';
import { acrossScopes } from '../../shared/aws/across-scopes';
import {
  type AwsScope,
  sameScope,
  scopeHintOf,
  scopeKey,
  scopesOf,
  type Topology,
} from '../../shared/aws/scope';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import type { InstanceTerminator } from '../../shared/ec2/instance-terminator';
import { InMemoryInstanceTerminator } from '../../shared/ec2/instance-terminator';
import type { InstanceInventory } from '../../shared/ec2/port';
import { InMemoryVolumes } from '../../shared/ec2/testing/in-memory-volumes';
import type { ApprovalGate } from '../../shared/kernel/approval';
import type { AnyRemediation, Handler } from '../../shared/kernel/remediation';
import { portsFollowingScope } from '../../shared/kernel/scope-following';
import { routeByScope } from '../../shared/kernel/scope-routing';
import { readSettings } from '../../shared/kernel/settings';
import { wholeBatch } from '../../shared/kernel/whole-batch';
import { HOME_REGION } from './evidence';
import { HUB, SCOPING } from './topology';

export { HUB, SCOPING, topologyOf } from './topology';

import { FLEET_TAG } from './fleet-model';
import type { Invoke, World } from './world';

/** One account/region's own EC2 and Auto Scaling, as the simulator holds them. */
export interface ScopeParts {
  scope: AwsScope;
  inventory: InMemoryInstanceInventory;
  terminator: InMemoryInstanceTerminator;
  instanceLifecycle: InMemoryInstanceLifecycle;
  warmPool: InMemoryWarmPool;
  lifecycleActions: InMemoryLifecycleActions;
  volumes: InMemoryVolumes;
}

/** A call a handler made to one scope's ports. */
export interface ScopedCall {
  fn: string;
  invocation: number;
  scope: string;
  operation: string;
  ids: string[];
}

/** Where the scoped ports of the simulated fleet live, and what was called in each. */
export class SimScopes {
  private readonly spokes = new Map<string, ScopeParts>();
  /** Every call made to a scope's ports, in order. */
  readonly calls: ScopedCall[] = [];
  /** By invocation: the scopes the events it served claimed (the per-event functions' inputs). */
  readonly claimed = new Map<number, Set<string>>();
  /** By invocation: per instance id an event names, the scopes of the events that named it. */
  readonly claimedIds = new Map<number, Map<string, Set<string>>>();
  /** By event id: the scopes the event claimed (every delivery of it, in any invocation). */
  readonly eventScopes = new Map<string, Set<string>>();

  constructor(private readonly w: World) {}

  /** The parts of a scope: the World's own for the hub (or no scope), a spoke's own otherwise. */
  parts(scope: AwsScope | undefined): ScopeParts {
    const w = this.w;
    if (!scope || sameScope(scope, HUB))
      return {
        scope: HUB,
        inventory: w.inventory,
        terminator: w.terminator,
        instanceLifecycle: w.instanceLifecycle,
        warmPool: w.warmPool,
        lifecycleActions: w.lifecycleActions,
        volumes: w.volumes,
      };
    const key = scopeKey(scope);
    let parts = this.spokes.get(key);
    if (!parts) {
      const now = () => w.clock.now;
      const inventory = new InMemoryInstanceInventory({ now, lagMs: 2_000 });
      parts = {
        scope,
        inventory,
        // the spoke role's tag condition on TerminateInstances, as in the hub
        terminator: new InMemoryInstanceTerminator(inventory, { requireTag: FLEET_TAG }),
        instanceLifecycle: new InMemoryInstanceLifecycle(),
        warmPool: new InMemoryWarmPool(),
        lifecycleActions: new InMemoryLifecycleActions(now),
        volumes: new InMemoryVolumes({ now, lagMs: 2_000, snapshotMs: 10 * 60_000, requireTag: FLEET_TAG }),
      };
      this.spokes.set(key, parts);
    }
    return parts;
  }

  private note(scope: AwsScope, operation: string, ids: readonly string[]): void {
    this.calls.push({
      fn: this.w.currentFunction,
      invocation: this.w.journal.invocation,
      scope: scopeKey(scope),
      operation,
      ids: [...ids],
    });
  }

  /** A scope's ports as a handler gets them: each call journaled with the scope it was made in. */
  recorded(scope: AwsScope | undefined): {
    inventory: InstanceInventory;
    terminator: InstanceTerminator;
    instanceLifecycle: InstanceLifecycle;
    warmPool: WarmPool;
    lifecycleActions: LifecycleActions;
    volumes: InMemoryVolumes;
  } {
    const p = this.parts(scope);
    return {
      inventory: this.port(p.scope, 'EC2', p.inventory),
      terminator: this.port(p.scope, 'EC2', p.terminator),
      instanceLifecycle: this.port(p.scope, 'AutoScaling', p.instanceLifecycle),
      warmPool: this.port(p.scope, 'AutoScaling', p.warmPool),
      lifecycleActions: this.port(p.scope, 'AutoScaling', p.lifecycleActions),
      volumes: this.port(p.scope, 'EC2', p.volumes),
    };
  }

  /** The port with every method call noted (`<service>.<method>`, the ids it names) before it runs. */
  private port<T extends object>(scope: AwsScope, service: string, target: T): T {
    return new Proxy(target, {
      get: (t, prop, receiver) => {
        const v = Reflect.get(t, prop, receiver);
        if (typeof v !== 'function') return v;
        return (...args: unknown[]) => {
          this.note(scope, `${service}.${String(prop)}`, idsIn(args[0]));
          return (v as (...a: unknown[]) => unknown).apply(t, args);
        };
      },
    });
  }

  /** Remember which scopes the event of the running invocation claims (SQS: each record's body). */
  claim(event: unknown, topology?: Topology): void {
    const bodies =
      event && typeof event === 'object' && Array.isArray((event as { Records?: unknown }).Records)
        ? ((event as { Records: Array<{ body?: string }> }).Records.map((r) => parse(r.body)) as unknown[])
        : [event];
    const set = this.claimed.get(this.w.journal.invocation) ?? new Set<string>();
    // a schedule tick runs in every scope of the topology (routeByScope), by design
    if (isSchedule(event)) for (const s of topology ? scopesOf(topology) : [HUB]) set.add(scopeKey(s));
    const ids = this.claimedIds.get(this.w.journal.invocation) ?? new Map<string, Set<string>>();
    for (const b of isSchedule(event) ? [] : bodies) {
      const hint = scopeHintOf(b);
      const key =
        hint && typeof hint.account === 'string' && typeof hint.region === 'string'
          ? scopeKey({ account: hint.account, region: hint.region })
          : scopeKey(HUB);
      set.add(key);
      const eventId = eventIdOf(b);
      if (eventId) this.eventScopes.set(eventId, (this.eventScopes.get(eventId) ?? new Set()).add(key));
      const id = instanceIdOf(b);
      if (id) ids.set(id, (ids.get(id) ?? new Set<string>()).add(key));
    }
    this.claimed.set(this.w.journal.invocation, set);
    this.claimedIds.set(this.w.journal.invocation, ids);
  }
}

/** An EC2 instance's ARN: `arn:<partition>:ec2:<region>:<account>:instance/<id>`. */
const INSTANCE_ARN = /^arn:[\w-]+:ec2:[\w-]*:\d{12}:instance\/(i-[0-9a-f]+)$/;

/**
 * The instance an event names, if any: a state change's `detail.instance-id`, a lifecycle action's
 * `detail.EC2InstanceId`, or (a "Tag Change on Resource", which has neither) the instance ARN in
 * its `resources`.
 */
export function instanceIdOf(body: unknown): string | undefined {
  const b = body as { detail?: Record<string, unknown>; resources?: unknown } | undefined;
  const id = b?.detail?.['instance-id'] ?? b?.detail?.EC2InstanceId;
  if (typeof id === 'string') return id;
  const resources = Array.isArray(b?.resources) ? (b.resources as unknown[]) : [];
  for (const r of resources) {
    const m = typeof r === 'string' ? INSTANCE_ARN.exec(r) : null;
    if (m) return m[1];
  }
  return undefined;
}

/** The id of the event a body carries (a drain retry carries its lifecycle event). */
function eventIdOf(body: unknown): string | undefined {
  const b = body as { id?: unknown; event?: { id?: unknown } } | undefined;
  const id = b?.id ?? b?.event?.id;
  return typeof id === 'string' ? id : undefined;
}

/** The instance ids a call names: a list of ids, or a lifecycle action's instance. */
function idsIn(arg: unknown): string[] {
  if (Array.isArray(arg)) return arg.filter((x): x is string => typeof x === 'string' && x.startsWith('i-'));
  const id = (arg as { instanceId?: unknown } | undefined)?.instanceId;
  return typeof id === 'string' ? [id] : [];
}

const isSchedule = (e: unknown) =>
  typeof e === 'object' &&
  e !== null &&
  (e as { 'detail-type'?: unknown })['detail-type'] === 'Scheduled Event';

function parse(body: string | undefined): unknown {
  try {
    return JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
}

const SCOPED_PORTS = [
  'inventory',
  'terminator',
  'instanceLifecycle',
  'warmPool',
  'lifecycleActions',
  'volumes',
];

/** The ports a definition names, its scope-bound ones from `scoped`, the others the hub's. */
function portsWith(
  definition: AnyRemediation,
  all: Record<string, unknown>,
  scoped: Record<string, unknown>,
): Record<string, unknown> {
  return Object.fromEntries(
    definition.ports.map((name: string) => [name, SCOPED_PORTS.includes(name) ? scoped[name] : all[name]]),
  );
}

/**
 * A hub function wired across the topology as its entry wires it (`SCOPING`): per event scope
 * through the kernel's own `routeByScope`, fleet-wide through `acrossScopes`; hub-only otherwise.
 */
export function wireAcrossScopes(
  definition: AnyRemediation,
  w: World,
  env: Record<string, string>,
  topology: Topology,
  gate: ApprovalGate,
  mode: 'event' | 'fleet' | undefined = SCOPING[definition.name],
): Invoke {
  const settings = readSettings(definition.settings, { AWS_REGION: HOME_REGION, ...env });
  // each runner pool's sweep reads and spends its own state table (as fromDefinition wires it)
  const all = { ...w.ports, sweepState: w.sweepStateOf(settings.sweepStateTable) } as Record<string, unknown>;
  const runtime = { now: () => w.now, gate, topology };
  if (mode === 'fleet') {
    const parts = scopesOf(topology).map((scope) => ({ scope, ...w.scopes.recorded(scope) }));
    const fleet = { ...(parts[0] as (typeof parts)[number]), ...acrossScopes(parts) };
    return definition.create(portsWith(definition, all, fleet), settings, runtime) as Invoke;
  }
  if (mode !== 'event')
    return definition.create(portsWith(definition, all, w.scopes.recorded(HUB)), settings, runtime) as Invoke;
  const ports = (scope: AwsScope | undefined) => {
    const p = portsWith(definition, all, w.scopes.recorded(scope));
    return 'audit' in p ? { ...p, audit: auditSinkInScope(w.audit, scope) } : p;
  };
  const create = (p: Record<string, unknown>) =>
    definition.create(p, settings, runtime) as Handler<unknown, unknown>;
  // one handler per queue batch across scopes when the definition asks (its ports follow each message)
  const whole =
    definition.scopeBatches === 'whole' ? create(portsFollowingScope(topology, ports)) : undefined;
  const routed = routeByScope<unknown, unknown>({
    name: definition.name,
    topology,
    audit: w.audit,
    mode: (settings as { dryRun?: boolean }).dryRun ? 'dry-run' : 'live',
    now: () => w.now,
    ...(whole ? { batches: wholeBatch } : {}),
    handlerFor: (scope) => whole ?? create(ports(scope)),
  });
  return (event, context) => routed(event, context) as Promise<unknown>;
}
