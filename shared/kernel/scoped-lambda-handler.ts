import type { Context } from 'aws-lambda';
import type { AuditSink } from '../audit/port';
import { auditSinkInScope } from '../audit/scoped-sink';
import { type AwsScope, scopeKey, scopesOf, type Topology, topologyFromEnv } from '../aws/scope';
import { ConfigError } from '../core/errors';
import { type GateOf, ungatedGate, wiredOnce } from './lambda-handler';
import type { PortName, PortsOf } from './ports';
import type { Remediation } from './remediation';
import { portsFollowingScope } from './scope-following';
import { routeByScope } from './scope-routing';
import { readSettings, type SettingsOf, type SettingsSpec } from './settings';
import { wholeBatch } from './whole-batch';

export interface TopologyOption {
  /** The fleet's accounts and regions. @default the deployed one (`topologyFromEnv`; none without spokes) */
  topology?: () => Topology | undefined;
}

/** Ports for one scope: their audit sink fills the scope's account/region into every record. */
async function portsIn<S extends SettingsSpec, N extends PortName>(
  adapters: (settings: SettingsOf<S>, scope: AwsScope | undefined) => PortsOf<N> | Promise<PortsOf<N>>,
  settings: SettingsOf<S>,
  scope: AwsScope | undefined,
): Promise<PortsOf<N>> {
  const ports = await adapters(settings, scope);
  const audit = (ports as { audit?: AuditSink }).audit;
  return audit ? { ...ports, audit: auditSinkInScope(audit, scope) } : ports;
}

/** Every scope's ports (the hub's already built), as ports that follow the scope acted in. */
async function portsAcross<S extends SettingsSpec, N extends PortName>(
  adapters: (settings: SettingsOf<S>, scope: AwsScope | undefined) => PortsOf<N> | Promise<PortsOf<N>>,
  settings: SettingsOf<S>,
  topology: Topology,
  hub: PortsOf<N>,
): Promise<PortsOf<N>> {
  const built = new Map<string, PortsOf<N>>();
  for (const scope of scopesOf(topology))
    built.set(scopeKey(scope), scope === topology.hub ? hub : await portsIn(adapters, settings, scope));
  return portsFollowingScope(topology, (scope) => built.get(scopeKey(scope)) as PortsOf<N>);
}

/**
 * The Lambda handler of a hub function that acts in spokes, with the gate `gateOf` decides
 * (`scopedLambdaHandler` in remediation.ts says how events are routed to their scope).
 */
export function wireScopedLambdaHandler<S extends SettingsSpec, K extends string, N extends PortName, E, R>(
  definition: Remediation<S, K, N, E, R>,
  adapters: (settings: SettingsOf<S>, scope: AwsScope | undefined) => PortsOf<N> | Promise<PortsOf<N>>,
  gateOf: GateOf,
  options: TopologyOption,
): (event: E, context: Context) => Promise<R> {
  const wire = async () => {
    const settings = readSettings(definition.settings);
    const gate = await gateOf(definition);
    const topology = options.topology ? options.topology() : topologyFromEnv();
    // the topology: a remediation may look across scopes itself (dns-sync confirms an absence)
    const runtime = { now: () => new Date(), gate, ...(topology ? { topology } : {}) };
    const hub = await portsIn(adapters, settings, topology?.hub);
    const audit = (hub as { audit?: AuditSink }).audit;
    // the refusal of an unknown account is a decision: it needs a record
    if (!audit) throw new ConfigError(`${definition.name}: a scoped handler needs the audit port`);
    const whole = topology && definition.scopeBatches === 'whole';
    // one handler for every scope, its ports acting where each message's event belongs
    const across = whole
      ? definition.create(await portsAcross(adapters, settings, topology, hub), settings, runtime)
      : undefined;
    return routeByScope<E, R>({
      name: definition.name,
      topology,
      audit,
      mode: (settings as { dryRun?: boolean }).dryRun ? 'dry-run' : 'live',
      ...(whole ? { batches: wholeBatch } : {}),
      handlerFor: async (scope) =>
        across ??
        definition.create(
          scope === topology?.hub ? hub : await portsIn(adapters, settings, scope),
          settings,
          runtime,
        ),
    });
  };
  return wiredOnce(wire);
}

/**
 * `scopedLambdaHandler` for a remediation with no gated action: without the approval flow's
 * settings and wiring (`ungatedLambdaHandler`, lambda-handler.ts); a gated one is refused when wired.
 */
export function ungatedScopedLambdaHandler<
  S extends SettingsSpec,
  K extends string,
  N extends PortName,
  E,
  R,
>(
  definition: Remediation<S, K, N, E, R>,
  adapters: (settings: SettingsOf<S>, scope: AwsScope | undefined) => PortsOf<N> | Promise<PortsOf<N>>,
  options: TopologyOption = {},
): (event: E, context: Context) => Promise<R> {
  return wireScopedLambdaHandler(definition, adapters, ungatedGate, options);
}
