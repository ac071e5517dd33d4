/**
 * One terminate (or launch) lifecycle action, as the Auto Scaling event names it. Without a token
 * (a drain started by runner-drain's scheduled look: the event was lost, and no API returns the
 * token) the calls name the action by InstanceId, which CompleteLifecycleAction and
 * RecordLifecycleActionHeartbeat accept instead: the hook's action on that instance in that group.
 */
export interface LifecycleActionRef {
  autoScalingGroupName: string;
  lifecycleHookName: string;
  lifecycleActionToken?: string;
  instanceId: string;
}

/**
 * What the group's in-progress scaling activity for an instance does (DescribeScalingActivities):
 * `launch` (its Description begins "Launching a new EC2 instance", e.g. "... into warm pool: i-...")
 * or `leave` (any other: it is taken out of the group, terminated or returned to the warm pool).
 */
export type InstanceActivity = 'launch' | 'leave';

/**
 * How many of a group's scaling activities (newest first, one DescribeScalingActivities call) are
 * read for an instance's activity in progress; the look (groupInstances) and the drain (inspect)
 * read the same window, so an instance one adopts the other does not refuse. 100: the API's maximum.
 */
export const SCALING_ACTIVITY_WINDOW = 100;

/** One instance of a group as DescribeAutoScalingGroups (or DescribeWarmPool) reports it. */
export interface GroupInstance {
  instanceId: string;
  autoScalingGroupName: string;
  /** e.g. 'InService', 'Terminating:Wait', 'Terminating:Proceed', 'Warmed:Pending:Wait'. */
  lifecycleState: string;
  /** Only for Warmed:Pending:Wait: its activity in progress; undefined when none names it. */
  activity?: InstanceActivity;
}

/** The groups' instances, and the groups whose warm pool (or its activities) could not be read. */
export interface GroupListing {
  instances: GroupInstance[];
  /** A read failed for this group only: its other instances are listed; the error kept as read. */
  unread: { autoScalingGroupName: string; error: Error }[];
}

/**
 * Port: Auto Scaling lifecycle actions. 'gone' means Auto Scaling answered "No active Lifecycle
 * Action found": the token expired (heartbeat timeout) or was already used. That is final: record
 * it, never retry it (retrying loops forever).
 */
export interface LifecycleActions extends LifecycleInspector {
  heartbeat(ref: LifecycleActionRef): Promise<'recorded' | 'gone'>;
  complete(ref: LifecycleActionRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'gone'>;
  /**
   * Every instance of the named groups with its LifecycleState (DescribeAutoScalingGroups, every
   * page; DescribeWarmPool for a group with a warm pool; DescribeScalingActivities once for a group
   * with an instance in Warmed:Pending:Wait). A failed warm-pool read fails that group's part only
   * (`unread`); a failed DescribeAutoScalingGroups fails the call.
   */
  groupInstances(groupNames: readonly string[]): Promise<GroupListing>;
}

/**
 * A terminate lifecycle action as Auto Scaling itself reports it (never as a message says it):
 * the instance's group and LifecycleState (DescribeAutoScalingInstances), when the group's
 * terminating activity for it began (DescribeScalingActivities), and the named hook's timeouts on
 * that group (DescribeLifecycleHooks).
 */
export interface LifecycleActionView {
  autoScalingGroupName: string;
  /** e.g. 'Terminating:Wait', 'Terminating:Proceed', 'Warmed:Pending:Wait' (scale-in into a warm pool), 'InService'. */
  lifecycleState: string;
  /** Start of the group's in-progress activity for the instance; undefined if none is listed. */
  startedAt?: Date;
  /** What that activity does (a launch into the warm pool waits in Warmed:Pending:Wait too). */
  activity?: InstanceActivity;
  /** The named hook on the instance's group; undefined if no hook was asked for or the group has none by that name. */
  hook?: { heartbeatTimeoutSeconds: number; globalTimeoutSeconds: number };
}

/** Reads of the lifecycle state behind an action (read-only: safe in dry run, never mutating). */
export interface LifecycleInspector {
  /** undefined: Auto Scaling describes the instance in no group (gone, or never in one). */
  inspect(instanceId: string, hookName?: string): Promise<LifecycleActionView | undefined>;
}
