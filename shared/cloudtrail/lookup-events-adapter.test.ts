import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { describeCloudTrailLookupContract } from './cloudtrail-lookup.contract';
import { CloudTrailLookupError } from './errors';
import { MalformedTrailEventError } from './event';
import { InMemoryCloudTrail } from './in-memory-cloudtrail';
import { LookupEventsAdapter } from './lookup-events-adapter';
import { lookupAll } from './port';
import { humanRoute53Change, humanTerminate, recordedEvent } from './testing/recorded';
import { scriptLookupEvents } from './testing/scripted-lookup-events';

const ct = mockClient(CloudTrailClient);
const client = new CloudTrailClient({ region: 'eu-west-1' });
const adapter = new LookupEventsAdapter(() => client);
const query = {
  region: 'eu-west-1',
  attribute: { key: 'ResourceName' as const, value: 'i-0abc12345' },
  start: new Date('2026-11-24T09:00:00Z'),
  end: new Date('2026-11-24T11:00:00Z'),
};

describeCloudTrailLookupContract('LookupEventsAdapter (scripted LookupEvents)', (clock) => {
  ct.reset();
  const trail = new InMemoryCloudTrail(clock);
  scriptLookupEvents(ct, trail);
  return {
    lookup: adapter,
    deliver: (e, delayMs) => trail.deliver(e, delayMs === undefined ? {} : { delayMs }),
  };
});

