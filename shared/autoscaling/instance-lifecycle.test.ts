import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
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

  it('reads every terminating instance of the named groups with DescribeAutoScalingGroups, across pages', async () => {
    const as = mockClient(AutoScalingClient);
    as.on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'ci-runners',
            MinSize: 0,
            MaxSize: 10,
            DesiredCapacity: 2,
            DefaultCooldown: 300,
            AvailabilityZones: ['eu-west-1a'],
            HealthCheckType: 'EC2',
            CreatedTime: new Date(),
            Instances: [
              {
                InstanceId: id(1),
                LifecycleState: 'Terminating:Wait',
                AvailabilityZone: 'eu-west-1a',
                HealthStatus: 'Healthy',
                ProtectedFromScaleIn: false,
              },
              {
                InstanceId: id(2),
                LifecycleState: 'InService',
                AvailabilityZone: 'eu-west-1a',
                HealthStatus: 'Healthy',
                ProtectedFromScaleIn: false,
              },
            ],
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({ AutoScalingGroups: [] });
    const leaving = await new AutoScalingInstanceLifecycle(
      as as unknown as AutoScalingClient,
    ).terminatingInGroups(['ci-runners']);
    expect([...leaving]).toEqual([id(1)]);
    expect(as.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input.NextToken)).toEqual([
      undefined,
      'page-2',
    ]);
  });

  it('fake answers what the simulator marked', async () => {
    const f = new InMemoryInstanceLifecycle();
    f.markTerminating(id(1));
    expect([...(await f.terminating([id(1), id(2)]))]).toEqual([id(1)]);
  });
});
