/**
 * The fleet scenario's ground truth and the events it sends, apart from the scenario itself so
 * that fault and invariant modules (and the CLI's fault flags) can read them without loading it.
 */
import type { InstanceState } from '../../shared/ec2/port';

export const ASG = 'ci-runners';
/** The fleet tag of the simulated fleet (config's default fleetTag): its runners and their volumes carry it. */
export const FLEET_TAG = { key: 'fleetwarden:fleet', value: 'runners' } as const;
/** Who terminates the web hosts by hand in the scenario (CloudTrail shows it as the trigger's actor). */
export const OPERATOR =
  'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Operator_0123456789abcdef/alice@example.com';

/** What really happened to an instance: the simulator's ground truth for the invariants. */
export interface TruthInstance {
  id: string;
  /**
   * web: a DNS host named by tag; runner: in the runner ASG; spoofed: carries the fleet tag but is in
   * no configured ASG; outsider: another team's instance that opts in to nothing.
   */
  kind: 'web' | 'runner' | 'spoofed' | 'outsider';
  /** The Auto Scaling group it belongs to (aws:autoscaling:groupName), if any. */
  asg?: string;
  name: string;
  ip: string;
  state: InstanceState;
  runnerId?: number;
  /** A job is running on it right now (truth, not GitHub's view). */
  jobRunning: boolean;
  /** The job running (or last run) on it. */
  jobId?: number;
  /** When the running job started. */
  jobStartedAt?: number;
  neverRegisters: boolean;
  /** The account/region it runs in (hub and spokes); absent: the hub's. */
  scope?: { account: string; region: string };
  /** When it last entered pending (EC2's LaunchTime: the last start). */
  launchedAt?: number;
}

/**
 * Why an instance went while its job was running: the fleet completed the terminate lifecycle
 * action (before or after the drain deadline), the fleet terminated it (runner-sweep), the hook's
 * heartbeat ran out, or someone else (spot interruption, an operator).
 */
export type KillCause =
  | 'fleet-completed-hook'
  | 'fleet-deadline'
  | 'fleet-terminated'
  | 'hook-timeout'
  | 'other';
export interface KilledJob {
  jobId: number;
  instanceId: string;
  runnerName: string;
  cause: KillCause;
  at: number;
  /** For hook causes: how long the hook held the instance. */
  heldMs?: number;
}

/** A terminate lifecycle action the runner ASG started for the fleet's hook. */
export interface FleetHook {
  token: string;
  instanceId: string;
  startedAt: number;
  hookName: string;
  heartbeatTimeoutMs: number;
  /** The account/region of the group (a spoke's runner ASG); absent: the hub's. */
  scope?: { account: string; region: string };
}

/** Another team's terminate hook on the runner ASG: it completes by timing out. */
export interface ForeignHook {
  name: string;
  heartbeatTimeoutMs: number;
  /** Told of each lifecycle event of the hook (a fault may send it where it should not go). */
  onEvent?: (event: Record<string, unknown>) => void;
}

/** A runner instance back from the warm pool, and the runner it had when it came back. */
export interface WarmReturn {
  instanceId: string;
  runnerId?: number;
  at: number;
}

export const LEAVING = new Set<InstanceState>(['shutting-down', 'terminated']);

export function tagsOf(t: TruthInstance): Record<string, string> {
  const asg: Record<string, string> = t.asg ? { 'aws:autoscaling:groupName': t.asg } : {};
  if (t.kind === 'web') return { 'fleetwarden:dns-name': t.name };
  if (t.kind === 'outsider') return asg;
  return { [FLEET_TAG.key]: FLEET_TAG.value, ...asg };
}

/** The EventBridge event Auto Scaling sends when a terminate lifecycle action starts. */
export function lifecycleEvent(
  ref: {
    autoScalingGroupName: string;
    lifecycleHookName: string;
    lifecycleActionToken: string;
    instanceId: string;
  },
  id: string,
  at: number,
  /** More detail fields (a warm-pool scale-in: Origin, Destination). */
  extra: Record<string, string> = {},
): Record<string, unknown> {
  return {
    version: '0',
    id,
    'detail-type': 'EC2 Instance-terminate Lifecycle Action',
    source: 'aws.autoscaling',
    account: '123456789012',
    time: new Date(at).toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail: {
      LifecycleActionToken: ref.lifecycleActionToken,
      AutoScalingGroupName: ref.autoScalingGroupName,
      LifecycleHookName: ref.lifecycleHookName,
      EC2InstanceId: ref.instanceId,
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      ...extra,
    },
  };
}
