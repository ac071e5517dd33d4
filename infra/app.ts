#!/usr/bin/env -S npx tsx
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../shared/core/errors';
import { type FleetConfig, parseFleetConfig, refuseExampleConfig } from './config';
import { FleetwardenSpokeStack } from './constructs/spoke';
import { deployedRemediations } from './constructs/spoke-hub';
import { applyGuardrails } from './guardrails/guardrails';
import { FleetStack } from './stacks/fleet-stack';

/** Context key that lets the CDK CLI synthesize cdk.json's example configuration (npm run synth). */
export const EXAMPLE_CONTEXT = 'fleetwarden:example';

/**
 * Build the fleetwarden app from cdk.json context; every guardrail is registered on it. The CDK CLI
 * entry (`refuseExample`) refuses cdk.json's placeholder zone unless EXAMPLE_CONTEXT is true; tests
 * and the simulator build the example in-process and deploy nothing.
 */
export function buildApp(app = new App(), opts: { refuseExample?: boolean } = {}): App {
  const config = parseFleetConfig(app.node.tryGetContext('fleetwarden'));
  if (opts.refuseExample) refuseExampleConfig(config, app.node.tryGetContext(EXAMPLE_CONTEXT));
  const hub = new FleetStack(app, app.node.tryGetContext('fleetwarden:stackName') ?? 'Fleetwarden', {
    config,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: 'fleetwarden: DNS that follows instances, orphaned runner cleanup, evidence-backed audit',
  });
  if (config.spokes?.length) addSpokes(app, hub, config.spokes);
  applyGuardrails(app);
  return app;
}

/**
 * One spoke stack per configured account and region (README "Hub and spokes"): forwarding rules
 * in each; the account-wide roles in the account's first region only (IAM names are global).
 */
function addSpokes(app: App, hub: FleetStack, spokes: NonNullable<FleetConfig['spokes']>): void {
  const hubAccount = process.env.CDK_DEFAULT_ACCOUNT;
  const hubRegion = process.env.CDK_DEFAULT_REGION;
  if (!hubAccount || !hubRegion)
    throw new ConfigError(
      "fleetwarden.spokes: spokes need the hub's account and region (they trust its roles and forward to its bus): deploy the hub with credentials of its account and a region (CDK_DEFAULT_ACCOUNT, CDK_DEFAULT_REGION)",
    );
  const remediations = deployedRemediations(hub.fleet).map(({ definition, settings }) => ({
    definition,
    settings,
  }));
  for (const { account, regions } of spokes)
    for (const [i, region] of regions.entries())
      new FleetwardenSpokeStack(app, `${hub.stackName}-Spoke-${account}-${region}`, {
        env: { account, region },
        description: `fleetwarden spoke of ${hub.stackName} (${hubAccount}/${hubRegion}): forwards the fleet's events, the hub's roles`,
        hubAccount,
        hubRegion,
        fleetId: hub.fleetId,
        hubRolePrefix: `${hub.stackName}-`,
        remediations,
        regions,
        roles: i === 0,
      });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    buildApp(new App(), { refuseExample: true }).synth();
  } catch (err) {
    // a configuration mistake is the user's to fix: show what and where, not a stack trace
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exitCode = 1;
  }
}
