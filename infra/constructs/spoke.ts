import {
  Aws,
  BootstraplessSynthesizer,
  Duration,
  Fn,
  Stack,
  type StackProps,
  Token,
  Validations,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { spokeRoleName, trailRoleName } from '../../shared/aws/scope-env';
import type { IamGrant } from '../../shared/kernel/definition';
import { EVENT_DELIVERY } from './rule-targets';
import { type DeployedRemediation, spokeForwardPatterns, spokeGrants } from './spoke-permissions';

export interface FleetwardenSpokeProps {
  /** The hub's account: its fleet function roles assume the spoke role; its default bus gets the events. */
  readonly hubAccount: string;
  /** The hub's region (its default bus). */
  readonly hubRegion: string;
  /** The fleet id: the roles are `fleetwarden-spoke-<fleetId>` and `fleetwarden-trail-<fleetId>`. */
  readonly fleetId: string;
  /**
   * Name prefix of the hub's fleet function roles (CloudFormation names them `<hub stack name>-…`):
   * only roles of the hub account whose name starts with it may assume the spoke role.
   * @default 'Fleetwarden-'
   */
  readonly hubRolePrefix?: string;
  /** What the hub deploys (definitions and settings): the role's grants and the forwarded patterns. */
  readonly remediations: readonly DeployedRemediation[];
  /**
   * Regions of this account the spoke role acts in (its statements' resource ARNs).
   * @default the stack's region
   */
  readonly regions?: readonly string[];
  /**
   * Create the account-wide roles (IAM is global: one region's stack per account creates them).
   * @default true
   */
  readonly roles?: boolean;
}

/** A forwarding target: the hub's default bus, with a role, a retry policy and a DLQ. */
class HubBusTarget implements events.IRuleTarget {
  constructor(
    private readonly busArn: string,
    private readonly role: iam.IRole,
    private readonly deadLetterQueue: sqs.IQueue,
  ) {}
  bind(rule: events.IRule): events.RuleTargetConfig {
    targets.addToDeadLetterQueueResourcePolicy(rule, this.deadLetterQueue);
    return {
      ...targets.bindBaseTargetConfig({ deadLetterQueue: this.deadLetterQueue, ...EVENT_DELIVERY }),
      arn: this.busArn,
      role: this.role,
    };
  }
}

/**
 * A member account's part of a hub-and-spoke fleet (README "Hub and spokes"), for one region:
 * rules forwarding the fleet's events (the deployed definitions' own default-bus patterns) to the
 * hub's default bus; and, once per account (`roles`), the spoke role the hub's fleet functions
 * assume for exactly their remediations' EC2/Auto Scaling calls (the definitions' statements, same
 * tag and group conditions) and the read-only trail role (cloudtrail:LookupEvents). No assets, no
 * lookups: deployable with StackSets.
 */
export class FleetwardenSpoke extends Construct {
  readonly rules: events.Rule[] = [];
  readonly spokeRole?: iam.Role;
  readonly trailRole?: iam.Role;

  constructor(scope: Construct, id: string, props: FleetwardenSpokeProps) {
    super(scope, id);
    this.addForwarding(props);
    if (props.roles === false) return;
    const hubRoles = `arn:${Aws.PARTITION}:iam::${props.hubAccount}:role/${props.hubRolePrefix ?? 'Fleetwarden-'}*`;
    const trustedBy = () =>
      new iam.AccountPrincipal(props.hubAccount).withConditions({
        ArnLike: { 'aws:PrincipalArn': hubRoles },
      });
    this.spokeRole = new iam.Role(this, 'SpokeRole', {
      roleName: spokeRoleName(props.fleetId),
      description: 'fleetwarden: what the hub fleet functions do in this account (their remediations only)',
      assumedBy: trustedBy(),
      maxSessionDuration: Duration.hours(1),
    });
    const grants = spokeGrants(props.remediations);
    for (const g of grants)
      this.spokeRole.addToPolicy(statement(g, props.regions ?? [Stack.of(this).region]));
    acknowledgeWildcards(this.spokeRole, grants, props.regions ?? [Stack.of(this).region]);
    this.trailRole = new iam.Role(this, 'TrailRole', {
      roleName: trailRoleName(props.fleetId),
      description: 'fleetwarden: read-only CloudTrail lookups by the hub (audit correlation)',
      assumedBy: trustedBy(),
      maxSessionDuration: Duration.hours(1),
    });
    this.trailRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['cloudtrail:LookupEvents'], resources: ['*'] }),
    );
    Validations.of(this.trailRole).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudtrail:LookupEvents supports no resource-level permission; it is read-only.',
    });
  }

  private addForwarding(props: FleetwardenSpokeProps): void {
    const busArn = `arn:${Aws.PARTITION}:events:${props.hubRegion}:${props.hubAccount}:event-bus/default`;
    const dlq = new sqs.Queue(this, 'ForwardDeadLetter', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(dlq).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        "This is the dead-letter queue of the rules forwarding the fleet's events to the hub; a DLQ has no DLQ of its own.",
    });
    const role = new iam.Role(this, 'ForwardRole', {
      description: "fleetwarden: EventBridge puts the fleet's events on the hub's default bus",
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com'),
    });
    role.addToPolicy(new iam.PolicyStatement({ actions: ['events:PutEvents'], resources: [busArn] }));
    for (const { id, pattern } of spokeForwardPatterns(props.remediations)) {
      const rule = new events.Rule(this, `Forward${id}`, {
        description: `fleetwarden spoke: ${id} to the hub`,
        eventPattern: {
          ...(pattern.source ? { source: [...pattern.source] } : {}),
          ...(pattern.detailType ? { detailType: [...pattern.detailType] } : {}),
          ...(pattern.detail ? { detail: { ...pattern.detail } } : {}),
        },
      });
      rule.addTarget(new HubBusTarget(busArn, role, dlq));
      this.rules.push(rule);
    }
  }
}