describe('LookupEventsAdapter on recorded responses', () => {
  beforeEach(() => ct.reset());

  it('sends one lookup attribute, 50 per page, the window and the NextToken', async () => {
    ct.on(LookupEventsCommand).resolves({ Events: [] });
    await adapter.lookupPage({ ...query, nextToken: 'tok-2' });
    expect(ct.commandCalls(LookupEventsCommand)[0]?.args[0].input).toEqual({
      LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: 'i-0abc12345' }],
      StartTime: query.start,
      EndTime: query.end,
      MaxResults: 50,
      NextToken: 'tok-2',
    });
  });

  it('reads requestID, eventID and the assumed-role actor from the CloudTrailEvent JSON', async () => {
    ct.on(LookupEventsCommand).resolves({ Events: [humanTerminate] });
    const page = await adapter.lookupPage(query);
    expect(page).toEqual({
      events: [
        {
          eventId: '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f',
          eventName: 'TerminateInstances',
          eventSource: 'ec2.amazonaws.com',
          eventTime: '2026-11-24T09:58:30.000Z',
          requestId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
          actor:
            'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com',
          region: 'eu-west-1',
          readOnly: false,
          resources: [{ type: 'AWS::EC2::Instance', name: 'i-0abc12345' }],
        },
      ],
    });
  });

  it('reads the session issuer (the role) and the request parameters (a Route 53 change: its zone id)', async () => {
    ct.on(LookupEventsCommand).resolves({ Events: [humanRoute53Change] });
    const page = await adapter.lookupPage({ ...query, region: 'us-east-1' });
    expect(page.events[0]).toMatchObject({
      eventName: 'ChangeResourceRecordSets',
      sessionIssuer:
        'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef',
      requestParameters: { hostedZoneId: 'Z0123456789ABCDEFGHIJ' },
    });
  });

  it('names the invoking service for AWSService identities (e.g. Auto Scaling)', async () => {
    ct.on(LookupEventsCommand).resolves({
      Events: [
        recordedEvent({
          eventId: 'e-asg',
          eventName: 'TerminateInstances',
          eventTime: '2026-11-24T09:58:30Z',
          identity: { type: 'AWSService', invokedBy: 'autoscaling.amazonaws.com' },
        }),
      ],
    });
    expect((await adapter.lookupPage(query)).events[0]?.actor).toBe('autoscaling.amazonaws.com');
  });

  it('follows NextToken across recorded pages', async () => {
    const ev = (i: number) =>
      recordedEvent({ eventId: `e${i}`, eventName: 'DescribeInstances', eventTime: '2026-11-24T10:00:00Z' });
    ct.on(LookupEventsCommand)
      .resolvesOnce({ Events: [ev(1), ev(2)], NextToken: 'page-2' })
      .resolvesOnce({ Events: [ev(3)], NextToken: 'page-3' })
      .resolvesOnce({ Events: [ev(4)] });
    const all = await lookupAll(adapter, query);
    expect(all.events.map((e) => e.eventId)).toEqual(['e1', 'e2', 'e3', 'e4']);
    expect(ct.commandCalls(LookupEventsCommand).map((c) => c.args[0].input.NextToken)).toEqual([
      undefined,
      'page-2',
      'page-3',
    ]);
  });

  it('turns ThrottlingException into ThrottledError with the SDK error as cause', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    ct.on(LookupEventsCommand).rejects(throttled);
    const err = await adapter.lookupPage(query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect((err as ThrottledError).retryAfterMs).toBe(1000);
    expect((err as Error).cause).toBe(throttled);
  });

  it('wraps other API errors in CloudTrailLookupError', async () => {
    ct.on(LookupEventsCommand).rejects(
      Object.assign(new Error('Start time must be before end time'), { name: 'InvalidTimeRangeException' }),
    );
    await expect(adapter.lookupPage(query)).rejects.toThrow(CloudTrailLookupError);
  });

  it('skips an event whose CloudTrailEvent does not parse, reports it, and keeps the rest of the page', async () => {
    ct.on(LookupEventsCommand).resolves({
      Events: [
        { EventId: 'bad', CloudTrailEvent: '{not json' },
        humanTerminate,
        { EventId: 'no-name', CloudTrailEvent: JSON.stringify({ eventID: 'no-name' }) },
      ],
    });
    const page = await adapter.lookupPage(query);
    expect(page.events.map((e) => e.eventId)).toEqual(['6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f']);
    expect(page.skipped?.map((s) => s.eventId)).toEqual(['bad', 'no-name']);
    expect(page.skipped?.[0]?.error).toBeInstanceOf(MalformedTrailEventError);
  });

  it('lookupAll gathers the skipped events of every page', async () => {
    ct.on(LookupEventsCommand)
      .resolvesOnce({ Events: [{ EventId: 'bad-1', CloudTrailEvent: '' }], NextToken: 'p2' })
      .resolvesOnce({ Events: [humanTerminate, { EventId: 'bad-2', CloudTrailEvent: '[]' }] });
    const all = await lookupAll(adapter, query);
    expect(all.events).toHaveLength(1);
    expect(all.skipped.map((s) => s.eventId)).toEqual(['bad-1', 'bad-2']);
  });

  it('builds its default clients with SDK retries off, so only the 2 req/s limiter retries', async () => {
    const { cloudTrailClientFor } = await import('./lookup-events-adapter');
    expect(await cloudTrailClientFor('eu-central-1').config.maxAttempts()).toBe(1);
  });
});

describe('LookupEventsAdapter: a query naming an account (a spoke trail)', () => {
  it("asks for the client of that account and region (the spoke's trail role)", async () => {
    const mock = mockClient(CloudTrailClient);
    mock.on(LookupEventsCommand).resolves({ Events: [] });
    const asked: Array<[string, string | undefined]> = [];
    const adapter = new LookupEventsAdapter((region, account) => {
      asked.push([region, account]);
      return new CloudTrailClient({ region });
    });
    const window = { start: new Date('2026-11-30T10:00:00Z'), end: new Date('2026-11-30T10:05:00Z') };
    const attribute = { key: 'EventName' as const, value: 'TerminateInstances' };
    await adapter.lookupPage({ region: 'us-east-1', account: '222222222222', attribute, ...window });
    await adapter.lookupPage({ region: 'eu-west-1', attribute, ...window });
    expect(asked).toEqual([
      ['us-east-1', '222222222222'],
      ['eu-west-1', undefined],
    ]);
    mock.restore();
  });
});
