#!/usr/bin/env -S npx tsx
import { App } from 'aws-cdk-lib';
import { parseFleetConfig } from './config';
import { applyGuardrails } from './guardrails/guardrails';
import { FleetStack } from './stacks/fleet-stack';

/** Build the fleetwarden app from cdk.json context; every guardrail is registered on it. */
export function buildApp(app = new App()): App {
  const config = parseFleetConfig(app.node.tryGetContext('fleetwarden'));
  new FleetStack(app, app.node.tryGetContext('fleetwarden:stackName') ?? 'Fleetwarden', {
    config,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    description: 'fleetwarden: DNS that follows instances, orphaned runner cleanup, evidence-backed audit',
  });
  applyGuardrails(app);
  return app;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildApp().synth();
}
