import { AutoScalingClient, DescribeWarmPoolCommand, type Instance } from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { AutoScalingWarmPool, InMemoryWarmPool } from './warm-pool';
import { describeWarmPoolContract } from './warm-pool.contract';

const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const inst = (InstanceId: string, LifecycleState: string): Instance =>
  ({
    InstanceId,
    LifecycleState,
    AvailabilityZone: 'eu-west-1a',
    HealthStatus: 'Healthy',
    ProtectedFromScaleIn: false,
  }) as Instance;

describe('warm pool (is the instance parked in its ASG warm pool?)', () => {
  it('calls DescribeWarmPool once per group, follows NextToken at 50 a page', async () => {
    const as = mockClient(AutoScalingClient);
    as.on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'a', NextToken: undefined })
      .resolves({ Instances: [inst(id(1), 'Warmed:Stopped')], NextToken: 't2' })
      .on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'a', NextToken: 't2' })
      .resolves({ Instances: [inst(id(2), 'Warmed:Running')] })
      .on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'b' })
      .resolves({ WarmPoolConfiguration: undefined, Instances: [] });
    const out = await new AutoScalingWarmPool(as as unknown as AutoScalingClient).warmedInGroups(['a', 'b']);
    expect([...out]).toEqual([
      [id(1), 'Warmed:Stopped'],
      [id(2), 'Warmed:Running'],
    ]);
    expect(as.commandCalls(DescribeWarmPoolCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'a', MaxRecords: 50 },
      { AutoScalingGroupName: 'a', MaxRecords: 50, NextToken: 't2' },
      { AutoScalingGroupName: 'b', MaxRecords: 50 },
    ]);
  });

  it('leaves out warm-pool instances being terminated (Warmed:Terminating*, Warmed:Terminated): those do leave', async () => {
    const as = mockClient(AutoScalingClient);
    as.on(DescribeWarmPoolCommand).resolves({
      Instances: [
        inst(id(1), 'Warmed:Terminating:Wait'),
        inst(id(2), 'Warmed:Terminated'),
        inst(id(3), 'Warmed:Stopped'),
      ],
    });
    const out = await new AutoScalingWarmPool(as as unknown as AutoScalingClient).warmedInGroups(['a']);
    expect([...out.keys()]).toEqual([id(3)]);
  });
});

describeWarmPoolContract('InMemoryWarmPool', () => {
  const fake = new InMemoryWarmPool();
  return {
    warmPool: fake,
    put: (g, i, s) => fake.put(g, i, s),
    throttleNext: () => fake.throttleNext(),
    failNext: () => fake.failNext(),
  };
});

describeWarmPoolContract('AutoScalingWarmPool (aws-sdk-client-mock)', () => {
  const pools = new Map<string, Instance[]>();
  let throttles = 0;
  let failures = 0;
  const as = mockClient(AutoScalingClient);
  as.on(DescribeWarmPoolCommand).callsFake(
    (input: { AutoScalingGroupName: string; NextToken?: string; MaxRecords?: number }) => {
      if (throttles > 0) {
        throttles--;
        throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      }
      if (failures > 0) {
        failures--;
        throw Object.assign(new Error('AutoScalingGroup name not found'), { name: 'ValidationError' });
      }
      const all = pools.get(input.AutoScalingGroupName) ?? [];
      const from = Number(input.NextToken ?? 0);
      const to = from + (input.MaxRecords ?? 50);
      return { Instances: all.slice(from, to), NextToken: to < all.length ? String(to) : undefined };
    },
  );
  return {
    warmPool: new AutoScalingWarmPool(as as unknown as AutoScalingClient),
    put: (g, i, s) => pools.set(g, [...(pools.get(g) ?? []), inst(i, s)]),
    throttleNext: () => {
      throttles++;
    },
    failNext: () => {
      failures++;
    },
  };
});
