/**
 * The multi-account scenario (issue 16, `--scenario multi-account`): a hub and spokes in 3 accounts
 * x 2 regions. Hosts launch and leave in every spoke scope, and each spoke's runner ASG scales a
 * runner in through the fleet's terminate hook there; their events reach the hub only through
 * the synthesized spoke stacks' forwarding rules; the hub's functions act in each event's own
 * account and region. Adversarial events arrive on the hub's bus as well: one from an account that
 * is no spoke, and one in which a spoke claims another spoke's running instance was terminated.
 *
 * Its invariants (every run; vacuous without spokes):
 * - every call a per-event function made was made in the account/region of an event it served;
 * - no call was made in a scope outside the topology;
 * - every record a per-event function wrote about an event is attributed to that event's scope;
 * - every event of an unknown account has its `trust.unknown-account` refusal record, and was not
 *   acted on;
 * At 12 min one web host is renamed (its name tag changes) in the hub and in every spoke scope.
 * The DNS invariants (report.ts) judge the spoke hosts with the hub's: a spoke host is a `web` host.
 * It runs with 3 zones (SIM_ZONES): a split horizon and a build zone that one host per scope is named in.
 */

import type { AuditRecord } from '../../shared/audit/schema';
import { type AwsScope, sameScope, scopeKey } from '../../shared/aws/scope';
import { stateChangeEvent } from '../../shared/dns/testing/state-change-event';
import { T0 } from './engine';
import { SIM_ACCOUNT } from './evidence';
import { ASG, OPERATOR, type TruthInstance } from './fleet-model';
import { inScope } from './forwarding';
import { type Invariant, invariant, rel } from './remediation-simulation';
import { scaleIn } from './scale-in';
import type { Engine } from './scenario';
import type { ScopedCall } from './scopes';
import { HUB, SCOPING, topologyOf } from './topology';

/** The simulated member accounts besides the hub's, and the two regions of every account. */
export const SPOKE_ACCOUNTS = ['210987654321', '345678901234'] as const;
export const REGIONS = ['eu-west-1', 'us-east-1'] as const;
/** An account that is no spoke: its events must be refused. */
export const UNKNOWN_ACCOUNT = '999999999999';

/**
 * The spokes the multi-account stack configures: the hub account's other region and both regions of
 * each member account (3 accounts x 2 regions, the hub's own scope being one of the six).
 */
export const SIM_SPOKES = [
  { account: SIM_ACCOUNT, regions: REGIONS.filter((r) => r !== HUB.region) },
  ...SPOKE_ACCOUNTS.map((account) => ({ account, regions: [...REGIONS] })),
];

/**
 * The scenario's 3 zones: a split horizon of fleet.example.internal (private first: it is the primary
 * zone, one-label names and the foreign records go there) and a private build.fleet.example.internal.
 */
export const SIM_ZONES = {
  private: { id: 'Z0SIMPRIVATE', name: 'fleet.example.internal', view: 'private' },
  public: { id: 'Z0SIMPUBLIC', name: 'fleet.example.internal', view: 'public' },
  build: { id: 'Z0SIMBUILD', name: 'build.fleet.example.internal', view: 'private' },
} as const;

/**
 * The fleet config the scenario adds (spokes need a fleet id: their roles are named after it). `zones`
 * replaces cdk.json's single-zone shorthand, which is unset for the run (setting both is a config error).
 */
export const MULTI_ACCOUNT_CONFIG = {
  spokes: SIM_SPOKES,
  fleetId: 'sim-fleet',
  zones: [SIM_ZONES.private, SIM_ZONES.public, SIM_ZONES.build],
  hostedZoneId: undefined,
  zoneName: undefined,
};

/** Every spoke scope of the scenario. */
export const spokeScopes = (): AwsScope[] =>
  SIM_SPOKES.flatMap((s) => s.regions.map((region) => ({ account: s.account, region })));

/** Hosts launched per spoke scope. */
const HOSTS_PER_SCOPE = 3;

/** A short, DNS-safe tag of a scope for host names: `a<last 4 digits>-<region initials+digit>`. */
const scopeTag = (s: AwsScope) =>
  `a${s.account.slice(-4)}-${s.region.replace(/^(\w)\w*-(\w)\w*-(\d)$/, '$1$2$3')}`;

