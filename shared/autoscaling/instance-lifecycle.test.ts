import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { AutoScalingInstanceLifecycle, InMemoryInstanceLifecycle } from './instance-lifecycle';

const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;

describe('instance lifecycle (is the ASG terminating it?)', () => {
  it('reads LifecycleState Terminating* from DescribeAutoScalingInstances, 50 ids per call', async () => {
    const as = mockClient(AutoScalingClient);
    as.on(DescribeAutoScalingInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
      AutoScalingInstances: input.InstanceIds.map((InstanceId, k) => ({
        InstanceId,
        AutoScalingGroupName: 'ci-runners',
        AvailabilityZone: 'eu-west-1a',
        HealthStatus: 'HEALTHY',
        ProtectedFromScaleIn: false,
        LifecycleState: k === 0 ? 'Terminating:Wait' : 'InService',
      })),
    }));
    const ids = Array.from({ length: 120 }, (_, n) => id(n));
    const leaving = await new AutoScalingInstanceLifecycle(as as unknown as AutoScalingClient).terminating(
      ids,
    );
    expect([...leaving]).toEqual([id(0), id(50), id(100)]);
    expect(
      as.commandCalls(DescribeAutoScalingInstancesCommand).map((c) => c.args[0].input.InstanceIds?.length),
    ).toEqual([50, 50, 20]);
  });

  it('fake answers what the simulator marked', async () => {
    const f = new InMemoryInstanceLifecycle();
    f.markTerminating(id(1));
    expect([...(await f.terminating([id(1), id(2)]))]).toEqual([id(1)]);
  });
});
