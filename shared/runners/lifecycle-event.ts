import '../core/zod-locale';
import * as z from 'zod/mini';

export const TERMINATE_LIFECYCLE_DETAIL_TYPE = 'EC2 Instance-terminate Lifecycle Action';

/** EventBridge event Auto Scaling sends when a terminate lifecycle hook starts (AWS event reference). */
export const TerminateLifecycleEventSchema = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.literal('aws.autoscaling'),
  'detail-type': z.literal(TERMINATE_LIFECYCLE_DETAIL_TYPE),
  time: z.string().check(z.minLength(1)),
  /** Where the action is (a spoke's, forwarded to the hub): kept so a drain retry stays in its scope. */
  account: z.optional(z.string()),
  region: z.optional(z.string()),
  detail: z.object({
    LifecycleActionToken: z.string().check(z.minLength(1)),
    AutoScalingGroupName: z.string().check(z.minLength(1)),
    LifecycleHookName: z.string().check(z.minLength(1)),
    EC2InstanceId: z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/)),
    LifecycleTransition: z.literal('autoscaling:EC2_INSTANCE_TERMINATING'),
    /** e.g. 'AutoScalingGroup' (a hint: the drain trusts Auto Scaling's LifecycleState). */
    Origin: z.optional(z.string().check(z.minLength(1))),
    /** 'EC2' (terminated) or 'WarmPool' (scale-in into a warm pool: the instance comes back). */
    Destination: z.optional(z.string().check(z.minLength(1))),
  }),
});
export type TerminateLifecycleEvent = z.infer<typeof TerminateLifecycleEventSchema>;

/** The source of a drain runner-drain's scheduled look started (the lifecycle event was lost). */
export const DRAIN_LOOK_SOURCE = 'fleetwarden.drain-look';

/**
 * A drain the scheduled look started for an instance Auto Scaling shows in Terminating:Wait that no
 * drain has looked at: the event's shape without the token (no API returns it; the lifecycle calls
 * name the action by InstanceId). A hint like any event: re-verified the same way.
 */
export const AdoptedLifecycleEventSchema = z.extend(TerminateLifecycleEventSchema, {
  source: z.literal(DRAIN_LOOK_SOURCE),
  detail: z.omit(TerminateLifecycleEventSchema.shape.detail, { LifecycleActionToken: true }),
});
export type AdoptedLifecycleEvent = z.infer<typeof AdoptedLifecycleEventSchema>;
/** What a drain drains: the lifecycle event, or the drain the look started in its place. */
export type DrainEvent = TerminateLifecycleEvent | AdoptedLifecycleEvent;

/** EventBridge's scheduled event: runner-drain's look for lifecycle actions whose event was lost. */
export const ScheduledLookSchema = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: z.string().check(z.minLength(1)),
  account: z.optional(z.string()),
  region: z.optional(z.string()),
});
export type ScheduledLook = z.infer<typeof ScheduledLookSchema>;

/** The source of the hub's scheduled look fanned out to one spoke (runner-drain's own queue). */
export const DRAIN_SPOKE_LOOK_SOURCE = 'fleetwarden.drain-spoke-look';

/**
 * The hub's scheduled look, fanned out to one spoke scope on runner-drain's own queue: its top-level
 * account/region route it to that spoke's ports (an unknown one is refused by the scope routing);
 * it looks there only and never fans out again. `id` is the schedule's id and the scope.
 */
export const SpokeLookSchema = z.extend(ScheduledLookSchema, {
  source: z.literal(DRAIN_SPOKE_LOOK_SOURCE),
  'detail-type': z.literal('Drain Spoke Look'),
  account: z.string(),
  region: z.string(),
});
export type SpokeLook = z.infer<typeof SpokeLookSchema>;
/** A look of the drain: the schedule's own (the hub's), or its fan-out to a spoke. */
export type DrainLook = ScheduledLook | SpokeLook;

/** What runner-drain puts back on its own queue to look again later: which action, which look. */
export const DrainRetrySchema = z.object({
  fleetwarden: z.literal('drain-retry'),
  attempt: z.int().check(z.minimum(1)),
  event: z.union([TerminateLifecycleEventSchema, AdoptedLifecycleEventSchema]),
  // Nothing else: what earlier looks found (first look, runners, an absence) is the drain's own
  // state (DrainStateStore), never the message's; a field a sender adds here is dropped unread.
});
export type DrainRetry = z.infer<typeof DrainRetrySchema>;
/** What runner-drain sends to its own queue: a look again, a drain its scheduled look started, or a spoke's look. */
export type DrainQueueMessage = DrainRetry | AdoptedLifecycleEvent | SpokeLook;

export const SPOT_INTERRUPTION_DETAIL_TYPE = 'EC2 Spot Instance Interruption Warning';

/** EventBridge event EC2 sends two minutes before it interrupts a Spot Instance (AWS event reference). */
export const SpotInterruptionEventSchema = z.object({
  id: z.string().check(z.minLength(1)),
  source: z.literal('aws.ec2'),
  'detail-type': z.literal(SPOT_INTERRUPTION_DETAIL_TYPE),
  time: z.string().check(z.minLength(1)),
  detail: z.object({
    'instance-id': z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/)),
    'instance-action': z.string().check(z.minLength(1)),
  }),
});
export type SpotInterruptionEvent = z.infer<typeof SpotInterruptionEventSchema>;
