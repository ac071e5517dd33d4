import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import * as sns from 'aws-cdk-lib/aws-sns';

export const noopEntry = fileURLToPath(
  new URL('../../constructs/test-fixtures/noop-handler.ts', import.meta.url),
);

export function testStack(): { app: App; stack: Stack; topic: sns.Topic } {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'RuleTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  return { app, stack, topic: new sns.Topic(stack, 'Topic') };
}
