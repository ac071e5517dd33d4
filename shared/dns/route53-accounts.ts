import { Route53Client } from '@aws-sdk/client-route-53';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { instrumentClient } from '../aws/call-recorder';
import { traceSdkCalls } from '../observability/sdk-call-tracing';
import type { Route53Port } from './port';
import { Route53ZoneAdapter } from './route53-zone-adapter';
import { type DnsSettings, dnsRoleArnOf, zoneSetOfSettings } from './settings';
import type { ZoneSet } from './zone-set';

/**
 * Zones in another (network) account (issue 16): their Route 53 calls go through the fleet's DNS
 * role there (`fleetwarden-dns-<fleetId>`, FleetwardenDnsRole). The port stays the same: a
 * zone -> port map in the wiring, one port (and one memoised client) per account.
 */

/** The AWS partition of a region (the DNS role's ARN is in the function's own partition). */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

const clients = new Map<string, Route53Client>();

/**
 * One Route 53 client per assumed role for the process (warm invocations reuse it): one attempt
 * per call (the domain's backoff owns the retries, as for the default client), instrumented for
 * the audit trail, credentials from STS AssumeRole (refreshed before they expire).
 */
export function route53ClientFor(roleArn: string, sessionName: string): Route53Client {
  let client = clients.get(roleArn);
  if (!client) {
    const credentials = fromTemporaryCredentials({
      params: { RoleArn: roleArn, RoleSessionName: sessionName.slice(0, 64) },
    });
    client = traceSdkCalls(instrumentClient(new Route53Client({ maxAttempts: 1, credentials })));
    clients.set(roleArn, client);
  }
  return client;
}

/** Each zone's calls to the port of its account. */
class ZoneRoutedRoute53 implements Route53Port {
  constructor(private readonly portOf: (zoneId: string) => Route53Port) {}

  listRecordSets(zoneId: string) {
    return this.portOf(zoneId).listRecordSets(zoneId);
  }

  listPage(...args: Parameters<Route53Port['listPage']>) {
    return this.portOf(args[0]).listPage(...args);
  }

  changeRecordSets(...args: Parameters<Route53Port['changeRecordSets']>) {
    return this.portOf(args[0]).changeRecordSets(...args);
  }
}

export interface PortMakers {
  /** The port of this account's zones. */
  local: () => Route53Port;
  /** The port of a DNS role's account (called once per role). */
  remote: (roleArn: string) => Route53Port;
  /** @default the partition of AWS_REGION */
  partition?: string;
}

/**
 * The Route 53 port of a zone set: the local port alone when every zone is local, else a port that
 * routes each zone's calls to its account's port (made once per account).
 */
export function zoneRoutedRoute53(
  zones: ZoneSet,
  roleName: string | undefined,
  make: PortMakers,
): Route53Port {
  if (!zones.zones.some((z) => z.account)) return make.local();
  const partition = make.partition ?? partitionOf(process.env.AWS_REGION);
  const ports = new Map<string, Route53Port>();
  const local = make.local();
  return new ZoneRoutedRoute53((zoneId) => {
    const zone = zones.byId(zoneId);
    if (!zone?.account) return local;
    const arn = dnsRoleArnOf(zone, roleName, partition);
    let port = ports.get(arn);
    if (!port) {
      port = make.remote(arn);
      ports.set(arn, port);
    }
    return port;
  });
}

/**
 * The Lambda wiring of a DNS function's Route 53 port: the SDK adapter with the default client for
 * this account's zones, and one with the DNS role's client per other account.
 */
export function route53PortOf(
  settings: DnsSettings,
  sessionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'fleetwarden-dns',
): Route53Port {
  return zoneRoutedRoute53(zoneSetOfSettings(settings), settings.dnsRoleName, {
    local: () => new Route53ZoneAdapter(),
    remote: (arn) => new Route53ZoneAdapter(route53ClientFor(arn, sessionName)),
  });
}
