import { describe, expect, it } from 'vitest';
import { defaultDeps } from './deps';

describe('defaultDeps', () => {
  it('gives CloudTrail one attempt per call, so throttling goes back through the 2 req/s limiter', async () => {
    const aws = await defaultDeps().aws();
    expect(await aws.cloudtrail('eu-west-1').config.maxAttempts()).toBe(1);
    expect(await aws.ec2('eu-west-1').config.maxAttempts()).toBe(6);
  });

  it('loads the clients once and keeps one client per region', async () => {
    const deps = defaultDeps();
    const aws = await deps.aws();
    expect(await deps.aws()).toBe(aws);
    expect(aws.cloudtrail('eu-west-1')).toBe(aws.cloudtrail('eu-west-1'));
    expect(aws.cloudtrail('us-east-1')).not.toBe(aws.cloudtrail('eu-west-1'));
  });
});
