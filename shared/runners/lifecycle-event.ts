import { z } from 'zod';

export const TERMINATE_LIFECYCLE_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';

/** EventBridge event Auto Scaling sends when a terminate lifecycle hook starts (AWS event reference). */
export const TerminateLifecycleEventSchema = z.object({
  id: z.string().min(1),
  source: z.literal('aws.autoscaling'),
  'detail-type': z.literal(TERMINATE_LIFECYCLE_DETAIL_TYPE),
  time: z.string().min(1),
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

/** What runner-drain puts back on its own queue to look again later. */
export const DrainRetrySchema = z.object({
  fleetwarden: z.literal('drain-retry'),
  attempt: z.number().int().min(1),
  event: TerminateLifecycleEventSchema,
  /** Ids of the instance's runners seen so far: the next look reads them by id, not every page. */
  runnerIds: z.array(z.number().int().positive()).max(20).optional(),
  /**
   * The previous look found no runner for the instance, in its listing nor by name: this look's
   * listing is the second one that confirms the absence (two full listings in one 60 s invocation
   * cost 200 pages at 10,000 runners).
   */
  absentOnce: z.boolean().optional(),
  /**
   * When this drain's deadline clock started, as the first look found it (the group's own activity
   * start, else that look's time); never the event's time.
   */
  startedAt: z.iso.datetime({ offset: true }).optional(),
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
