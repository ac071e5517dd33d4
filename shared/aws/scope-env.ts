/**
 * The environment that tells a hub function where it may act (written by the hub's construct,
 * infra/constructs/spoke-hub.ts, only when spokes are configured; read by `topologyFromEnv`).
 * The hub's region is the function's own (AWS_REGION, set by Lambda).
 */
export const TOPOLOGY_ENV = {
  /** The hub's account id. */
  hubAccount: 'FLEETWARDEN_HUB_ACCOUNT',
  /** The spokes, `account:region` comma-separated ("222222222222:eu-west-1,222222222222:us-east-1"). */
  spokes: 'FLEETWARDEN_SPOKES',
  /** The fleet id: the spoke roles are `fleetwarden-spoke-<fleetId>` and `fleetwarden-trail-<fleetId>`. */
  fleetId: 'FLEETWARDEN_FLEET_ID',
  /** The partition of the role ARNs ("aws", "aws-cn", "aws-us-gov"). */
  partition: 'FLEETWARDEN_PARTITION',
} as const;

/** The role a hub function assumes in a spoke account for its remediations' calls there. */
export const spokeRoleName = (fleetId: string) => `fleetwarden-spoke-${fleetId}`;
/** The read-only role (cloudtrail:LookupEvents) audit-correlate assumes in a spoke account. */
export const trailRoleName = (fleetId: string) => `fleetwarden-trail-${fleetId}`;
/** The role Route 53 calls for a zone in another (network) account go through. */
export const dnsRoleName = (fleetId: string) => `fleetwarden-dns-${fleetId}`;