/**
 * A host of a spoke scope, pending: its own inventory, its events raised in that account/region,
 * its launch in the trail as `launchedBy`'s RunInstances, named by its id unless `host` names it;
 * the `k`th address of the scope's block:
 * spoke addresses never collide with the hub's 10.0.x.y or each other's.
 */
function pendingIn(
  e: Engine,
  scope: AwsScope,
  n: number,
  k: number,
  host: Pick<TruthInstance, 'kind'> & Partial<TruthInstance>,
  launchedBy: string,
): TruthInstance {
  const id = `i-${(0x0b00000000 + n * 104_729 + k).toString(16).padStart(17, '0')}`;
  const t: TruthInstance = {
    id,
    ip: `10.${16 + n}.0.${k + 4}`,
    state: 'pending',
    jobRunning: false,
    neverRegisters: false,
    scope,
    ...host,
    name: host.name ?? id,
  };
  e.truth.set(id, t);
  e.world.evidence.change('RunInstances', launchedBy, id);
  e.put(t, 'pending');
  return t;
}

/** Launch a web host in a spoke scope. */
function launchIn(e: Engine, scope: AwsScope, n: number, k: number): TruthInstance {
  // the first host of each scope is a build host: its name routes to the build zone (longest suffix)
  const name =
    k === 0 ? `web-${scopeTag(scope)}-${k}.${SIM_ZONES.build.name}` : `web-${scopeTag(scope)}-${k}`;
  const t = pendingIn(e, scope, n, k, { kind: 'web', name }, OPERATOR);
  e.after(20_000 + Math.floor(e.rng() * 20_000), () => e.put(t, 'running'));
  return t;
}

/**
 * A runner in the spoke's own runner ASG (the fleet's group name and terminate hook, as in the hub):
 * it registers with the fleet's GitHub, takes jobs, and leaves through the spoke's Auto Scaling,
 * whose lifecycle events reach the hub only through the spoke's forwarding rules.
 */
function launchRunnerIn(e: Engine, scope: AwsScope, n: number): TruthInstance {
  const t = pendingIn(
    e,
    scope,
    n,
    HOSTS_PER_SCOPE,
    { kind: 'runner', asg: ASG },
    'autoscaling.amazonaws.com',
  );
  e.after(20_000 + Math.floor(e.rng() * 20_000), () => {
    e.put(t, 'running');
    e.after(40_000 + Math.floor(e.rng() * 40_000), () => e.registerRunner(t));
  });
  return t;
}

/** Events the adversarial part sends straight to the hub's bus, by event id. */
export interface ForgedEvent {
  id: string;
  kind: 'unknown-account' | 'cross-account';
  claimed: AwsScope;
  instanceId: string;
  at: number;
}

const forged = new WeakMap<Engine, ForgedEvent[]>();
export const forgedEvents = (e: Engine): ForgedEvent[] => forged.get(e) ?? [];

/**
 * At 15 min, an account that is no spoke sends a "terminated" for a running hub host; at 16 min a
 * spoke sends a "terminated" for a running host of ANOTHER spoke. Neither may change anything.
 */
function forge(e: Engine, hosts: TruthInstance[]): void {
  const list: ForgedEvent[] = [];
  forged.set(e, list);
  const send = (kind: ForgedEvent['kind'], claimed: AwsScope, victim: TruthInstance) => {
    const id = `forged-${kind}-${victim.id}`;
    list.push({ id, kind, claimed, instanceId: victim.id, at: e.clock.now });
    e.emit('default', inScope(stateChangeEvent(victim.id, 'terminated', e.clock.now, id), claimed));
  };
  e.at(T0 + 15 * 60_000, () => {
    const hubHost = [...e.truth.values()].find((t) => !t.scope && t.kind === 'web' && t.state === 'running');
    if (hubHost) send('unknown-account', { account: UNKNOWN_ACCOUNT, region: HUB.region }, hubHost);
  });
  e.at(T0 + 16 * 60_000, () => {
    const victim = hosts.find((t) => t.state === 'running' && t.scope?.account === SPOKE_ACCOUNTS[1]);
    if (victim) send('cross-account', { account: SPOKE_ACCOUNTS[0], region: REGIONS[0] }, victim);
  });
}

/**
 * The scenario's events: hosts and a runner in every spoke scope, one host of each scope leaving,
 * each spoke's runner scaled in by its own ASG, the forged events.
 */
