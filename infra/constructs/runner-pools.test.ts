import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from '../config';
import { FleetStack } from '../stacks/fleet-stack';

const shorthand = {
  hostedZoneId: 'Z0123456789ABCDEFGHIJ',
  zoneName: 'fleet.example.internal',
  autoScalingGroupNames: ['ci-runners', 'ci-runners-arm'],
  github: { owner: 'acme', repository: 'ci' },
  fleetTag: { key: 'team', value: 'ci' },
  maxRemovalShare: 0.3,
  maxRemovalsPerRun: 50,
  allowTerminate: true,
};

function synth(config: Record<string, unknown>) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new FleetStack(app, 'Fleet', {
    env: { account: '123456789012', region: 'eu-west-1' },
    config: parseFleetConfig(config),
  });
  return Template.fromStack(stack).toJSON() as {
    Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    Outputs?: Record<string, unknown>;
  };
}

/** A function's code asset changes with every code change: never part of the pin. */
function withoutCode(r: { Type: string; Properties?: Record<string, unknown> }) {
  if (r.Type !== 'AWS::Lambda::Function') return r;
  const { Code: _code, ...rest } = r.Properties ?? {};
  return { ...r, Properties: rest };
}

/** The runner remediation's resources (the `Runners` construct, the App secret) and their outputs. */
function runnerPart(t: ReturnType<typeof synth>) {
  const mine = (id: string) => id.startsWith('Runners') || id.startsWith('GitHubAppSecret');
  return {
    resources: Object.fromEntries(
      Object.entries(t.Resources)
        .filter(([id]) => mine(id))
        .map(([id, r]) => [id, withoutCode(r)]),
    ),
    outputs: Object.fromEntries(Object.entries(t.Outputs ?? {}).filter(([id]) => mine(id))),
  };
}

describe('the shorthand (github + autoScalingGroupNames + fleetTag + sweep keys) is the pool "default"', () => {
  it("keeps today's runner template exactly: same logical ids, same properties (no resource replaced on upgrade)", async () => {
    await expect(JSON.stringify(runnerPart(synth(shorthand)), null, 2)).toMatchFileSnapshot(
      'test-fixtures/shorthand-runners.template.json',
    );
  });
});
