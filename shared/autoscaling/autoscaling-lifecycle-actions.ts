import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { defaultAutoScalingClient } from '../aws/clients';
import { ThrottledError } from '../core/errors';
import { LifecycleActionError } from './errors';
import type { LifecycleActionRef, LifecycleActions } from './port';

const GONE = /No active Lifecycle Action found/i;

function classify(err: unknown, what: string): 'gone' {
  const e = err as { name?: string; message?: string };
  if (e.name === 'ValidationError' && GONE.test(e.message ?? '')) return 'gone';
  if (e.name === 'Throttling' || e.name === 'ThrottlingException') {
    throw new ThrottledError(`Auto Scaling ${what}: ${e.message}`, undefined, { cause: err });
  }
  throw new LifecycleActionError(`Auto Scaling ${what} failed: ${e.name}: ${e.message}`, { cause: err });
}

/** Auto Scaling lifecycle calls behind the LifecycleActions port (token, hook, group and instance). */
export class AutoScalingLifecycleActions implements LifecycleActions {
  constructor(private readonly client: AutoScalingClient = defaultAutoScalingClient()) {}

  async heartbeat(ref: LifecycleActionRef): Promise<'recorded' | 'gone'> {
    try {
      await this.client.send(
        new RecordLifecycleActionHeartbeatCommand({
          AutoScalingGroupName: ref.autoScalingGroupName,
          LifecycleHookName: ref.lifecycleHookName,
          LifecycleActionToken: ref.lifecycleActionToken,
          InstanceId: ref.instanceId,
        }),
      );
      return 'recorded';
    } catch (err) {
      return classify(err, 'RecordLifecycleActionHeartbeat');
    }
  }

  async complete(ref: LifecycleActionRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'gone'> {
    try {
      await this.client.send(
        new CompleteLifecycleActionCommand({
          AutoScalingGroupName: ref.autoScalingGroupName,
          LifecycleHookName: ref.lifecycleHookName,
          LifecycleActionToken: ref.lifecycleActionToken,
          InstanceId: ref.instanceId,
          LifecycleActionResult: result,
        }),
      );
      return 'completed';
    } catch (err) {
      return classify(err, 'CompleteLifecycleAction');
    }
  }
}
