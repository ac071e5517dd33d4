#!/usr/bin/env -S npx tsx
import { App } from 'aws-cdk-lib';
import { ConfigError } from '../shared/core/errors';
import { parseFleetConfig, refuseExampleConfig } from './config';
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
  new FleetStack(app, app.node.tryGetContext('fleetwarden:stackName') ?? 'Fleetwarden', {
    config,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: 'fleetwarden: DNS that follows instances, orphaned runner cleanup, evidence-backed audit',
  });
  applyGuardrails(app);
  return app;
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
