import '../core/zod-locale';
import * as z from 'zod/mini';
import { FleetwardenError } from '../core/errors';

/** A CloudTrail event as fleetwarden uses it: the ids that prove a call, and who made it. */
export interface TrailEvent {
  /** CloudTrail's own GUID for the event (eventID). */
  eventId: string;
  eventName: string;
  eventSource: string;
  /** ISO time of the call, as CloudTrail recorded it. */
  eventTime: string;
  /** The request id the called service returned (requestID); absent for some console/service events. */
  requestId?: string;
  /** Who made the call: the identity ARN (assumed-role ARNs include the session), or the invoking service. */
  actor: string;
  region?: string;
  readOnly?: boolean;
  resources: { type?: string; name?: string }[];
  /** The role behind an assumed-role session (userIdentity.sessionContext.sessionIssuer.arn): no caller picks it. */
  sessionIssuer?: string;
  /** The call's request parameters as CloudTrail logged them (e.g. Route 53's hostedZoneId). */
  requestParameters?: Record<string, unknown>;
}

/** A CloudTrailEvent JSON document was not what CloudTrail documents. */
export class MalformedTrailEventError extends FleetwardenError {
  override readonly name: string = 'MalformedTrailEventError';
}

const UserIdentity = z.looseObject({
  type: z.optional(z.string()),
  arn: z.optional(z.string()),
  principalId: z.optional(z.string()),
  invokedBy: z.optional(z.string()),
  userName: z.optional(z.string()),
  sessionContext: z.optional(
    z.looseObject({ sessionIssuer: z.optional(z.looseObject({ arn: z.optional(z.string()) })) }),
  ),
});
const nonEmpty = () => z.string().check(z.minLength(1));

/** The fields we read from the CloudTrailEvent JSON string (everything else passes through). */
const CloudTrailEventJson = z.looseObject({
  eventID: nonEmpty(),
  eventName: nonEmpty(),
  eventSource: nonEmpty(),
  eventTime: nonEmpty(),
  awsRegion: z.optional(z.string()),
  requestID: z.optional(z.string()),
  readOnly: z.optional(z.boolean()),
  userIdentity: z.optional(UserIdentity),
  requestParameters: z.nullish(z.record(z.string(), z.unknown())),
});

/** The shape LookupEvents returns per event (SDK v3: EventTime is a Date, CloudTrailEvent a JSON string). */
export interface LookupEventsEvent {
  EventId?: string;
  EventName?: string;
  EventSource?: string;
  EventTime?: Date;
  Username?: string;
  ReadOnly?: string;
  Resources?: { ResourceType?: string; ResourceName?: string }[];
  CloudTrailEvent?: string;
}

export function actorOf(identity: z.infer<typeof UserIdentity> | undefined, username?: string): string {
  if (identity?.type === 'AWSService' && identity.invokedBy) return identity.invokedBy;
  return identity?.arn ?? identity?.invokedBy ?? identity?.principalId ?? username ?? 'unknown';
}

/** Turn one LookupEvents entry into a TrailEvent, reading requestID and userIdentity from its JSON. */
export function parseLookupEvent(raw: LookupEventsEvent): TrailEvent {
  let json: unknown;
  try {
    json = JSON.parse(raw.CloudTrailEvent ?? '');
  } catch (err) {
    throw new MalformedTrailEventError(
      `CloudTrail event ${raw.EventId ?? '<no id>'} has no valid CloudTrailEvent JSON`,
      {
        cause: err,
      },
    );
  }
  const parsed = CloudTrailEventJson.safeParse(json);
  if (!parsed.success) {
    throw new MalformedTrailEventError(
      `CloudTrail event ${raw.EventId ?? '<no id>'}: ${parsed.error.message}`,
      {
        cause: parsed.error,
      },
    );
  }
  const e = parsed.data;
  return {
    eventId: e.eventID,
    eventName: e.eventName,
    eventSource: e.eventSource,
    eventTime: new Date(e.eventTime).toISOString(),
    ...(e.requestID ? { requestId: e.requestID } : {}),
    actor: actorOf(e.userIdentity, raw.Username),
    ...(e.awsRegion ? { region: e.awsRegion } : {}),
    ...(e.readOnly !== undefined ? { readOnly: e.readOnly } : {}),
    ...(e.userIdentity?.sessionContext?.sessionIssuer?.arn
      ? { sessionIssuer: e.userIdentity.sessionContext.sessionIssuer.arn }
      : {}),
    ...(e.requestParameters && Object.keys(e.requestParameters).length > 0
      ? { requestParameters: e.requestParameters }
      : {}),
    resources: (raw.Resources ?? []).map((r) => ({
      ...(r.ResourceType ? { type: r.ResourceType } : {}),
      ...(r.ResourceName ? { name: r.ResourceName } : {}),
    })),
  };
}
