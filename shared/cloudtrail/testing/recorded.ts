import type { LookupEventsEvent, TrailEvent } from '../event';

/**
 * LookupEvents entries in the shape the API returns them (AWS CloudTrail API reference, Event /
 * LookupEvents; CloudTrailEvent is the event record as a JSON string, userIdentity per the
 * CloudTrail userIdentity element reference).
 */
export const ACCOUNT = '123456789012';

export function recordedEvent(e: {
  eventId: string;
  eventName: string;
  eventTime: string;
  requestId?: string;
  eventSource?: string;
  region?: string;
  identity?: Record<string, unknown>;
  resources?: { ResourceType: string; ResourceName: string }[];
  readOnly?: boolean;
  requestParameters?: Record<string, unknown>;
}): LookupEventsEvent {
  const identity = e.identity ?? {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEID:fleetwarden-dns-sync',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/fleetwarden-DnsSyncRole/fleetwarden-dns-sync`,
    accountId: ACCOUNT,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        arn: `arn:aws:iam::${ACCOUNT}:role/fleetwarden-DnsSyncRole`,
        userName: 'fleetwarden-DnsSyncRole',
      },
    },
  };
  const source = e.eventSource ?? 'ec2.amazonaws.com';
  return {
    EventId: e.eventId,
    EventName: e.eventName,
    ReadOnly: String(e.readOnly ?? false),
    EventTime: new Date(e.eventTime),
    EventSource: source,
    Username:
      String(identity.arn ?? '')
        .split('/')
        .at(-1) || undefined,
    Resources: e.resources ?? [],
    CloudTrailEvent: JSON.stringify({
      eventVersion: '1.09',
      userIdentity: identity,
      eventTime: e.eventTime.replace(/\.\d{3}Z$/, 'Z'),
      eventSource: source,
      eventName: e.eventName,
      awsRegion: e.region ?? 'eu-west-1',
      sourceIPAddress: '203.0.113.10',
      userAgent: 'aws-sdk-js/3.0.0',
      requestParameters: e.requestParameters ?? {},
      responseElements: null,
      ...(e.requestId ? { requestID: e.requestId } : {}),
      eventID: e.eventId,
      readOnly: e.readOnly ?? false,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: ACCOUNT,
      eventCategory: 'Management',
    }),
  };
}

/** The same event rendered back into the LookupEvents wire shape (for scripted mocks). */
export function toRecorded(e: TrailEvent): LookupEventsEvent {
  return recordedEvent({
    eventId: e.eventId,
    eventName: e.eventName,
    eventTime: e.eventTime,
    eventSource: e.eventSource,
    ...(e.requestId ? { requestId: e.requestId } : {}),
    ...(e.region ? { region: e.region } : {}),
    ...(e.readOnly !== undefined ? { readOnly: e.readOnly } : {}),
    identity: e.actor.startsWith('arn:')
      ? {
          type: 'AssumedRole',
          arn: e.actor,
          accountId: ACCOUNT,
          ...(e.sessionIssuer
            ? { sessionContext: { sessionIssuer: { type: 'Role', arn: e.sessionIssuer } } }
            : {}),
        }
      : { type: 'AWSService', invokedBy: e.actor },
    ...(e.requestParameters ? { requestParameters: e.requestParameters } : {}),
    resources: e.resources.map((r) => ({ ResourceType: r.type ?? 'Unknown', ResourceName: r.name ?? '' })),
  });
}

/** A record set changed by hand in the console (Route 53 is global: the event is in us-east-1). */
export const humanRoute53Change = recordedEvent({
  eventId: '0c9d8e7f-1a2b-4c3d-8e9f-a0b1c2d3e4f5',
  eventName: 'ChangeResourceRecordSets',
  eventSource: 'route53.amazonaws.com',
  eventTime: '2026-11-24T09:40:00Z',
  requestId: 'b2c3d4e5-6789-01ab-cdef-EXAMPLE22222',
  region: 'us-east-1',
  identity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEID:alice@example.com',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com`,
    accountId: ACCOUNT,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        arn: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef`,
      },
    },
  },
  requestParameters: {
    hostedZoneId: 'Z0123456789ABCDEFGHIJ',
    changeBatch: {
      changes: [{ action: 'DELETE', resourceRecordSet: { name: 'web.example.com', type: 'A' } }],
    },
  },
});

export const humanTerminate = recordedEvent({
  eventId: '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f',
  eventName: 'TerminateInstances',
  eventTime: '2026-11-24T09:58:30Z',
  requestId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
  identity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEID:alice@example.com',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com`,
    accountId: ACCOUNT,
  },
  resources: [{ ResourceType: 'AWS::EC2::Instance', ResourceName: 'i-0abc12345' }],
});
