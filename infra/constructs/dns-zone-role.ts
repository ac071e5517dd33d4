import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { normalizeName } from '../../shared/dns/names';
import { dnsRoleName, route53ChangeGrant, writtenZone } from '../../shared/dns/settings';
import { refuseInvalidProps } from './props-validation';

/** A zone of this account that the hub's DNS functions write. */
export interface FleetwardenDnsRoleZone {
  /** Route 53 hosted zone id (`Z…`). */
  readonly id: string;
  /** The zone's DNS name (`*.in-addr.arpa`: a reverse zone, PTR records). */
  readonly name: string;
}

export interface FleetwardenDnsRoleProps {
  /** The fleet's id (the hub's `fleetId`): the role is `fleetwarden-dns-<fleetId>`. */
  readonly fleetId: string;
  /** The account of the hub deployment whose DNS functions assume this role. */
  readonly hubAccount: string;
  /** The zones of this account the fleet writes (the hub's `zones` entries with this `account`). */
  readonly zones: readonly FleetwardenDnsRoleZone[];
  /**
   * The hub roles allowed to assume it (ARNs or ARN patterns in `hubAccount`).
   * @default - the hub's dns-sync and dns-reconcile function roles (`*DnsSyncFunction*`, `*DnsReconcileFunction*`)
   */
  readonly trustedRoleArns?: readonly string[];
}

const ZONE_ID = /^Z[A-Z0-9]{1,32}$/;
const ACCOUNT = /^\d{12}$/;

function problemsOf(p: FleetwardenDnsRoleProps): string[] {
  const problems: string[] = [];
  if (!Token.isUnresolved(p.hubAccount) && !ACCOUNT.test(p.hubAccount)) {
    problems.push(`hubAccount must be a 12-digit account id, got "${p.hubAccount}"`);
  }
  if (p.zones.length === 0) problems.push('zones must name at least one zone');
  for (const z of p.zones) {
    if (!Token.isUnresolved(z.id) && !ZONE_ID.test(z.id)) {
      problems.push(`zones: ${JSON.stringify(z.id)} must look like a Route 53 zone id`);
    }
  }
  return problems;
}

/**
 * The role a network account deploys when it holds zones of a fleet whose functions run in another
 * (hub) account (issue 16): `fleetwarden-dns-<fleetId>`, trusted only by the hub's DNS function
 * roles, allowed exactly what those functions do in these zones: ChangeResourceRecordSets limited
 * to names inside each zone, its record types (A/TXT, PTR/TXT in a reverse zone) and CREATE/DELETE
 * (the conditions the hub grants for its own zones), and ListResourceRecordSets. Nothing else.
 */
export class FleetwardenDnsRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: FleetwardenDnsRoleProps) {
    refuseInvalidProps('FleetwardenDnsRole', scope, id, problemsOf(props));
    super(scope, id);
    const hub = props.hubAccount;
    const trusted = props.trustedRoleArns ?? [
      `arn:*:iam::${hub}:role/*DnsSyncFunction*`,
      `arn:*:iam::${hub}:role/*DnsReconcileFunction*`,
    ];
    this.role = new iam.Role(this, 'Role', {
      roleName: dnsRoleName(props.fleetId),
      description: `fleetwarden ${props.fleetId}: the hub's DNS functions write these Route 53 zones`,
      assumedBy: new iam.AccountPrincipal(hub).withConditions({
        ArnLike: { 'aws:PrincipalArn': [...trusted] },
      }),
    });
    const partition = Stack.of(this).partition;
    const arn = (zoneId: string) => `arn:${partition}:route53:::hostedzone/${zoneId}`;
    for (const z of props.zones) {
      const name = normalizeName(z.name);
      const grant = route53ChangeGrant(
        writtenZone({
          id: z.id,
          name,
          reverse: /(^|\.)in-addr\.arpa\.$/.test(name),
          view: 'private',
          explicitView: false,
        }),
      );
      this.role.addToPolicy(
        new iam.PolicyStatement({
          actions: [...grant.actions],
          resources: [arn(z.id)],
          conditions: grant.conditions as Record<string, Record<string, unknown>>,
        }),
      );
    }
    this.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['route53:ListResourceRecordSets'],
        resources: props.zones.map((z) => arn(z.id)),
      }),
    );
  }
}
