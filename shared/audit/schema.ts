import '../core/zod-locale';
import * as z from 'zod/mini';
import { isoDateTime } from '../core/zod-parts';

/**
 * The audit record: one per decision a fleetwarden function takes about one subject, whether it
 * acted, skipped, refused or only reported. A record that changes the fleet is written twice under
 * one recordId: first as 'intended' (before the change is sent: no intent record, no action), then
 * as the outcome. Versioned: readers accept every version they know and
 * refuse the rest. Every AWS call the decision made is listed with its SDK request id, so that
 * `audit-correlate` can find the CloudTrail event that proves it happened.
 */
export const AUDIT_SCHEMA_VERSION = 1 as const;

const isoTime = isoDateTime({ offset: true });
const nonEmpty = () => z.string().check(z.minLength(1));

export const AwsCallSchema = z.object({
  /** SDK client name without the "Client" suffix, e.g. "Route53", "EC2", "AutoScaling". */
  service: nonEmpty(),
  /** API operation without the "Command" suffix, e.g. "ChangeResourceRecordSets". */
  operation: nonEmpty(),
  time: isoTime,
  /** x-amzn-RequestId as returned by the service; CloudTrail records it as requestID. */
  requestId: z.optional(nonEmpty()),
  outcome: z.enum(['success', 'error']),
  errorName: z.optional(z.string()),
  httpStatus: z.optional(z.int()),
});
export type AwsCall = z.infer<typeof AwsCallSchema>;

export const GitHubCallSchema = z.object({
  method: nonEmpty(),
  /** Route template, e.g. "DELETE /orgs/{org}/actions/runners/{runner_id}". */
  route: nonEmpty(),
  time: isoTime,
  status: z.int(),
  /** x-github-request-id response header. */
  requestId: z.optional(z.string()),
});
export type GitHubCall = z.infer<typeof GitHubCallSchema>;

export const TriggerSchema = z.object({
  /** EventBridge source ("aws.ec2", "aws.autoscaling", "fleetwarden.github", "fleetwarden.schedule"). */
  source: nonEmpty(),
  /** EventBridge event id, or the schedule run id. */
  id: nonEmpty(),
  detailType: z.optional(z.string()),
  time: z.optional(isoTime),
  /** X-GitHub-Delivery of the webhook behind this event, when there is one. */
  githubDeliveryId: z.optional(z.string()),
});
export type Trigger = z.infer<typeof TriggerSchema>;

export const SubjectSchema = z
  .object({
    instanceId: z.optional(z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/))),
    runnerName: z.optional(nonEmpty()),
    runnerId: z.optional(z.int()),
    recordName: z.optional(nonEmpty()),
    autoScalingGroupName: z.optional(nonEmpty()),
  })
  .check(
    z.refine((s) => Object.values(s).some((v) => v !== undefined), {
      message:
        'a subject needs at least one of instanceId, runnerName, runnerId, recordName, autoScalingGroupName',
    }),
  );
export type Subject = z.infer<typeof SubjectSchema>;

export const CorrelationSchema = z.object({
  status: z.enum(['pending', 'resolved', 'unresolved', 'not-applicable']),
  /** When correlation should stop trying and mark the record unresolved. */
  deadline: z.optional(isoTime),
  attempts: z._default(z.int().check(z.nonnegative()), 0),
  /** CloudTrail eventID of each call this record made, keyed by the call's SDK request id. */
  calls: z._default(
    z.array(
      z.object({
        requestId: z.string(),
        eventId: z.string(),
        eventName: z.string(),
        /** When CloudTrail says the call happened (added in a compatible extension; optional). */
        eventTime: z.optional(isoTime),
      }),
    ),
    [],
  ),
  /** The CloudTrail event of the change that triggered the action (e.g. who called TerminateInstances). */
  trigger: z.optional(
    z.object({
      eventId: z.string(),
      eventName: z.string(),
      eventTime: isoTime,
      actor: z.string(),
    }),
  ),
  resolvedAt: z.optional(isoTime),
  /** When correlation last looked in CloudTrail. */
  lastAttemptAt: z.optional(isoTime),
  /** Why a record was marked unresolved (e.g. which request ids CloudTrail never showed). */
  unresolvedReason: z.optional(z.string()),
  /**
   * Earliest time the correlator looks again (backoff between attempts, so records CloudTrail does
   * not have yet do not spend the 2 req/s budget before newer ones). Compatible extension; optional.
   */
  nextAttemptAt: z.optional(isoTime),
  /** The error of the last attempt, when it failed (the record stays pending with a backoff). */
  lastError: z.optional(z.string()),
});
export type Correlation = z.infer<typeof CorrelationSchema>;

export const AuditRecordSchema = z.object({
  schemaVersion: z.literal(AUDIT_SCHEMA_VERSION),
  recordId: nonEmpty(),
  time: isoTime,
  /** The function (or tool) that decided, e.g. "dns-sync". */
  function: nonEmpty(),
  /**
   * The account the decision is about (hub and spokes, README "Hub and spokes"): filled by the
   * kernel from the run's scope. Absent: the hub's own account (every record before spokes).
   */
  account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit account id'))),
  /** The region the decision is about, with `account`. Absent: the hub's own region. */
  region: z.optional(nonEmpty()),
  trigger: TriggerSchema,
  subject: SubjectSchema,
  /** What was decided about, dotted: "dns.upsert", "dns.delete", "runner.deregister", "lifecycle.complete". */
  action: z.string().check(z.regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/)),
  /**
   * What was decided. 'intended' is written by auditedAction BEFORE the step's first fleet-mutating
   * call (shared/audit/fleet-mutating.ts), under the same recordId; the outcome (acted, skipped,
   * refused, failed, reported) then overwrites it. A stored 'intended' record therefore means the
   * step never finished (a crash or timeout between intent and outcome): the intended call may or
   * may not have been sent ("intended, outcome unknown"; check CloudTrail). It is never queued for
   * correlation (its calls are only the reads made before the intent).
   */
  decision: z.enum(['intended', 'acted', 'skipped', 'refused', 'failed', 'reported']),
  reason: nonEmpty(),
  mode: z.enum(['dry-run', 'live']),
  calls: z._default(z.array(AwsCallSchema), []),
  githubCalls: z._default(z.array(GitHubCallSchema), []),
  /** Free-form facts the decision relied on (record values, runner status, counts). */
  details: z._default(z.record(z.string(), z.unknown()), {}),
  correlation: z._default(CorrelationSchema, { status: 'pending', attempts: 0, calls: [] }),
});
export type AuditRecord = z.infer<typeof AuditRecordSchema>;
export type AuditRecordInput = z.input<typeof AuditRecordSchema>;