export function scheduleMultiAccount(e: Engine): void {
  const hosts: TruthInstance[] = [];
  spokeScopes().forEach((scope, n) => {
    for (let k = 0; k < HOSTS_PER_SCOPE; k++)
      e.at(T0 + Math.floor(e.rng() * 8 * 60_000), () => hosts.push(launchIn(e, scope, n, k)));
    let runner: TruthInstance | undefined;
    e.at(T0 + Math.floor(e.rng() * 8 * 60_000), () => {
      runner = launchRunnerIn(e, scope, n);
    });
    // the spoke's ASG scales its runner in (a scale-in number of its own: 100 + the scope's)
    e.at(T0 + (22 + n) * 60_000, () => {
      if (runner?.state === 'running') scaleIn(e, runner, 100 + n);
    });
    // an operator terminates one host of each scope mid-run
    e.at(T0 + (20 + n) * 60_000, () => {
      const t = hosts.find((h) => h.scope === scope && h.state === 'running');
      if (!t) return;
      e.world.evidence.change('TerminateInstances', OPERATOR, t.id);
      e.terminateNow(t, 'other');
    });
  });
  renameInEveryScope(e, hosts);
  forge(e, hosts);
}

/**
 * At 12 min a web host's name tag changes in the hub and in every spoke scope at once (their tag
 * changes share dns-sync batches): each is renamed in its own scope, its tag change judged by the
 * instance it names (only by ARN, in `resources`).
 */
function renameInEveryScope(e: Engine, hosts: TruthInstance[]): void {
  e.at(T0 + 12 * 60_000, () => {
    const hub = [...e.truth.values()].filter((t) => !t.scope && t.kind === 'web');
    for (const scope of [undefined, ...spokeScopes()]) {
      const mine = scope ? hosts.filter((h) => h.scope && sameScope(h.scope, scope)) : hub;
      // a one-label name (a build host's is a full name in the build zone)
      const t = mine.find((h) => h.state === 'running' && !h.name.includes('.'));
      if (t) e.rename(t, `${t.name}-renamed`);
    }
  });
}

/** Whether the run's stack deploys spokes (the invariants below are vacuous otherwise). */
const deployed = (e: Engine) =>
  [...e.routing.functions.values()].map((f) => topologyOf(f.env)).find((t) => t !== undefined);

/**
 * Every call of a per-event function was made in the account/region of an event it served, and an
 * instance an event named is called about only in that event's scope (a batch across scopes too).
 * One read is allowed elsewhere (`looksElsewhere`): dns-sync describing, in the other scopes, an
 * instance it first looked for in its event's scope and that is not there (found elsewhere: the
 * claim is refused).
 */
function callsInTheirEventsScope(e: Engine): Invariant {
  const calls = e.world.scopes.calls.filter((c) => SCOPING[c.fn] === 'event');
  const details = calls.flatMap((c, k) => {
    if (looksElsewhere(e, calls, k)) return [];
    const claimed = e.world.scopes.claimed.get(c.invocation);
    const named = e.world.scopes.claimedIds.get(c.invocation);
    const what = `${c.fn} called ${c.operation}${c.ids.length ? ` (${c.ids.join(',')})` : ''} in ${c.scope}`;
    if (!claimed?.has(c.scope))
      return [`${what} while serving events of ${[...(claimed ?? [])].join(', ') || 'no account'}`];
    return c.ids.flatMap((id) => {
      const from = named?.get(id);
      return from && !from.has(c.scope)
        ? [`${what}, but the event naming ${id} came from ${[...from].join(', ')}`]
        : [];
    });
  });
  return invariant("every per-event call is made in its event's account and region", details, calls.length);
}

/** The scope an audit record is attributed to: its account/region, the hub's when it names none. */
const recordScope = (r: AuditRecord) =>
  r.account && r.region ? scopeKey({ account: r.account, region: r.region }) : scopeKey(HUB);

/**
 * Every audit record a per-event function wrote about an event of the hub or a spoke is attributed
 * to that event's account and region (a whole batch across scopes too: each message's record in its
 * own scope). An unknown account's events are judged by `unknownAccountsRefused`.
 */
