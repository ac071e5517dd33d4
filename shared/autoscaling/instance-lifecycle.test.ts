import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { AutoScalingInstanceLifecycle, InMemoryInstanceLifecycle } from './instance-lifecycle';
import { describeInstanceLifecycleContract } from './instance-lifecycle.contract';

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

// ---- the same contract for the fake and the adapter ---------------------------------------------

describeInstanceLifecycleContract('InMemoryInstanceLifecycle', () => {
  const lifecycle = new InMemoryInstanceLifecycle();
  return {
    lifecycle,
    put: (group, instanceId, state) => lifecycle.put(group, instanceId, state),
    throttleNext: () => lifecycle.throttleNext(),
  };
});

describeInstanceLifecycleContract('AutoScalingInstanceLifecycle over a mocked Auto Scaling', () => {
  const as = mockClient(AutoScalingClient);
  const world = new Map<string, { group: string; state: string }>();
  let throttle = 0;
  const throttled = () => {
    if (throttle === 0) return;
    throttle--;
    throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
  };
  const instance = (InstanceId: string) => ({
    InstanceId,
    AvailabilityZone: 'eu-west-1a',
    HealthStatus: 'HEALTHY',
    ProtectedFromScaleIn: false,
    LifecycleState: world.get(InstanceId)?.state as 'InService',
  });
  as.on(DescribeAutoScalingInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
    throttled();
    if (input.InstanceIds.length > 50)
      throw Object.assign(new Error('too many ids'), { name: 'ValidationError' });
    return {
      AutoScalingInstances: input.InstanceIds.filter((i) => world.has(i)).map((i) => ({
        ...instance(i),
        AutoScalingGroupName: world.get(i)?.group,
      })),
    };
  });
  as.on(DescribeAutoScalingGroupsCommand).callsFake((input: { AutoScalingGroupNames: string[] }) => {
    throttled();
    return {
      AutoScalingGroups: input.AutoScalingGroupNames.map((g) => ({
        AutoScalingGroupName: g,
        MinSize: 0,
        MaxSize: 10,
        DesiredCapacity: 1,
        DefaultCooldown: 300,
        AvailabilityZones: ['eu-west-1a'],
        HealthCheckType: 'EC2',
        CreatedTime: new Date(),
        Instances: [...world].filter(([, v]) => v.group === g).map(([i]) => instance(i)),
      })),
    };
  });
  return {
    lifecycle: new AutoScalingInstanceLifecycle(as as unknown as AutoScalingClient),
    put: (group, instanceId, state) => world.set(instanceId, { group, state }),
    throttleNext: () => {
      throttle++;
    },
  };
});
