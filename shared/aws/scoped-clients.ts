import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EC2Client } from '@aws-sdk/client-ec2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { traceSdkCalls } from '../observability/sdk-call-tracing';
import { instrumentClient } from './call-recorder';
import { defaultAutoScalingClient, defaultEc2Client } from './clients';
import {
  type AwsScope,
  sameScope,
  scopeKey,
  type Topology,
  topologyFromEnv,
  UnknownScopeError,
} from './scope';
import { spokeRoleName, trailRoleName } from './scope-env';

export { UnknownScopeError };

/** A provider of temporary credentials, as the SDK clients take it. */
export type AwsCredentialIdentityProvider = () => Promise<{
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}>;

/** Credentials of a role in another account (production: `fromTemporaryCredentials`). */
export type CredentialsFor = (p: {
  roleArn: string;
  roleSessionName: string;
  region: string;
}) => AwsCredentialIdentityProvider;

export interface ScopeAccess {
  /** @default the deployed topology (`topologyFromEnv`); none: every scope is the hub's */
  topology?: Topology | undefined;
  /** The role session name (CloudTrail shows it). @default AWS_LAMBDA_FUNCTION_NAME */
  functionName?: string;
  /** @default STS AssumeRole in the scope's region (`fromTemporaryCredentials`) */
  credentials?: CredentialsFor;
}

const assumeRole: CredentialsFor = ({ roleArn, roleSessionName, region }) =>
  fromTemporaryCredentials({
    params: { RoleArn: roleArn, RoleSessionName: roleSessionName },
    clientConfig: { region },
  });

let deployed: { topology: Topology | undefined } | undefined;
const clients = new Map<string, object>();

/** Forget every memoised spoke client and the deployed topology (tests). */
export function resetScopedClients(): void {
  clients.clear();
  deployed = undefined;
}

function topologyOf(access: ScopeAccess): Topology | undefined {
  if ('topology' in access) return access.topology;
  deployed ??= { topology: topologyFromEnv() };
  return deployed.topology;
}

/** True when calls in `scope` are the hub's own (no topology: the single account of today). */
export function isHubScope(scope: AwsScope | undefined, topology: Topology | undefined): boolean {
  return !scope || !topology || sameScope(scope, topology.hub);
}

type Role = 'spoke' | 'trail';

/**
 * One memoised, instrumented (call recorder; tracer if SDK-call tracing is on) client of `make` per spoke scope and role:
 * region = the scope's, credentials = the role `fleetwarden-<role>-<fleetId>` in the scope's
 * account, session name = the function's name (CloudTrail shows who acted).
 */
function spokeClient<C extends object>(
  service: string,
  role: Role,
  scope: AwsScope,
  access: ScopeAccess,
  make: (config: { region: string; credentials: AwsCredentialIdentityProvider }) => C,
): C {
  const topology = topologyOf(access) as Topology;
  if (!topology.spokes.some((s) => sameScope(s, scope)))
    throw new UnknownScopeError(`${scopeKey(scope)} is neither the hub nor a configured spoke`);
  const key = `${service}:${role}:${scopeKey(scope)}`;
  const known = clients.get(key);
  if (known) return known as C;
  const name = role === 'spoke' ? spokeRoleName(topology.fleetId) : trailRoleName(topology.fleetId);
  const credentials = (access.credentials ?? assumeRole)({
    roleArn: `arn:${topology.partition}:iam::${scope.account}:role/${name}`,
    roleSessionName: access.functionName ?? process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'fleetwarden',
    region: scope.region,
  });
  const client = traceSdkCalls(instrumentClient(make({ region: scope.region, credentials })));
  clients.set(key, client);
  return client;
}

const common = { maxAttempts: 4, retryMode: 'adaptive' } as const;

// One function per service (not one object of all), so a bundle carries only the clients its entry
// uses (bench/bundles.test.ts): an entry imports the getters it needs.

/** EC2 in `scope`: the default client in the hub, the spoke role's elsewhere. */
export function ec2ClientFor(scope: AwsScope | undefined, access: ScopeAccess = {}): EC2Client {
  if (isHubScope(scope, topologyOf(access))) return defaultEc2Client();
  return spokeClient('ec2', 'spoke', scope as AwsScope, access, (c) => new EC2Client({ ...common, ...c }));
}

/** Auto Scaling in `scope`: the default client in the hub, the spoke role's elsewhere. */
export function autoScalingClientFor(
  scope: AwsScope | undefined,
  access: ScopeAccess = {},
): AutoScalingClient {
  if (isHubScope(scope, topologyOf(access))) return defaultAutoScalingClient();
  return spokeClient(
    'autoscaling',
    'spoke',
    scope as AwsScope,
    access,
    (c) => new AutoScalingClient({ ...common, ...c }),
  );
}

/**
 * CloudTrail in a spoke, through its read-only trail role; one attempt per call (RateLimitedLookup
 * owns the retries and the 2 req/s). In the hub: undefined (the lookup adapter's own clients).
 */
export function trailClientFor(
  scope: AwsScope | undefined,
  access: ScopeAccess = {},
): CloudTrailClient | undefined {
  if (isHubScope(scope, topologyOf(access))) return undefined;
  return spokeClient(
    'cloudtrail',
    'trail',
    scope as AwsScope,
    access,
    (c) => new CloudTrailClient({ ...c, maxAttempts: 1 }),
  );
}

/**
 * The clients of one scope (design16 "Scope and clients"), memoised. Convenient in tests and tools;
 * a Lambda entry imports the per-service getters instead, so its bundle keeps only its clients.
 */
export function clientsFor(scope: AwsScope | undefined, access: ScopeAccess = {}) {
  return {
    scope,
    ec2: () => ec2ClientFor(scope, access),
    autoScaling: () => autoScalingClientFor(scope, access),
    cloudTrail: () => trailClientFor(scope, access),
  };
}