function recordsInTheirEventsScope(e: Engine, records: AuditRecord[]): Invariant {
  const topology = deployed(e);
  const known = new Set([scopeKey(HUB), ...(topology?.spokes ?? []).map(scopeKey)]);
  const judged = records.flatMap((r) => {
    const from = [...(e.world.scopes.eventScopes.get(r.trigger.id) ?? [])].filter((s) => known.has(s));
    return SCOPING[r.function] === 'event' && from.length > 0 ? [{ r, from }] : [];
  });
  const details = judged
    .filter(({ r, from }) => !from.includes(recordScope(r)))
    .map(
      ({ r, from }) =>
        `${r.function}'s ${r.action} record ${r.recordId} (${r.decision}) about event ${r.trigger.id} of ${from.join(', ')} was written in ${recordScope(r)}`,
    );
  return invariant(
    "every per-event audit record is written in its event's account and region",
    details,
    judged.length,
  );
}

/**
 * dns-sync's DescribeInstances outside an event's scope, for instances its event's scope does not
 * have (the truth: they live elsewhere, or are gone), each described in that scope first in the
 * same invocation: the look that refuses one scope's claim about another scope's instance.
 */
function looksElsewhere(e: Engine, calls: readonly ScopedCall[], k: number): boolean {
  const c = calls[k] as ScopedCall;
  if (c.fn !== 'dns-sync' || c.operation !== 'EC2.describe' || c.ids.length === 0) return false;
  const named = e.world.scopes.claimedIds.get(c.invocation);
  return c.ids.every((id) => {
    const from = named?.get(id);
    if (!from) return false;
    if (from.has(c.scope)) return true;
    const t = e.truth.get(id);
    const notAtHome = !t || t.state === 'terminated' || !from.has(scopeKey(t.scope ?? HUB));
    const lookedAtHome = calls
      .slice(0, k)
      .some(
        (p) =>
          p.invocation === c.invocation &&
          p.operation === 'EC2.describe' &&
          from.has(p.scope) &&
          p.ids.includes(id),
      );
    return notAtHome && lookedAtHome;
  });
}

/** No call at all in a scope that is neither the hub nor a configured spoke. */
function callsInsideTopology(e: Engine): Invariant {
  const topology = deployed(e);
  const known = new Set([scopeKey(HUB), ...(topology?.spokes ?? []).map(scopeKey)]);
  const details = e.world.scopes.calls
    .filter((c) => !known.has(c.scope))
    .map((c) => `${c.fn} called ${c.operation} in ${c.scope}, outside the fleet's accounts`);
  return invariant('no call outside the hub and its spokes', details, e.world.scopes.calls.length);
}

/**
 * Every event of an unknown account was refused (`trust.unknown-account`) by each function it
 * reached, and no function wrote any other record about it (it was never handled).
 */
function unknownAccountsRefused(e: Engine, records: AuditRecord[]): Invariant {
  const events = forgedEvents(e).filter((f) => f.kind === 'unknown-account');
  const details = events.flatMap((f) => {
    const mine = records.filter((r) => r.trigger.id === f.id);
    const refused = mine.some((r) => r.action === 'trust.unknown-account' && r.decision === 'refused');
    const handled = mine.filter((r) => r.action !== 'trust.unknown-account');
    return [
      ...(refused
        ? []
        : [`${f.id} (account ${f.claimed.account}, ${rel(f.at)}) has no trust.unknown-account refusal`]),
      ...handled.map((r) => `${f.id} was handled by ${r.function}: ${r.action} ${r.decision} (${r.reason})`),
    ];
  });
  return invariant('every event of an unknown account is refused, never acted on', details, events.length);
}

/** A spoke's claim about another spoke's instance is never acted on. */
function crossAccountClaimsIgnored(e: Engine, records: AuditRecord[]): Invariant {
  const events = forgedEvents(e).filter((f) => f.kind === 'cross-account');
  const details = events.flatMap((f) =>
    records
      .filter((r) => r.trigger.id === f.id && r.decision === 'acted')
      .map((r) => `${f.id} (claimed by ${scopeKey(f.claimed)}) was acted on: ${r.action} ${r.recordId}`),
  );
  return invariant("no spoke's claim about another spoke's instance is acted on", details, events.length);
}

/** The invariants of a hub with spokes (vacuous, and not listed, without spokes). */
export function multiAccountInvariants(e: Engine, records: AuditRecord[]): Invariant[] {
  if (!deployed(e)) return [];
  return [
    callsInTheirEventsScope(e),
    callsInsideTopology(e),
    recordsInTheirEventsScope(e, records),
    unknownAccountsRefused(e, records),
    crossAccountClaimsIgnored(e, records),
  ];
}
