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

/**
 * Fake with Auto Scaling's semantics: instances belong to groups and have a LifecycleState; only
 * Terminating* counts as leaving; `terminatingInGroups` answers the named groups only; throttling
 * fails the call. `markTerminating(id)` (the simulator's, group unknown) counts in every group.
 */
export class InMemoryInstanceLifecycle implements InstanceLifecycle {
  private readonly instances = new Map<string, { group: string | undefined; state: string }>();
  private throttles = 0;
  calls = 0;

  /** An instance of `group` in `lifecycleState` (InService, Terminating:Wait, ...). */
  put(group: string, instanceId: string, lifecycleState: string): void {
    this.instances.set(instanceId, { group, state: lifecycleState });
  }
  markTerminating(id: string, group?: string): void {
    this.instances.set(id, { group: group ?? this.instances.get(id)?.group, state: 'Terminating:Wait' });
  }
  forget(id: string): void {
    this.instances.delete(id);
  }
  throttleNext(count = 1): void {
    this.throttles += count;
  }

  private call(what: string): void {
    this.calls++;
    if (this.throttles > 0) {
      this.throttles--;
      throw new ThrottledError(`${what}: Rate exceeded`, undefined);
    }
  }

  private leaving(id: string): boolean {
    return this.instances.get(id)?.state.startsWith('Terminating') ?? false;
  }

  async terminating(instanceIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < instanceIds.length; i += IDS_PER_CALL) {
      this.call('DescribeAutoScalingInstances');
      for (const id of instanceIds.slice(i, i + IDS_PER_CALL)) if (this.leaving(id)) out.add(id);
    }
    return out;
  }

  async terminatingInGroups(groupNames: readonly string[]): Promise<Set<string>> {
    const wanted = new Set(groupNames);
    for (let i = 0; i < groupNames.length; i += 100) this.call('DescribeAutoScalingGroups');
    const out = new Set<string>();
    for (const [id, v] of this.instances) {
      if ((v.group === undefined || wanted.has(v.group)) && this.leaving(id)) out.add(id);
    }
    return out;
  }
}
