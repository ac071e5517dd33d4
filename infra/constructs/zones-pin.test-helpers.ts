import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Fleetwarden } from './fleetwarden';
import type { FleetwardenProps } from './fleetwarden-props';

/** Today's single-zone configuration (the shorthand), with a reverse zone and a public view. */
export const SHORTHAND = {
  hostedZoneId: 'Z0123456789ABC',
  zoneName: 'fleet.example.com',
  reverseZoneId: 'Z0REVERSE0000',
  reverseZoneName: '10.in-addr.arpa',
  publishPublicIp: true,
  autoScalingGroupNames: ['ci-runners'],
  github: { owner: 'acme' },
};

/**
 * What must not change for a single-zone fleet on upgrade: every logical id (no resource replaced),
 * every function's environment and every IAM policy document.
 */
export function pinnedShape(props: FleetwardenProps) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ConsumerStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  new Fleetwarden(stack, 'Fleet', props);
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const entries = Object.entries(resources).sort(([a], [b]) => a.localeCompare(b));
  return {
    logicalIds: entries.map(([id, r]) => `${id} ${r.Type}`),
    environments: Object.fromEntries(
      entries
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([id, r]) => [id, (r.Properties?.Environment as { Variables?: unknown })?.Variables]),
    ),
    policies: Object.fromEntries(
      entries
        .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
        .map(([id, r]) => [id, r.Properties?.PolicyDocument]),
    ),
  };
}
