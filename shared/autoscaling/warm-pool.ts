import { type AutoScalingClient, DescribeWarmPoolCommand } from '@aws-sdk/client-auto-scaling';
import { defaultAutoScalingClient } from '../aws/clients';
import { ThrottledError } from '../core/errors';
import { WarmPoolError } from './errors';

/**
 * Port: which instances sit in their Auto Scaling group's warm pool. A scale-in into a warm pool
 * stops the instance (EC2 `stopped`, Auto Scaling `Warmed:Stopped`): it comes back, so its stopped
 * state is no departure. Instances the pool is itself terminating (`Warmed:Terminating*`,
 * `Warmed:Terminated`) are leaving and are left out.
 */
export interface WarmPool {
  /** instance id -> Warmed:* lifecycle state, for the named groups (DescribeWarmPool: one call per group, 50 a page). */
  warmedInGroups(groupNames: readonly string[]): Promise<Map<string, string>>;
}

/** DescribeWarmPool returns at most 50 instances per call. */
const PER_PAGE = 50;

/** In the pool and staying there: any Warmed:* state but the pool's own termination. */
export const isWarmed = (lifecycleState: string | undefined): boolean =>
  lifecycleState?.startsWith('Warmed:') === true && !lifecycleState.startsWith('Warmed:Terminat');

export class AutoScalingWarmPool implements WarmPool {
  constructor(private readonly client: AutoScalingClient = defaultAutoScalingClient()) {}

  async warmedInGroups(groupNames: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const group of groupNames) {
      let token: string | undefined;
      do {
        try {
          const page = await this.client.send(
            new DescribeWarmPoolCommand({
              AutoScalingGroupName: group,
              MaxRecords: PER_PAGE,
              ...(token ? { NextToken: token } : {}),
            }),
          );
          for (const i of page.Instances ?? []) {
            if (i.InstanceId && isWarmed(i.LifecycleState)) out.set(i.InstanceId, i.LifecycleState as string);
          }
          token = page.NextToken;
        } catch (err) {
          const e = err as { name?: string; message?: string };
          if (e.name === 'Throttling')
            throw new ThrottledError(`DescribeWarmPool: ${e.message}`, undefined, { cause: err });
          throw new WarmPoolError(`DescribeWarmPool ${group} failed: ${e.name}: ${e.message}`, {
            cause: err,
          });
        }
      } while (token);
    }
    return out;
  }
}

/**
 * Fake with Auto Scaling's semantics: instances in a group's warm pool with a lifecycle state;
 * one call per group and 50-instance page; throttling or a failure fails the call.
 */
export class InMemoryWarmPool implements WarmPool {
  private readonly pools = new Map<string, Map<string, string>>();
  private failures: ('throttle' | 'fail')[] = [];
  calls = 0;

  /** An instance in `group`'s warm pool in `lifecycleState` (Warmed:Stopped, Warmed:Running, ...). */
  put(group: string, instanceId: string, lifecycleState: string): void {
    for (const pool of this.pools.values()) pool.delete(instanceId);
    const pool = this.pools.get(group) ?? new Map<string, string>();
    pool.set(instanceId, lifecycleState);
    this.pools.set(group, pool);
  }
  /** The instance left the pool (back in service, or terminated). */
  forget(instanceId: string): void {
    for (const pool of this.pools.values()) pool.delete(instanceId);
  }
  throttleNext(count = 1): void {
    for (let k = 0; k < count; k++) this.failures.push('throttle');
  }
  failNext(count = 1): void {
    for (let k = 0; k < count; k++) this.failures.push('fail');
  }

  async warmedInGroups(groupNames: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const group of groupNames) {
      const pool = [...(this.pools.get(group) ?? new Map<string, string>())];
      for (let i = 0; i === 0 || i < pool.length; i += PER_PAGE) {
        this.calls++;
        const failure = this.failures.shift();
        if (failure === 'throttle') throw new ThrottledError('DescribeWarmPool: Rate exceeded', undefined);
        if (failure === 'fail')
          throw new WarmPoolError(
            `DescribeWarmPool ${group} failed: ValidationError: AutoScalingGroup name not found`,
          );
        for (const [id, state] of pool.slice(i, i + PER_PAGE)) if (isWarmed(state)) out.set(id, state);
      }
    }
    return out;
  }
}
