import {
  AutoScalingClient,
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  type CompleteLifecycleActionCommandInput,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { AutoScalingLifecycleActions } from './autoscaling-lifecycle-actions';
import { LifecycleActionError } from './errors';
import { InMemoryLifecycleActions } from './in-memory-lifecycle-actions';
import { describeLifecycleActionsContract } from './lifecycle-actions.contract';
import { SCALING_ACTIVITY_WINDOW } from './port';

describeLifecycleActionsContract('InMemoryLifecycleActions', () => {
  let now = 0;
  const fake = new InMemoryLifecycleActions(() => now);
  return {
    actions: fake,
    begin: (r, t, o) => fake.begin(r, t, o),
    advance: (ms) => (now += ms),
    now: () => now,
    throttleNext: () => fake.throttleNext(1),
    place: (id, g, st) => fake.place(id, g, st),
    failWarmPool: (g) => fake.failWarmPool(g, 'AccessDenied'),
  };
});

const asError = (name: string, message: string) =>
  new AutoScalingServiceException({ name, $fault: 'client', message, $metadata: { httpStatusCode: 400 } });

describeLifecycleActionsContract(
  'AutoScalingLifecycleActions (aws-sdk-client-mock, scripted from the fake)',
  () => {
    let now = 0;
    const fake = new InMemoryLifecycleActions(() => now);
    const stub = mockClient(AutoScalingClient);
    let throttle = 0;
    const ref = (i: {
      AutoScalingGroupName?: string;
      LifecycleHookName?: string;
      LifecycleActionToken?: string;
      InstanceId?: string;
    }) => ({
      autoScalingGroupName: i.AutoScalingGroupName ?? '',
      lifecycleHookName: i.LifecycleHookName ?? '',
      ...(i.LifecycleActionToken ? { lifecycleActionToken: i.LifecycleActionToken } : {}),
      instanceId: i.InstanceId ?? '',
    });
    const gone = () => asError('ValidationError', 'No active Lifecycle Action found with token b7c5b8b8');
    stub.on(RecordLifecycleActionHeartbeatCommand).callsFake(async (i) => {
      if (throttle-- > 0) throw asError('Throttling', 'Rate exceeded');
      if ((await fake.heartbeat(ref(i))) === 'gone') throw gone();
      return {};
    });
    stub.on(CompleteLifecycleActionCommand).callsFake(async (i: CompleteLifecycleActionCommandInput) => {
      if (throttle-- > 0) throw asError('Throttling', 'Rate exceeded');
      if ((await fake.complete(ref(i), i.LifecycleActionResult as 'CONTINUE')) === 'gone') throw gone();
      return {};
    });
    // the Describe* responses in the API reference's shapes, read from the fake's state
    stub.on(DescribeAutoScalingInstancesCommand).callsFake(async (i) => {
      const v = await fake.inspect(i.InstanceIds?.[0] ?? '');
      return {
        AutoScalingInstances: v
          ? [
              {
                InstanceId: i.InstanceIds?.[0],
                AutoScalingGroupName: v.autoScalingGroupName,
                LifecycleState: v.lifecycleState,
              },
            ]
          : [],
      };
    });
    // DescribeAutoScalingGroups in the API reference's shape, one group a page (NextToken): the
    // group's own instances; those in its warm pool (Warmed:*) only DescribeWarmPool lists, and the
    // group says it has a warm pool (WarmPoolConfiguration)
    const warmed = (x: { lifecycleState: string }) => x.lifecycleState.startsWith('Warmed:');
    const denied = new Set<string>();
    stub.on(DescribeAutoScalingGroupsCommand).callsFake(async (i) => {
      const names = i.AutoScalingGroupNames ?? [];
      const at = Number(i.NextToken ?? 0);
      const name = names[at];
      if (name === undefined) return { AutoScalingGroups: [] };
      const listed = (await fake.groupInstances([name])).instances;
      return {
        AutoScalingGroups: [
          {
            AutoScalingGroupName: name,
            ...(listed.some(warmed) || denied.has(name)
              ? {
                  WarmPoolConfiguration: {
                    PoolState: 'Stopped',
                    InstanceReusePolicy: { ReuseOnScaleIn: true },
                  },
                }
              : {}),
            Instances: listed
              .filter((x) => !warmed(x))
              .map((x) => ({
                InstanceId: x.instanceId,
                LifecycleState: x.lifecycleState,
                AvailabilityZone: 'eu-west-1a',
                HealthStatus: 'Healthy',
                ProtectedFromScaleIn: false,
              })),
          },
        ],
        ...(at + 1 < names.length ? { NextToken: String(at + 1) } : {}),
      };
    });
    // DescribeWarmPool in the API reference's shape: the group's warm-pool instances, 50 a page;
    // refused for a role without autoscaling:DescribeWarmPool
    stub.on(DescribeWarmPoolCommand).callsFake(async (i) => {
      if (denied.has(i.AutoScalingGroupName ?? ''))
        throw asError(
          'AccessDenied',
          'User: arn:aws:sts::222222222222:assumed-role/fleetwarden-spoke/x is not authorized to perform: autoscaling:DescribeWarmPool',
        );
      const pool = (await fake.groupInstances([i.AutoScalingGroupName ?? ''])).instances.filter(warmed);
      const at = Number(i.NextToken ?? 0);
      return {
        WarmPoolConfiguration: { PoolState: 'Stopped', InstanceReusePolicy: { ReuseOnScaleIn: true } },
        Instances: pool.slice(at, at + 50).map((x) => ({
          InstanceId: x.instanceId,
          InstanceType: 'm7g.large',
          AvailabilityZone: 'eu-west-1a',
          LifecycleState: x.lifecycleState,
          HealthStatus: 'Healthy',
        })),
        ...(at + 50 < pool.length ? { NextToken: String(at + 50) } : {}),
      };
    });
    let last: string | undefined;
    stub.on(DescribeLifecycleHooksCommand).callsFake(async (i) => {
      const v = await fake.inspect(last ?? '', i.LifecycleHookNames?.[0]);
      const h = v?.hook;
      return {
        LifecycleHooks: h
          ? [
              {
                LifecycleHookName: i.LifecycleHookNames?.[0],
                AutoScalingGroupName: i.AutoScalingGroupName,
                HeartbeatTimeout: h.heartbeatTimeoutSeconds,
                GlobalTimeout: h.globalTimeoutSeconds,
                DefaultResult: 'CONTINUE',
              },
            ]
          : [],
      };
    });
    // DescribeScalingActivities, newest first: an in-progress activity for each instance the fake
    // holds in a lifecycle action (the one inspected, or the group's), worded as Auto Scaling words
    // a launch into the warm pool ("Launching a new EC2 instance into warm pool: i-...") and a
    // termination; then an older, finished one
    stub.on(DescribeScalingActivitiesCommand).callsFake(async (i) => {
      const ids = (await fake.groupInstances([i.AutoScalingGroupName ?? ''])).instances.map(
        (x) => x.instanceId,
      );
      const pending = [];
      for (const id of new Set([...(last ? [last] : []), ...ids])) {
        const v = await fake.inspect(id);
        if (v?.startedAt)
          pending.push({
            ActivityId: `a-${id}`,
            AutoScalingGroupName: v.autoScalingGroupName,
            Cause: 'a user request explicitly set group desired capacity changing the desired capacity',
            Description:
              v.activity === 'launch'
                ? `Launching a new EC2 instance into warm pool: ${id}`
                : `Terminating EC2 instance: ${id}`,
            StartTime: v.startedAt,
            StatusCode: 'MidLifecycleAction',
          });
      }
      return {
        // newest first, at most MaxRecords (default 100)
        Activities: [
          ...pending.sort((p, q) => q.StartTime.getTime() - p.StartTime.getTime()),
          {
            ActivityId: 'a-older',
            AutoScalingGroupName: 'ci-runners',
            Cause: 'an older, finished activity',
            Description: `Terminating EC2 instance: ${last}`,
            StartTime: new Date(0),
            StatusCode: 'Successful',
          },
        ].slice(0, i.MaxRecords ?? 100),
      };
    });
    const adapter = new AutoScalingLifecycleActions(stub as unknown as AutoScalingClient);
    const inspect = adapter.inspect.bind(adapter);
    adapter.inspect = (id, hook) => {
      last = id;
      return inspect(id, hook);
    };
    return {
      actions: adapter,
      begin: (r, t, o) => fake.begin(r, t, o),
      advance: (ms) => (now += ms),
      now: () => now,
      throttleNext: () => (throttle = 1),
      place: (id, g, st) => fake.place(id, g, st),
      failWarmPool: (g) => denied.add(g),
    };
  },
);

describe('AutoScalingLifecycleActions', () => {
  it('completes by InstanceId alone when no token is known (the API takes one or the other)', async () => {
    const stub = mockClient(AutoScalingClient);
    stub.on(CompleteLifecycleActionCommand).resolves({});
    stub.on(RecordLifecycleActionHeartbeatCommand).resolves({});
    const adapter = new AutoScalingLifecycleActions(stub as unknown as AutoScalingClient);
    const ref = { autoScalingGroupName: 'g', lifecycleHookName: 'h', instanceId: 'i-0123456789abcdef0' };
    expect(await adapter.complete(ref, 'CONTINUE')).toBe('completed');
    expect(await adapter.heartbeat(ref)).toBe('recorded');
    const sent = [
      stub.commandCalls(CompleteLifecycleActionCommand)[0]?.args[0].input,
      stub.commandCalls(RecordLifecycleActionHeartbeatCommand)[0]?.args[0].input,
    ];
    for (const input of sent) {
      expect(input).toMatchObject({
        AutoScalingGroupName: 'g',
        LifecycleHookName: 'h',
        InstanceId: ref.instanceId,
      });
      expect(input).not.toHaveProperty('LifecycleActionToken');
    }
  });

  it('reads every page of DescribeAutoScalingGroups, 100 groups a call', async () => {
    const stub = mockClient(AutoScalingClient);
    const names = Array.from({ length: 101 }, (_, i) => `g${i}`);
    stub.on(DescribeAutoScalingGroupsCommand).callsFake(async (i) => ({
      AutoScalingGroups: i.NextToken
        ? [
            {
              AutoScalingGroupName: 'g1',
              Instances: [{ InstanceId: 'i-0000000000000000b', LifecycleState: 'InService' }],
            },
          ]
        : [
            {
              AutoScalingGroupName: (i.AutoScalingGroupNames ?? [])[0],
              Instances: [
                {
                  InstanceId: `i-000000000000000${i.AutoScalingGroupNames?.length === 1 ? 'c' : 'a'}`,
                  LifecycleState: 'Terminating:Wait',
                },
              ],
            },
          ],
      ...(i.NextToken || i.AutoScalingGroupNames?.length === 1 ? {} : { NextToken: 'p2' }),
    }));
    const { instances: listed } = await new AutoScalingLifecycleActions(
      stub as unknown as AutoScalingClient,
    ).groupInstances(names);
    expect(listed.map((x) => x.instanceId)).toEqual([
      'i-000000000000000a',
      'i-0000000000000000b',
      'i-000000000000000c',
    ]);
    const calls = stub.commandCalls(DescribeAutoScalingGroupsCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.AutoScalingGroupNames?.length)).toEqual([100, 100, 1]);
    expect(calls.map((c) => c.NextToken)).toEqual([undefined, 'p2', undefined]);
  });

  it('reads the warm pool (DescribeWarmPool, every page) only of a group that has one', async () => {
    const stub = mockClient(AutoScalingClient);
    stub.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'pooled',
          WarmPoolConfiguration: { PoolState: 'Stopped', InstanceReusePolicy: { ReuseOnScaleIn: true } },
          Instances: [{ InstanceId: 'i-000000000000000a', LifecycleState: 'InService' }],
        } as never,
        { AutoScalingGroupName: 'plain', Instances: [] } as never,
      ],
    });
    stub
      .on(DescribeWarmPoolCommand)
      .resolvesOnce({
        Instances: [{ InstanceId: 'i-000000000000000b', LifecycleState: 'Warmed:Pending:Wait' } as never],
        NextToken: 'w2',
      })
      .resolvesOnce({
        Instances: [{ InstanceId: 'i-000000000000000c', LifecycleState: 'Warmed:Stopped' } as never],
      });
    stub.on(DescribeScalingActivitiesCommand).resolves({ Activities: [] });
    const { instances: listed } = await new AutoScalingLifecycleActions(
      stub as unknown as AutoScalingClient,
    ).groupInstances(['pooled', 'plain']);
    expect(listed.map((x) => [x.instanceId, x.autoScalingGroupName, x.lifecycleState])).toEqual([
      ['i-000000000000000a', 'pooled', 'InService'],
      ['i-000000000000000b', 'pooled', 'Warmed:Pending:Wait'],
      ['i-000000000000000c', 'pooled', 'Warmed:Stopped'],
    ]);
    const calls = stub.commandCalls(DescribeWarmPoolCommand).map((c) => c.args[0].input);
    expect(calls).toEqual([
      { AutoScalingGroupName: 'pooled', MaxRecords: 50, NextToken: undefined },
      { AutoScalingGroupName: 'pooled', MaxRecords: 50, NextToken: 'w2' },
    ]);
  });

  it('reads the scaling activities once per group with an instance in Warmed:Pending:Wait: launch or leave', async () => {
    const stub = mockClient(AutoScalingClient);
    stub.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'pooled',
          WarmPoolConfiguration: { PoolState: 'Stopped' },
          Instances: [],
        } as never,
        {
          AutoScalingGroupName: 'idle',
          WarmPoolConfiguration: { PoolState: 'Stopped' },
          Instances: [],
        } as never,
      ],
    });
    stub
      .on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'pooled' })
      .resolves({
        Instances: ['a', 'b', 'c'].map(
          (k) => ({ InstanceId: `i-00000000000000${k}1`, LifecycleState: 'Warmed:Pending:Wait' }) as never,
        ),
      })
      .on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'idle' })
      .resolves({
        Instances: [{ InstanceId: 'i-000000000000000d1', LifecycleState: 'Warmed:Stopped' } as never],
      });
    stub.on(DescribeScalingActivitiesCommand).resolves({
      Activities: [
        {
          Description: 'Launching a new EC2 instance into warm pool: i-00000000000000a1',
          StatusCode: 'MidLifecycleAction',
        },
        { Description: 'Terminating EC2 instance: i-00000000000000b1', StatusCode: 'MidLifecycleAction' },
        // over: no longer what the instance waits on
        { Description: 'Launching a new EC2 instance: i-00000000000000b1', StatusCode: 'Successful' },
      ] as never,
    });
    const { instances } = await new AutoScalingLifecycleActions(
      stub as unknown as AutoScalingClient,
    ).groupInstances(['pooled', 'idle']);
    expect(instances.map((x) => [x.instanceId, x.activity])).toEqual([
      ['i-00000000000000a1', 'launch'],
      ['i-00000000000000b1', 'leave'],
      ['i-00000000000000c1', undefined],
      ['i-000000000000000d1', undefined],
    ]);
    expect(stub.commandCalls(DescribeScalingActivitiesCommand).map((c) => c.args[0].input)).toEqual([
      { AutoScalingGroupName: 'pooled', MaxRecords: 100 },
    ]);
  });

  it('the look and inspect read the same scaling-activity window (one listed is one inspected)', async () => {
    const x = 'i-0000000000000aaaa';
    // a busy group: 60 newer activities (a scale-out), then x's scale-in back to the warm pool
    const activities = [
      ...Array.from({ length: 60 }, (_, k) => ({
        Description: `Launching a new EC2 instance: i-${String(k).padStart(17, '0')}`,
        StatusCode: 'Successful',
      })),
      {
        Description: `Terminating EC2 instance: ${x}`,
        StatusCode: 'MidLifecycleAction',
        StartTime: new Date(5),
      },
    ];
    const stub = mockClient(AutoScalingClient);
    stub.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'ci',
          WarmPoolConfiguration: { PoolState: 'Stopped' },
          Instances: [],
        } as never,
      ],
    });
    stub.on(DescribeWarmPoolCommand).resolves({
      Instances: [{ InstanceId: x, LifecycleState: 'Warmed:Pending:Wait' } as never],
    });
    // at most MaxRecords a call (default 100), newest first
    stub
      .on(DescribeScalingActivitiesCommand)
      .callsFake(async (i) => ({ Activities: activities.slice(0, i.MaxRecords ?? 100) }));
    stub.on(DescribeAutoScalingInstancesCommand).resolves({
      AutoScalingInstances: [
        { InstanceId: x, AutoScalingGroupName: 'ci', LifecycleState: 'Warmed:Pending:Wait' } as never,
      ],
    });
    const adapter = new AutoScalingLifecycleActions(stub as unknown as AutoScalingClient);
    const { instances } = await adapter.groupInstances(['ci']);
    expect(instances.map((i) => [i.instanceId, i.activity])).toEqual([[x, 'leave']]);
    expect(await adapter.inspect(x)).toMatchObject({ activity: 'leave', startedAt: new Date(5) });
    const windows = stub
      .commandCalls(DescribeScalingActivitiesCommand)
      .map((c) => c.args[0].input.MaxRecords);
    expect(windows).toEqual([SCALING_ACTIVITY_WINDOW, SCALING_ACTIVITY_WINDOW]);
  });

  it('a DescribeWarmPool refusal (AccessDenied) leaves the group unread, its own instances listed', async () => {
    const stub = mockClient(AutoScalingClient);
    stub.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'ci-runners',
          WarmPoolConfiguration: { PoolState: 'Stopped' },
          Instances: [{ InstanceId: 'i-0000000000000000a', LifecycleState: 'Terminating:Wait' }],
        } as never,
      ],
    });
    stub
      .on(DescribeWarmPoolCommand)
      .rejects(asError('AccessDenied', 'not authorized to perform: autoscaling:DescribeWarmPool'));
    const listing = await new AutoScalingLifecycleActions(
      stub as unknown as AutoScalingClient,
    ).groupInstances(['ci-runners']);
    expect(listing.instances).toEqual([
      {
        instanceId: 'i-0000000000000000a',
        autoScalingGroupName: 'ci-runners',
        lifecycleState: 'Terminating:Wait',
      },
    ]);
    expect(listing.unread).toEqual([
      { autoScalingGroupName: 'ci-runners', error: expect.any(LifecycleActionError) },
    ]);
    expect((listing.unread[0]?.error.cause as Error | undefined)?.name).toBe('AccessDenied');
  });

  it('names any other refusal (e.g. AccessDenied) LifecycleActionError with the cause', async () => {
    const stub = mockClient(AutoScalingClient);
    stub
      .on(CompleteLifecycleActionCommand)
      .rejects(asError('AccessDenied', 'not authorized to perform autoscaling:CompleteLifecycleAction'));
    const err = await new AutoScalingLifecycleActions(stub as unknown as AutoScalingClient)
      .complete(
        {
          autoScalingGroupName: 'g',
          lifecycleHookName: 'h',
          lifecycleActionToken: 't',
          instanceId: 'i-0123456789abcdef0',
        },
        'CONTINUE',
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LifecycleActionError);
    expect((err as Error).cause).toBeDefined();
  });
});
