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
});
export type DrainRetry = z.infer<typeof DrainRetrySchema>;
