import { describe, expect, it } from 'vitest';
import { sweepAtScale } from './runner-sweep.bench';

describe('runner sweep at scale (10,000 runners x 10,000 instances)', () => {
  it('reads every page at the pagination minimum and removes exactly the 100 ghosts', async () => {
    const r = await sweepAtScale(10_000, 100);
    expect(r.deregistered).toBe(100);
    expect(r.githubListPages).toBe(r.minimum.githubListPages);
    expect(r.ec2Calls).toBe(r.minimum.ec2Calls);
    expect(r.asgCalls).toBe(2); // DescribeAutoScalingGroups + DescribeWarmPool (one ASG)
    expect(r.naive.ec2Calls).toBe(10_000);
    // the naive side really ran: one DescribeInstances per runner sent through the same EC2
    // adapter and fake, each naming one instance, and it found the same 100 ghosts
    expect(r.naive.describedInstanceIds).toBe(10_000);
    expect(r.naive.deregistered).toBe(100);
  });
});
