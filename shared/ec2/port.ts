/**
 * Port: what fleetwarden needs to know about EC2 instances. Implementations: the EC2 SDK adapter
 * and an in-memory fake that models DescribeInstances' eventual consistency (a state change is
 * visible only after a lag; a terminated instance stays describable for a while, possibly without
 * its private IP; unknown ids are simply absent, never an error).
 */
export type InstanceState = 'pending' | 'running' | 'stopping' | 'stopped' | 'shutting-down' | 'terminated';

export interface InstanceInfo {
  instanceId: string;
  state: InstanceState;
  privateIp?: string;
  publicIp?: string;
  /** All tags, including aws:autoscaling:groupName for ASG members. */
  tags: Record<string, string>;
  launchTime?: string;
  /**
   * When the instance entered its current stopping/stopped/shutting-down/terminated state (EC2
   * reports it in StateTransitionReason, e.g. "User initiated (2026-11-24 10:00:00 GMT)"). Absent for
   * pending/running, or when EC2 gives no time.
   */
  stateChangedAt?: string;
  autoScalingGroupName?: string;
}

export interface InstanceInventory {
  /** Describe these ids. Ids EC2 does not know (yet, or any more) are omitted, not thrown. */
  describe(instanceIds: readonly string[]): Promise<InstanceInfo[]>;
  /**
   * Every instance carrying tag `key` (with `value` when given), in any state but terminated,
   * reading every page. Throws if any page fails: a partial listing is never returned.
   */
  listByTag(key: string, value?: string): Promise<InstanceInfo[]>;
  /**
   * Every instance in one of `states`, tagged or not, reading every page. Throws if any page fails.
   * (dns-reconcile: an untagged instance whose `running` event was lost still gets its record.)
   */
  listInStates(states: readonly InstanceState[]): Promise<InstanceInfo[]>;
}
