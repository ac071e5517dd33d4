import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { REMEDIATIONS } from '../../functions/registry';
import { spokeRoleName, TOPOLOGY_ENV, trailRoleName } from '../../shared/aws/scope-env';
import type { AnyRemediation } from '../../shared/kernel/remediation';
import { readSettings, type SettingsSpec } from '../../shared/kernel/settings';
import type { SpokeConfig } from '../config-spokes';
import { FleetFunction } from './fleet-function';
import { type DeployedRemediation, declaredSpokeActions } from './spoke-permissions';

/** A setting whose value is known only at deploy time (a table name): IAM scoping never depends on it. */
const DEPLOY_TIME = 'deploy-time-value';

function environmentOf(ff: FleetFunction): Record<string, string> {
  const cfn = ff.fn.node.defaultChild as lambda.CfnFunction;
  const resolved = Stack.of(ff).resolve(cfn.environment) as
    | { variables?: Record<string, unknown>; Variables?: Record<string, unknown> }
    | undefined;
  const vars = resolved?.variables ?? resolved?.Variables ?? {};
  // what Lambda itself sets (audit-correlate reads its home region from AWS_REGION)
  const lambdaSets = { AWS_REGION: DEPLOY_TIME };
  return {
    ...lambdaSets,
    ...Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, typeof v === 'string' ? v : DEPLOY_TIME])),
  };
}

/**
 * The function's environment as its settings can read it: a value known only at deploy time is
 * left unset where the setting has a default (a patterned value such as DNS_WRITER_ROLE_ARNS, role
 * ARNs joined at deploy time, cannot be checked here; IAM scoping never depends on it).
 */
function readable(definition: AnyRemediation, fn: FleetFunction): Record<string, string> {
  const env = environmentOf(fn);
  for (const s of Object.values(definition.settings as SettingsSpec)) {
    if (env[s.env] === DEPLOY_TIME && s.default !== undefined) delete env[s.env];
  }
  return env;
}

/**
 * The remediations a fleet deploys, each with the settings its function was deployed with (read
 * back from the function's environment): what a spoke grants and forwards is derived from them.
 */
export function deployedRemediations(fleet: Construct): Array<DeployedRemediation & { fn: FleetFunction }> {
  const out: Array<DeployedRemediation & { fn: FleetFunction }> = [];
  for (const fn of fleet.node.findAll().filter(FleetFunction.isFleetFunction)) {
    const definition = REMEDIATIONS.find((d: AnyRemediation) => fn.entry.endsWith(d.entry));
    if (!definition) continue;
    out.push({ definition, settings: readSettings(definition.settings, readable(definition, fn)), fn });
  }
  return out;
}

/** Does the remediation look up CloudTrail events (audit-correlate)? */
const readsTrail = (d: DeployedRemediation) =>
  d.definition.reads(d.settings as never).some((g) => g.actions.includes('cloudtrail:LookupEvents'));

export interface SpokeHubProps {
  readonly spokes: readonly SpokeConfig[];
  readonly fleetId: string;
}

/**
 * The hub's side of a hub-and-spoke fleet (README "Hub and spokes"): the default bus accepts
 * PutEvents from the spoke accounts only (condition on the principal's account); every function
 * whose remediation acts in spokes gets the topology (TOPOLOGY_ENV) and sts:AssumeRole on exactly
 * the spoke roles. Build it after every function of the fleet.
 */
export class SpokeHub extends Construct {
  readonly busPolicy: events.CfnEventBusPolicy;

  constructor(scope: Construct, id: string, props: SpokeHubProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const accounts = props.spokes.map((s) => s.account);
    this.busPolicy = new events.CfnEventBusPolicy(this, 'SpokeEvents', {
      eventBusName: 'default',
      statementId: `fleetwarden-spokes-${props.fleetId}`,
      statement: {
        Effect: 'Allow',
        Principal: { AWS: accounts.map((a) => `arn:${stack.partition}:iam::${a}:root`) },
        Action: 'events:PutEvents',
        Resource: `arn:${stack.partition}:events:${stack.region}:${stack.account}:event-bus/default`,
        Condition: { StringEquals: { 'aws:PrincipalAccount': accounts } },
      },
    });
    const arns = (name: string) => accounts.map((a) => `arn:${stack.partition}:iam::${a}:role/${name}`);
    const spokes = props.spokes.flatMap((s) => s.regions.map((r) => `${s.account}:${r}`)).join(',');
    for (const d of deployedRemediations(scope)) {
      // the spoke role for EC2/Auto Scaling calls there; the trail role for CloudTrail lookups there
      const role =
        declaredSpokeActions([d]).size > 0 ? spokeRoleName : readsTrail(d) ? trailRoleName : undefined;
      if (!role) continue;
      d.fn.allow({ actions: ['sts:AssumeRole'], resources: arns(role(props.fleetId)) });
      d.fn.addEnvironment(TOPOLOGY_ENV.hubAccount, stack.account);
      d.fn.addEnvironment(TOPOLOGY_ENV.spokes, spokes);
      d.fn.addEnvironment(TOPOLOGY_ENV.fleetId, props.fleetId);
      d.fn.addEnvironment(TOPOLOGY_ENV.partition, stack.partition);
    }
  }
}
