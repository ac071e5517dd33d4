/**
 * An app of your own with fleetwarden in it: `npm install fleetwarden`, then one construct in any
 * stack. `npx cdk synth` builds the functions from the installed package with esbuild (no Docker).
 */
import { App, Stack } from 'aws-cdk-lib';
import { applyGuardrails, Fleetwarden } from 'fleetwarden';

const app = new App();
const stack = new Stack(app, 'RunnerFleet', {
  env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
});

const fleet = new Fleetwarden(stack, 'Fleet', {
  hostedZoneId: 'Z0123456789EXAMPLE',
  zoneName: 'fleet.example.com',
  autoScalingGroupNames: ['ci-runners'],
  github: { owner: 'example-org' },
  // report what it would do until you have read the audit trail for a while
  dryRun: true,
});

// optional: the same synth-time checks the fleetwarden repository runs (cdk-nag AwsSolutions + its own)
applyGuardrails(app);
app.synth();

console.log(`synthesized ${stack.stackName}: fleet ${fleet.node.path}, dry run ${fleet.config.dryRun}`);
