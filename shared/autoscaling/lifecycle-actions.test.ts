import {
  AutoScalingClient,
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  type CompleteLifecycleActionCommandInput,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { AutoScalingLifecycleActions } from './autoscaling-lifecycle-actions';
import { LifecycleActionError } from './errors';
import { InMemoryLifecycleActions } from './in-memory-lifecycle-actions';
import { describeLifecycleActionsContract } from './lifecycle-actions.contract';

describeLifecycleActionsContract('InMemoryLifecycleActions', () => {
  let now = 0;
  const fake = new InMemoryLifecycleActions(() => now);
  return {
    actions: fake,
    begin: (r, t, o) => fake.begin(r, t, o),
    advance: (ms) => (now += ms),
    now: () => now,
    throttleNext: () => fake.throttleNext(1),
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
      lifecycleActionToken: i.LifecycleActionToken ?? '',
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
    stub.on(DescribeScalingActivitiesCommand).callsFake(async () => {
      const v = await fake.inspect(last ?? '');
      return {
        Activities: [
          {
            ActivityId: 'a-older',
            AutoScalingGroupName: 'ci-runners',
            Cause: 'an older, finished activity',
            Description: `Terminating EC2 instance: ${last}`,
            StartTime: new Date(0),
            StatusCode: 'Successful',
          },
          ...(v?.startedAt
            ? [
                {
                  ActivityId: 'a-1',
                  AutoScalingGroupName: v.autoScalingGroupName,
                  Cause: 'a user request explicitly set group desired capacity changing the desired capacity',
                  Description: `Terminating EC2 instance: ${last}`,
                  StartTime: v.startedAt,
                  StatusCode: 'MidLifecycleAction',
                },
              ]
            : []),
        ].reverse(),
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
    };
  },
);

describe('AutoScalingLifecycleActions', () => {
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
