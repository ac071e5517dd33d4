import {
  AutoScalingClient,
  AutoScalingServiceException,
  CompleteLifecycleActionCommand,
  type CompleteLifecycleActionCommandInput,
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
    begin: (r, t) => fake.begin(r, t),
    advance: (ms) => (now += ms),
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
    return {
      actions: new AutoScalingLifecycleActions(stub as unknown as AutoScalingClient),
      begin: (r, t) => fake.begin(r, t),
      advance: (ms) => (now += ms),
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
