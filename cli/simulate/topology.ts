/**
 * The simulated topology's constants, apart from scopes.ts (which wires handlers through the kernel)
 * so that scenario modules loaded with the CLI (approvals.ts, multi-account.ts) stay light: nothing
 * here may load the handlers' Powertools logger before `simulate` silences it.
 */
import { type AwsScope, type Topology, topologyFromEnv } from '../../shared/aws/scope';
import { HOME_REGION, SIM_ACCOUNT } from './evidence';

/** The hub of every simulated run: the synthesized stack's account and region. */
export const HUB: AwsScope = { account: SIM_ACCOUNT, region: HOME_REGION };

/**
 * How each hub function's entry wires its ports across scopes (functions/<name>/index.ts):
 * `event`, `scopedLambdaHandler` (ports per event scope); `fleet`, `fleetAcrossScopes` (one
 * fleet-wide view); absent: hub-only ports. cli/simulate/topology.test.ts keeps this equal to the entries.
 */
export const SCOPING: Readonly<Record<string, 'event' | 'fleet'>> = {
  'dns-sync': 'event',
  'orphaned-volumes': 'event',
  'runner-drain': 'event',
  'dns-reconcile': 'fleet',
  'runner-sweep': 'fleet',
  'runner-job-watch': 'fleet',
};

/** The topology the synthesized environment deploys (none without spokes). */
export function topologyOf(env: Record<string, string>): Topology | undefined {
  return topologyFromEnv({ AWS_REGION: HOME_REGION, ...env });
}
