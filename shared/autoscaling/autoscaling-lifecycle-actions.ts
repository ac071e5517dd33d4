import {
  type AutoScalingClient,
  CompleteLifecycleActionCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DescribeLifecycleHooksCommand,
  DescribeScalingActivitiesCommand,
  DescribeWarmPoolCommand,
  RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { defaultAutoScalingClient } from '../aws/clients';
import { ThrottledError } from '../core/errors';
import { LifecycleActionError } from './errors';
import {
  type GroupInstance,
  type GroupListing,
  type InstanceActivity,
  type LifecycleActionRef,
  type LifecycleActions,
  type LifecycleActionView,
  SCALING_ACTIVITY_WINDOW,
} from './port';

const GONE = /No active Lifecycle Action found/i;

function classify(err: unknown, what: string): 'gone' {
  const e = err as { name?: string; message?: string };
  if (e.name === 'ValidationError' && GONE.test(e.message ?? '')) return 'gone';
  if (e.name === 'Throttling' || e.name === 'ThrottlingException') {
    throw new ThrottledError(`Auto Scaling ${what}: ${e.message}`, undefined, { cause: err });
  }
  throw new LifecycleActionError(`Auto Scaling ${what} failed: ${e.name}: ${e.message}`, { cause: err });
}

/** A failed Describe* call: throttling as ThrottledError, anything else LifecycleActionError (with the cause). */
function describeFailed(err: unknown, what: string): never {
  const e = err as { name?: string; message?: string };
  if (e.name === 'Throttling' || e.name === 'ThrottlingException')
    throw new ThrottledError(`Auto Scaling ${what}: ${e.message}`, undefined, { cause: err });
  throw new LifecycleActionError(`Auto Scaling ${what} failed: ${e.name}: ${e.message}`, { cause: err });
}

/** Activities that are over; any other StatusCode (e.g. WaitingForInstanceWarmup, MidLifecycleAction, InProgress) is in progress. */
const FINISHED = new Set(['Successful', 'Failed', 'Cancelled']);

type Activity = { Description?: string; StatusCode?: string; StartTime?: Date };

/** The group's in-progress activity for the instance (newest first), if any names it. */
const pendingFor = (activities: Activity[] | undefined, instanceId: string) =>
  activities?.find((x) => x.Description?.includes(instanceId) && !FINISHED.has(x.StatusCode ?? ''));

/**
 * A launch ("Launching a new EC2 instance: i-...", "... into warm pool: i-...", "... from warm
 * pool: i-...") or any other activity, which takes the instance out of the group.
 */
const activityOf = (a: Activity): InstanceActivity =>
  a.Description?.startsWith('Launching') ? 'launch' : 'leave';

/** The action's names for a lifecycle call: the token when known, the instance id always. */
const actionOf = (ref: LifecycleActionRef) => ({
  AutoScalingGroupName: ref.autoScalingGroupName,
  LifecycleHookName: ref.lifecycleHookName,
  ...(ref.lifecycleActionToken ? { LifecycleActionToken: ref.lifecycleActionToken } : {}),
  InstanceId: ref.instanceId,
});

/** DescribeAutoScalingGroups names at most 100 groups a call. */
const GROUPS_PER_CALL = 100;

/** The instances a Describe* call lists, with their group and lifecycle state. */
const listed = (
  group: string,
  instances: readonly { InstanceId?: string; LifecycleState?: string }[] | undefined,
): GroupInstance[] =>
  (instances ?? []).flatMap((x) =>
    x.InstanceId && x.LifecycleState
      ? [{ instanceId: x.InstanceId, autoScalingGroupName: group, lifecycleState: x.LifecycleState }]
      : [],
  );

/** Auto Scaling lifecycle calls behind the LifecycleActions port (token or instance, hook, group). */
export class AutoScalingLifecycleActions implements LifecycleActions {
  constructor(private readonly client: AutoScalingClient = defaultAutoScalingClient()) {}

  async heartbeat(ref: LifecycleActionRef): Promise<'recorded' | 'gone'> {
    try {
      await this.client.send(new RecordLifecycleActionHeartbeatCommand(actionOf(ref)));
      return 'recorded';
    } catch (err) {
      return classify(err, 'RecordLifecycleActionHeartbeat');
    }
  }

  async complete(ref: LifecycleActionRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'gone'> {
    try {
      await this.client.send(
        new CompleteLifecycleActionCommand({ ...actionOf(ref), LifecycleActionResult: result }),
      );
      return 'completed';
    } catch (err) {
      return classify(err, 'CompleteLifecycleAction');
    }
  }

  /**
   * DescribeAutoScalingGroups, and DescribeWarmPool for a group with a warm pool: an instance a
   * scale-in returns to the warm pool waits there on the terminate hook (Warmed:Pending:Wait), and
   * only DescribeWarmPool lists the warm pool's instances.
   */
  async groupInstances(groupNames: readonly string[]): Promise<GroupListing> {
    const out: GroupInstance[] = [];
    const pooled: string[] = [];
    const unread: GroupListing['unread'] = [];
    for (let i = 0; i < groupNames.length; i += GROUPS_PER_CALL) {
      let token: string | undefined;
      do {
        const page = await this.client
          .send(
            new DescribeAutoScalingGroupsCommand({
              AutoScalingGroupNames: groupNames.slice(i, i + GROUPS_PER_CALL),
              MaxRecords: GROUPS_PER_CALL,
              NextToken: token,
            }),
          )
          .catch((err: unknown) => describeFailed(err, 'DescribeAutoScalingGroups'));
        for (const g of page.AutoScalingGroups ?? []) {
          if (!g.AutoScalingGroupName) continue;
          if (g.WarmPoolConfiguration) pooled.push(g.AutoScalingGroupName);
          out.push(...listed(g.AutoScalingGroupName, g.Instances));
        }
        token = page.NextToken;
      } while (token);
    }
    // a warm pool that cannot be read (AccessDenied: a role not updated yet; throttling) fails
    // that group's warm part only
    for (const group of pooled)
      try {
        out.push(...(await this.warmPoolInstances(group)));
      } catch (error) {
        unread.push({ autoScalingGroupName: group, error: error as Error });
      }
    return { instances: [...new Map(out.map((x) => [x.instanceId, x])).values()], unread };
  }

  /**
   * The warm pool's instances; one in Warmed:Pending:Wait with what its activity in progress does
   * (a launch into the warm pool waits there too, on a launch hook): one DescribeScalingActivities.
   */
  private async warmPoolInstances(group: string): Promise<GroupInstance[]> {
    const out: GroupInstance[] = [];
    let token: string | undefined;
    do {
      const page = await this.client
        .send(new DescribeWarmPoolCommand({ AutoScalingGroupName: group, MaxRecords: 50, NextToken: token }))
        .catch((err: unknown) => describeFailed(err, 'DescribeWarmPool'));
      out.push(...listed(group, page.Instances));
      token = page.NextToken;
    } while (token);
    const waiting = out.filter((x) => x.lifecycleState === 'Warmed:Pending:Wait');
    if (waiting.length) {
      const { Activities } = await this.client
        .send(
          new DescribeScalingActivitiesCommand({
            AutoScalingGroupName: group,
            MaxRecords: SCALING_ACTIVITY_WINDOW,
          }),
        )
        .catch((err: unknown) => describeFailed(err, 'DescribeScalingActivities'));
      for (const x of waiting) {
        const a = pendingFor(Activities, x.instanceId);
        if (a) x.activity = activityOf(a);
      }
    }
    return out;
  }

  async inspect(instanceId: string, hookName?: string): Promise<LifecycleActionView | undefined> {
    try {
      const described = await this.client.send(
        new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }),
      );
      const a = described.AutoScalingInstances?.find((x) => x.InstanceId === instanceId);
      if (!a?.AutoScalingGroupName || !a.LifecycleState) return undefined;
      const group = a.AutoScalingGroupName;
      const [hooks, activities] = await Promise.all([
        hookName
          ? this.client.send(
              new DescribeLifecycleHooksCommand({
                AutoScalingGroupName: group,
                LifecycleHookNames: [hookName],
              }),
            )
          : undefined,
        // newest first, the same window as groupInstances (an instance the look adopts is seen here)
        this.client.send(
          new DescribeScalingActivitiesCommand({
            AutoScalingGroupName: group,
            MaxRecords: SCALING_ACTIVITY_WINDOW,
          }),
        ),
      ]);
      const h = hooks?.LifecycleHooks?.find((x) => x.LifecycleHookName === hookName);
      const activity = pendingFor(activities.Activities, instanceId);
      return {
        autoScalingGroupName: group,
        lifecycleState: a.LifecycleState,
        ...(activity?.StartTime ? { startedAt: activity.StartTime } : {}),
        ...(activity ? { activity: activityOf(activity) } : {}),
        ...(h?.HeartbeatTimeout !== undefined && h.GlobalTimeout !== undefined
          ? { hook: { heartbeatTimeoutSeconds: h.HeartbeatTimeout, globalTimeoutSeconds: h.GlobalTimeout } }
          : {}),
      };
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'Throttling' || e.name === 'ThrottlingException')
        throw new ThrottledError(`Auto Scaling Describe*: ${e.message}`, undefined, { cause: err });
      throw new LifecycleActionError(
        `Auto Scaling Describe* (lifecycle state of ${instanceId}) failed: ${e.name}: ${e.message}`,
        { cause: err },
      );
    }
  }
}
