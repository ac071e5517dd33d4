import { ConfigError, FleetwardenError } from '../core/errors';
import { TOPOLOGY_ENV } from './scope-env';

/** A scope that is neither the hub nor a configured spoke: no role is assumed, no call is made. */
export class UnknownScopeError extends FleetwardenError {
  override readonly name: string = 'UnknownScopeError';
}

/** Where an AWS call is made: one account, one region. */
export interface AwsScope {
  account: string;
  region: string;
}

/**
 * The fleet's accounts and regions: the hub (where the functions, audit and approvals live) and the
 * spokes whose events it receives and whose resources it acts on through the spoke role.
 */
export interface Topology {
  hub: AwsScope;
  spokes: readonly AwsScope[];
  fleetId: string;
  partition: string;
}

/** Where an event may be acted on: the hub, one spoke (its own account and region only), or nowhere. */
export type ScopeVerdict =
  | { kind: 'hub'; scope: AwsScope | undefined }
  | { kind: 'spoke'; scope: AwsScope }
  | { kind: 'unknown'; account: unknown; region: unknown };

export const scopeKey = (s: AwsScope) => `${s.account}/${s.region}`;
export const sameScope = (a: AwsScope, b: AwsScope) => a.account === b.account && a.region === b.region;
/** Every scope of the fleet, the hub first. */
export const scopesOf = (t: Topology): AwsScope[] => [t.hub, ...t.spokes];

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * The account/region an event (or queue message body) claims: the top-level `account`/`region` of
 * an EventBridge event (EventBridge sets them; a spoke cannot claim another account), or those of
 * the lifecycle event a drain retry carries. Undefined when the body claims none.
 */
export function scopeHintOf(body: unknown): { account: unknown; region: unknown } | undefined {
  if (!isObject(body)) return undefined;
  if ('account' in body || 'region' in body) return { account: body.account, region: body.region };
  if (body.fleetwarden === 'drain-retry' && isObject(body.event)) return scopeHintOf(body.event);
  return undefined;
}

/**
 * The trust rule of a hub-and-spoke fleet: an event acts only in `{account: event.account, region:
 * event.region}`, and only when that is the hub or a configured spoke; anything else is refused
 * (audited `trust.unknown-account`, never acted on). A body that claims no account (the fleet's own
 * queue messages, a malformed body the handler will refuse itself) is the hub's. Without a topology
 * (no spokes deployed) every event is the single account's, as before.
 */
export function scopeOf(body: unknown, topology: Topology | undefined): ScopeVerdict {
  if (!topology) return { kind: 'hub', scope: undefined };
  const hint = scopeHintOf(body);
  if (!hint) return { kind: 'hub', scope: topology.hub };
  const { account, region } = hint;
  if (typeof account === 'string' && typeof region === 'string') {
    const claimed = { account, region };
    if (sameScope(claimed, topology.hub)) return { kind: 'hub', scope: topology.hub };
    const spoke = topology.spokes.find((s) => sameScope(s, claimed));
    if (spoke) return { kind: 'spoke', scope: spoke };
  }
  return { kind: 'unknown', account, region };
}

const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

function parseSpokes(text: string): AwsScope[] {
  return text
    .split(',')
    .filter(Boolean)
    .map((entry) => {
      const [account = '', region = ''] = entry.split(':');
      if (!ACCOUNT.test(account) || !REGION.test(region))
        throw new ConfigError(`${TOPOLOGY_ENV.spokes}: "${entry}" is not <12-digit account>:<region>`);
      return { account, region };
    });
}

/**
 * The topology a hub function was deployed with (TOPOLOGY_ENV); undefined when no spokes are
 * deployed. A half-written one is a ConfigError naming every missing variable.
 */
export function topologyFromEnv(env: Record<string, string | undefined> = process.env): Topology | undefined {
  const spokes = env[TOPOLOGY_ENV.spokes];
  if (!spokes) return undefined;
  const need = [TOPOLOGY_ENV.hubAccount, TOPOLOGY_ENV.fleetId, TOPOLOGY_ENV.partition, 'AWS_REGION'];
  const missing = need.filter((k) => !env[k]);
  if (missing.length > 0)
    throw new ConfigError(
      `${TOPOLOGY_ENV.spokes} is set but ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not`,
    );
  return {
    hub: { account: env[TOPOLOGY_ENV.hubAccount] as string, region: env.AWS_REGION as string },
    spokes: parseSpokes(spokes),
    fleetId: env[TOPOLOGY_ENV.fleetId] as string,
    partition: env[TOPOLOGY_ENV.partition] as string,
  };
}