/** A declared statement for the spoke role: pseudo parameters resolved, the region per configured region. */
function statement(g: IamGrant, regions: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: [...g.actions],
    resources: resourcesIn(g.resources, regions),
    ...(g.conditions ? { conditions: g.conditions as Record<string, Record<string, unknown>> } : {}),
  });
}

const REGION = '$' + '{AWS::Region}';
const inRegions = (resources: readonly string[], regions: readonly string[]) => [
  ...new Set(
    resources.flatMap((r) =>
      r.includes(REGION) ? regions.map((region) => r.replaceAll(REGION, region)) : [r],
    ),
  ),
];

function resourcesIn(resources: readonly string[], regions: readonly string[]): string[] {
  return inRegions(resources, regions).map((r) =>
    r.includes('${AWS::') && !Token.isUnresolved(r) ? Fn.sub(r) : r,
  );
}

/**
 * cdk-nag's IAM5 flags ARN wildcards: a statement scoped by a condition, or by the group's name
 * (the group id is the wildcard), or a read-only call with no resource-level permission ("*")
 * is acknowledged on the role, with the actions and the scope as the reason.
 */
function acknowledgeWildcards(role: iam.Role, grants: readonly IamGrant[], regions: readonly string[]): void {
  const reasons = new Map<string, string[]>();
  for (const g of grants) {
    for (const raw of inRegions(g.resources, regions)) {
      if (!raw.includes('*')) continue;
      const id = `AwsSolutions-IAM5[Resource::${raw.replace(/\$\{([^}]+)\}/g, '<$1>')}]`;
      const why = `${g.actions.join(', ')}${g.conditions ? ` only where ${JSON.stringify(g.conditions)}` : ''}`;
      reasons.set(id, [...(reasons.get(id) ?? []), why]);
    }
  }
  for (const [id, why] of reasons)
    Validations.of(role).acknowledge({
      id,
      reason: `The hub's remediations find these resources at run time; each statement is the definition's own, scoped as declared (the Fleetwarden IAM rule checks mutations): ${why.join('; ')}.`,
    });
}

export interface FleetwardenSpokeStackProps extends StackProps, FleetwardenSpokeProps {}

/**
 * One spoke account and region as its own stack (infra/app.ts synthesizes one per configured
 * account and region): bootstrapless, so a StackSet can deploy its template as it is.
 */
export class FleetwardenSpokeStack extends Stack {
  readonly spoke: FleetwardenSpoke;
  constructor(scope: Construct, id: string, props: FleetwardenSpokeStackProps) {
    super(scope, id, { synthesizer: new BootstraplessSynthesizer(), ...props });
    this.spoke = new FleetwardenSpoke(this, 'Spoke', props);
  }
}
