import * as z from 'zod';

export const TERMINATE_LIFECYCLE_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';

/** EventBridge event Auto Scaling sends when a terminate lifecycle hook starts (AWS event reference). */
export const TerminateLifecycleEventSchema = z.object({
  id: z.string().min(1),
  source: z.literal('aws.autoscaling'),
  'detail-type': z.literal(TERMINATE_LIFECYCLE_DETAIL_TYPE),
  time: z.string().min(1),
  /** Where the action is (a spoke's, forwarded to the hub): kept so a drain retry stays in its scope. */
  account: z.string().optional(),
  region: z.string().optional(),
  detail: z.object({
    LifecycleActionToken: z.string().min(1),
    AutoScalingGroupName: z.string().min(1),
    LifecycleHookName: z.string().min(1),
    EC2InstanceId: z.string().regex(/^i-[0-9a-f]{8,17}$/),
    LifecycleTransition: z.literal('autoscaling:EC2_INSTANCE_TERMINATING'),
    /** e.g. 'AutoScalingGroup' (a hint: the drain trusts Auto Scaling's LifecycleState). */
    Origin: z.string().min(1).optional(),
    /** 'EC2' (terminated) or 'WarmPool' (scale-in into a warm pool: the instance comes back). */
    Destination: z.string().min(1).optional(),
  }),
});
export type TerminateLifecycleEvent = z.infer<typeof TerminateLifecycleEventSchema>;

/** What runner-drain puts back on its own queue to look again later: which action, which look. */
export const DrainRetrySchema = z.object({
  fleetwarden: z.literal('drain-retry'),
  attempt: z.number().int().min(1),
  event: TerminateLifecycleEventSchema,
  // Nothing else: what earlier looks found (first look, runners, an absence) is the drain's own
  // state (DrainStateStore), never the message's; a field a sender adds here is dropped unread.
});
export type DrainRetry = z.infer<typeof DrainRetrySchema>;

export const SPOT_INTERRUPTION_DETAIL_TYPE = 'EC2 Spot Instance Interruption Warning';

/** EventBridge event EC2 sends two minutes before it interrupts a Spot Instance (AWS event reference). */
export const SpotInterruptionEventSchema = z.object({
  id: z.string().min(1),
  source: z.literal('aws.ec2'),
  'detail-type': z.literal(SPOT_INTERRUPTION_DETAIL_TYPE),
  time: z.string().min(1),
  detail: z.object({
    'instance-id': z.string().regex(/^i-[0-9a-f]{8,17}$/),
    'instance-action': z.string().min(1),
  }),
});
export type SpotInterruptionEvent = z.infer<typeof SpotInterruptionEventSchema>;
