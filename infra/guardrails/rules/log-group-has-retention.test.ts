import type { CfnResource } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagRuleCompliance } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { LogGroupHasRetention } from './log-group-has-retention';
import { testStack } from './rules.test-helpers';

describe('Fleetwarden-LogGroupHasRetention', () => {
  it('passes a log group with retention', () => {
    const { stack } = testStack();
    const group = new logs.LogGroup(stack, 'G', { retention: logs.RetentionDays.ONE_MONTH });
    expect(LogGroupHasRetention.check(group.node.defaultChild as CfnResource)).toBe(
      NagRuleCompliance.COMPLIANT,
    );
  });

  it('flags a log group kept forever', () => {
    const { stack } = testStack();
    const group = new logs.LogGroup(stack, 'G', { retention: logs.RetentionDays.INFINITE });
    expect(LogGroupHasRetention.check(group.node.defaultChild as CfnResource)).toBe(
      NagRuleCompliance.NON_COMPLIANT,
    );
  });

  it('ignores other resources', () => {
    const { topic } = testStack();
    expect(LogGroupHasRetention.check(topic.node.defaultChild as CfnResource)).toBe(
      NagRuleCompliance.NOT_APPLICABLE,
    );
  });
});
