import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import { defaultAutoScalingClient } from '../aws/clients';
import { ThrottledError } from '../core/errors';
import { LifecycleActionError } from './errors';

/**
 * Port: which instances their Auto Scaling group is terminating. During a terminate lifecycle
 * hook the instance is still `running` in EC2; only Auto Scaling's LifecycleState
 * (Terminating, Terminating:Wait, Terminating:Proceed) says it is leaving.
 */
export interface InstanceLifecycle {
  /** Of these instances, the ones being terminated (DescribeAutoScalingInstances, 50 ids a call). */
  terminating(instanceIds: readonly string[]): Promise<Set<string>>;
  /** Every instance the named groups are terminating (DescribeAutoScalingGroups: one call per 100 groups). */
  terminatingInGroups(groupNames: readonly string[]): Promise<Set<string>>;
}

/** DescribeAutoScalingInstances accepts at most 50 instance ids per call. */
const IDS_PER_CALL = 50;

export class AutoScalingInstanceLifecycle implements InstanceLifecycle {
  constructor(private readonly client: AutoScalingClient = defaultAutoScalingClient()) {}

  async terminating(instanceIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < instanceIds.length; i += IDS_PER_CALL) {
      let token: string | undefined;
      do {
        try {
          const page = await this.client.send(
            new DescribeAutoScalingInstancesCommand({
              InstanceIds: instanceIds.slice(i, i + IDS_PER_CALL),
              MaxRecords: IDS_PER_CALL,
              NextToken: token,
            }),
          );
          for (const a of page.AutoScalingInstances ?? []) {
            if (a.InstanceId && a.LifecycleState?.startsWith('Terminating')) out.add(a.InstanceId);
          }
          token = page.NextToken;
        } catch (err) {
          const e = err as { name?: string; message?: string };
          if (e.name === 'Throttling')
            throw new ThrottledError(`DescribeAutoScalingInstances: ${e.message}`, undefined, { cause: err });
          throw new LifecycleActionError(`DescribeAutoScalingInstances failed: ${e.name}: ${e.message}`, {
            cause: err,
          });
        }
      } while (token);
    }
    return out;
  }

  async terminatingInGroups(groupNames: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < groupNames.length; i += 100) {
      let token: string | undefined;
      do {
        try {
          const page = await this.client.send(
            new DescribeAutoScalingGroupsCommand({
              AutoScalingGroupNames: groupNames.slice(i, i + 100),
              MaxRecords: 100,
              NextToken: token,
            }),
          );
          for (const g of page.AutoScalingGroups ?? []) {
            for (const inst of g.Instances ?? []) {
              if (inst.InstanceId && inst.LifecycleState?.startsWith('Terminating')) out.add(inst.InstanceId);
            }
          }
          token = page.NextToken;
        } catch (err) {
          const e = err as { name?: string; message?: string };
          if (e.name === 'Throttling')
            throw new ThrottledError(`DescribeAutoScalingGroups: ${e.message}`, undefined, { cause: err });
          throw new LifecycleActionError(`DescribeAutoScalingGroups failed: ${e.name}: ${e.message}`, {
            cause: err,
          });
        }
      } while (token);
    }
    return out;
  }
}

/** Fake: the simulator marks instances whose terminate hook is pending. */
export class InMemoryInstanceLifecycle implements InstanceLifecycle {
  private readonly leaving = new Set<string>();
  calls = 0;
  markTerminating(id: string): void {
    this.leaving.add(id);
  }
  forget(id: string): void {
    this.leaving.delete(id);
  }
  async terminating(instanceIds: readonly string[]): Promise<Set<string>> {
    if (instanceIds.length > 0) this.calls += Math.ceil(instanceIds.length / IDS_PER_CALL);
    return new Set(instanceIds.filter((id) => this.leaving.has(id)));
  }
  async terminatingInGroups(groupNames: readonly string[]): Promise<Set<string>> {
    this.calls += Math.ceil(groupNames.length / 100);
    return new Set(this.leaving);
  }
}
