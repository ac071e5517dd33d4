import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { TrailEvent } from '../cloudtrail/event';
import { InMemoryCloudTrail } from '../cloudtrail/in-memory-cloudtrail';
import { LookupEventsAdapter } from '../cloudtrail/lookup-events-adapter';
import type { LookupQuery } from '../cloudtrail/port';
import { FakeClock } from '../cloudtrail/testing/fake-clock';
import { humanTerminate, recordedEvent } from '../cloudtrail/testing/recorded';
import { ThrottledError } from '../core/errors';
import { auditRecord } from './audit-store.contract';
import { correlateRecord, needsCorrelation } from './correlate';
import { type AuditRecord, AuditRecordSchema } from './schema';

const T = Date.parse('2026-11-24T10:00:00Z');
const iso = (ms: number) => new Date(T + ms).toISOString();
const FLEET = 'arn:aws:sts::123456789012:assumed-role/fleetwarden-DnsSyncRole/fleetwarden-dns-sync';
const ALICE = 'arn:aws:sts::123456789012:assumed-role/Admin/alice';

function record(over: Partial<Parameters<typeof auditRecord>[0]> = {}): AuditRecord {
  return AuditRecordSchema.parse(
    auditRecord({
      recordId: 'dns-sync:1',
      time: iso(0),
      trigger: {
        source: 'aws.ec2',
        id: 'evt-1',
        detailType: 'EC2 Instance State-change Notification',
        time: iso(-30_000),
      },
      subject: { instanceId: 'i-0abc12345', recordName: 'web-1.example.com' },
      calls: [
        {
          service: 'EC2',
          operation: 'DescribeInstances',
          time: iso(100),
          requestId: 'req-ec2',
          outcome: 'success',
        },
        {
          service: 'Route53',
          operation: 'ChangeResourceRecordSets',
          time: iso(900),
          requestId: 'req-r53',
          outcome: 'success',
        },
        {
          service: 'EC2',
          operation: 'DescribeTags',
          time: iso(950),
          outcome: 'error',
          errorName: 'NetworkingError',
        },
      ],
      ...over,
    }),
  );
}

function ev(over: Partial<TrailEvent> & Pick<TrailEvent, 'eventId' | 'eventName'>): TrailEvent {
  return {
    eventSource: 'ec2.amazonaws.com',
    eventTime: iso(0),
    actor: FLEET,
    resources: [],
    readOnly: true,
    ...over,
  };
}

function world(nowOffsetMs: number) {
  const clock = new FakeClock(T + nowOffsetMs);
  const trail = new InMemoryCloudTrail(clock);
  const queries: LookupQuery[] = [];
  const lookup = {
    lookupPage: async (q: LookupQuery) => {
      queries.push(q);
      clock.advance(1000); // stay under the fake's 2 req/s
      return trail.lookupPage(q);
    },
  };
  const opts = () => ({ now: clock.date(), homeRegion: 'eu-west-1' });
  return { clock, trail, lookup, queries, opts };
}

function deliverAll(trail: InMemoryCloudTrail) {
  trail.deliver(
    ev({ eventId: 'ct-ec2', eventName: 'DescribeInstances', eventTime: iso(100), requestId: 'req-ec2' }),
  );
  // same operation, another caller: must not match
  trail.deliver(
    ev({ eventId: 'ct-other', eventName: 'DescribeInstances', eventTime: iso(120), requestId: 'req-zzz' }),
  );
  trail.deliver(
    ev({
      eventId: 'ct-r53',
      eventName: 'ChangeResourceRecordSets',
      eventSource: 'route53.amazonaws.com',
      eventTime: iso(900),
      requestId: 'req-r53',
      readOnly: false,
    }),
    { region: 'us-east-1' },
  );
  trail.deliver(
    ev({
      eventId: 'ct-term',
      eventName: 'TerminateInstances',
      eventTime: iso(-90_000),
      requestId: 'req-term',
      actor: ALICE,
      readOnly: false,
      resources: [{ type: 'AWS::EC2::Instance', name: 'i-0abc12345' }],
    }),
  );
}

/** The instance's launch, long before any trigger the tests use. */
const launchOf = (instanceId: string) =>
  ev({
    eventId: 'ct-launch',
    eventName: 'RunInstances',
    eventTime: iso(-3_000_000),
    readOnly: false,
    resources: [{ name: instanceId }],
  });

describe('correlateRecord', () => {
  it('does not look before record time + the delivery delay', async () => {
    const w = world(4 * 60_000);
    expect(await correlateRecord(record(), w.lookup, w.opts())).toBeUndefined();
    expect(w.queries).toEqual([]);
  });

  it('matches each call by request id, event name and time; Route 53 in us-east-1; trigger actor from userIdentity', async () => {
    const w = world(10 * 60_000);
    deliverAll(w.trail);
    const opts = w.opts();
    const c = await correlateRecord(record(), w.lookup, opts);
    expect(c).toMatchObject({
      status: 'resolved',
      attempts: 1,
      calls: [
        { requestId: 'req-ec2', eventId: 'ct-ec2', eventName: 'DescribeInstances' },
        { requestId: 'req-r53', eventId: 'ct-r53', eventName: 'ChangeResourceRecordSets' },
      ],
      trigger: { eventId: 'ct-term', eventName: 'TerminateInstances', actor: ALICE },
      resolvedAt: opts.now.toISOString(),
    });
    expect(w.queries.map((q) => [q.region, q.attribute.key, q.attribute.value])).toEqual([
      ['eu-west-1', 'EventName', 'DescribeInstances'],
      ['us-east-1', 'EventName', 'ChangeResourceRecordSets'],
      ['eu-west-1', 'ResourceName', 'i-0abc12345'],
    ]);
  });

  it.each([
    ['a spot interruption', 'BidEvictedEvent', 'ec2.amazonaws.com'],
    ['a scale-in of the group', 'TerminateInstanceInAutoScalingGroup', 'autoscaling.amazonaws.com'],
  ])('names %s as the cause of a shutting-down instance, never its launch', async (_what, name, source) => {
    const w = world(10 * 60_000);
    w.trail.deliver(launchOf('i-0abc12345'));
    w.trail.deliver(
      ev({
        eventId: 'ct-cause',
        eventName: name,
        eventSource: source,
        eventTime: iso(-60_000),
        actor: ALICE,
        readOnly: false,
        resources: [{ name: 'i-0abc12345' }],
      }),
    );
    const shuttingDown = record({ calls: [], details: { state: 'shutting-down' } });
    expect(await correlateRecord(shuttingDown, w.lookup, w.opts())).toMatchObject({
      status: 'resolved',
      trigger: { eventId: 'ct-cause', eventName: name },
    });
  });

  it('does not take a launch for the cause of a termination, nor a termination for the cause of a launch', async () => {
    const w = world(10 * 60_000);
    w.trail.deliver(launchOf('i-0abc12345'));
    const terminated = record({ calls: [], details: { state: 'terminated' } });
    expect(await correlateRecord(terminated, w.lookup, w.opts())).toMatchObject({ status: 'pending' });
    const running = record({ calls: [], details: { state: 'running' } });
    expect(await correlateRecord(running, w.lookup, w.opts())).toMatchObject({
      status: 'resolved',
      trigger: { eventId: 'ct-launch', eventName: 'RunInstances' },
    });
  });

  it('ignores a same-request-id event far outside the call time, and read-only or later events as trigger', async () => {
    const w = world(10 * 60_000);
    w.trail.deliver(
      ev({
        eventId: 'stale',
        eventName: 'DescribeInstances',
        eventTime: iso(-3_000_000),
        requestId: 'req-ec2',
      }),
    );
    w.trail.deliver(
      ev({
        eventId: 'look',
        eventName: 'DescribeInstances',
        eventTime: iso(-10_000),
        resources: [{ name: 'i-0abc12345' }],
      }),
    );
    w.trail.deliver(
      ev({
        eventId: 'later',
        eventName: 'StartInstances',
        eventTime: iso(600_000),
        readOnly: false,
        resources: [{ name: 'i-0abc12345' }],
      }),
    );
    const c = await correlateRecord(record(), w.lookup, w.opts());
    expect(c).toMatchObject({ status: 'pending', attempts: 1, calls: [] });
    expect(c?.trigger).toBeUndefined();
  });

  it('keeps what it found while pending, then resolves on a later attempt without looking it up again', async () => {
    const w = world(10 * 60_000);
    w.trail.deliver(
      ev({ eventId: 'ct-ec2', eventName: 'DescribeInstances', eventTime: iso(100), requestId: 'req-ec2' }),
    );
    const first = await correlateRecord(record(), w.lookup, w.opts());
    expect(first).toMatchObject({ status: 'pending', attempts: 1, calls: [{ eventId: 'ct-ec2' }] });
    deliverAll(w.trail);
    w.queries.length = 0;
    w.clock.advance(5 * 60_000);
    const second = await correlateRecord(
      { ...record(), correlation: first as AuditRecord['correlation'] },
      w.lookup,
      w.opts(),
    );
    expect(second).toMatchObject({ status: 'resolved', attempts: 2 });
    expect(w.queries.map((q) => q.attribute.value)).toEqual(['ChangeResourceRecordSets', 'i-0abc12345']);
  });

  it('marks the record unresolved after the deadline, naming what is missing, and keeps it', async () => {
    const w = world(6 * 3_600_000 + 1);
    w.trail.deliver(
      ev({ eventId: 'ct-ec2', eventName: 'DescribeInstances', eventTime: iso(100), requestId: 'req-ec2' }),
    );
    const c = await correlateRecord(record(), w.lookup, w.opts());
    expect(c).toMatchObject({
      status: 'unresolved',
      calls: [{ eventId: 'ct-ec2' }],
      deadline: iso(6 * 3_600_000),
      unresolvedReason:
        'not in CloudTrail by the deadline: Route53.ChangeResourceRecordSets req-r53, trigger change to i-0abc12345',
    });
  });

  it('gives up at once on records older than the 90-day LookupEvents window', async () => {
    const w = world(91 * 86_400_000);
    const c = await correlateRecord(
      record({ correlation: { status: 'pending', attempts: 0, calls: [] } }),
      w.lookup,
      w.opts(),
    );
    expect(c).toMatchObject({ status: 'unresolved', unresolvedReason: expect.stringContaining('90 days') });
    expect(w.queries).toEqual([]);
  });

  it('needs no trigger event for GitHub-sourced records', async () => {
    const w = world(10 * 60_000);
    deliverAll(w.trail);
    const c = await correlateRecord(
      record({ trigger: { source: 'fleetwarden.github', id: 'gh-1', githubDeliveryId: 'd-1' } }),
      w.lookup,
      w.opts(),
    );
    expect(c).toMatchObject({ status: 'resolved' });
    expect(c?.trigger).toBeUndefined();
  });
});

describe('correlateRecord: triggers from Auto Scaling', () => {
  const ASG = 'fleetwarden-runners';
  const AUTOSCALING = 'autoscaling.amazonaws.com';
  const lifecycle = (over: Partial<Parameters<typeof auditRecord>[0]> = {}) =>
    record({
      function: 'runner-drain',
      action: 'lifecycle.complete',
      trigger: {
        source: 'aws.autoscaling',
        id: 'evt-lc',
        detailType: 'EC2 Instance-terminate Lifecycle Action',
        time: iso(-60_000),
      },
      subject: { instanceId: 'i-0abc12345', autoScalingGroupName: ASG },
      calls: [],
      ...over,
    });

  it("never names the ASG's own TerminateInstances (after the lifecycle action) as the cause", async () => {
    const w = world(10 * 60_000);
    // the effect: the ASG terminates the instance after the fleet completed the lifecycle action
    w.trail.deliver(
      ev({
        eventId: 'ct-effect',
        eventName: 'TerminateInstances',
        eventTime: iso(30_000),
        actor: AUTOSCALING,
        readOnly: false,
        resources: [{ name: 'i-0abc12345' }],
      }),
    );
    // the cause: an operator lowered the desired capacity, logged under the group name
    w.trail.deliver(
      ev({
        eventId: 'ct-cause',
        eventName: 'SetDesiredCapacity',
        eventSource: 'autoscaling.amazonaws.com',
        eventTime: iso(-65_000),
        actor: ALICE,
        readOnly: false,
        resources: [{ type: 'AWS::AutoScaling::AutoScalingGroup', name: ASG }],
      }),
    );
    // RunInstances at launch, before the trigger: never the cause of a termination
    w.trail.deliver(
      ev({
        eventId: 'ct-launch',
        eventName: 'RunInstances',
        eventTime: iso(-30 * 60_000),
        actor: AUTOSCALING,
        readOnly: false,
        resources: [{ name: 'i-0abc12345' }],
      }),
    );
    const c = await correlateRecord(lifecycle(), w.lookup, w.opts());
    expect(c).toMatchObject({
      status: 'resolved',
      trigger: { eventId: 'ct-cause', eventName: 'SetDesiredCapacity', actor: ALICE },
    });
    expect(w.queries.map((q) => [q.attribute.key, q.attribute.value])).toEqual([
      ['ResourceName', 'i-0abc12345'],
      ['ResourceName', ASG],
    ]);
    // the search ends a few seconds after the trigger, never at trigger + 2 min
    expect(w.queries.every((q) => q.end.getTime() <= T - 60_000 + 5_000)).toBe(true);
  });

  it('takes the latest cause at or before the trigger across the instance and group searches', async () => {
    const w = world(10 * 60_000);
    w.trail.deliver(
      ev({
        eventId: 'ct-old-capacity',
        eventName: 'UpdateAutoScalingGroup',
        eventTime: iso(-20 * 60_000),
        actor: ALICE,
        readOnly: false,
        resources: [{ name: ASG }],
      }),
    );
    w.trail.deliver(
      ev({
        eventId: 'ct-terminate-in-asg',
        eventName: 'TerminateInstanceInAutoScalingGroup',
        eventTime: iso(-62_000),
        actor: FLEET,
        readOnly: false,
        resources: [{ name: 'i-0abc12345' }],
      }),
    );
    const c = await correlateRecord(lifecycle(), w.lookup, w.opts());
    expect(c?.trigger).toMatchObject({ eventId: 'ct-terminate-in-asg' });
  });
});

describe('correlateRecord: backoff and truncated searches', () => {
  it('pushes nextAttemptAt back further after each unsuccessful attempt, never past the deadline', async () => {
    const w = world(10 * 60_000);
    let r = record();
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      const opts = w.opts();
      const c = await correlateRecord(r, w.lookup, opts);
      expect(c?.status).toBe('pending');
      waits.push(Date.parse(c?.nextAttemptAt ?? '') - opts.now.getTime());
      r = { ...r, correlation: c as AuditRecord['correlation'] };
    }
    expect(waits).toEqual([5 * 60_000, 10 * 60_000, 20 * 60_000, 40 * 60_000]);
    const late = world(6 * 3_600_000 - 60_000);
    const c = await correlateRecord(record(), late.lookup, late.opts());
    expect(c?.nextAttemptAt).toBe(iso(6 * 3_600_000));
  });

  it('says the search was truncated when the deadline passes with the page limit hit', async () => {
    const w = world(6 * 3_600_000 + 1);
    let page = 0;
    const endless = {
      lookupPage: async (q: LookupQuery) => {
        w.queries.push(q);
        return {
          events: [ev({ eventId: `noise-${page}`, eventName: q.attribute.value, requestId: `n-${page++}` })],
          nextToken: 'more',
        };
      },
    };
    const c = await correlateRecord(
      record({ trigger: { source: 'fleetwarden.schedule', id: 'run-1' } }),
      endless,
      { ...w.opts(), maxPages: 3 },
    );
    expect(c?.status).toBe('unresolved');
    expect(c?.unresolvedReason).toContain('search truncated after 3 pages');
    expect(c?.unresolvedReason).toContain('EventName=DescribeInstances in eu-west-1');
  });
});

describe('correlateRecord on recorded LookupEvents responses', () => {
  const ct = mockClient(CloudTrailClient);
  const adapter = new LookupEventsAdapter(() => new CloudTrailClient({ region: 'eu-west-1' }));
  beforeEach(() => ct.reset());

  const only = record({
    calls: [
      {
        service: 'EC2',
        operation: 'DescribeInstances',
        time: iso(100),
        requestId: 'req-ec2',
        outcome: 'success',
      },
    ],
  });

  it('finds the fleet call on the second page and the human who terminated the instance', async () => {
    const noise = (i: number) =>
      recordedEvent({
        eventId: `noise-${i}`,
        eventName: 'DescribeInstances',
        eventTime: iso(90),
        requestId: `other-${i}`,
      });
    ct.on(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'DescribeInstances' }],
    })
      .resolvesOnce({ Events: Array.from({ length: 50 }, (_, i) => noise(i)), NextToken: 'p2' })
      .resolvesOnce({
        Events: [
          recordedEvent({
            eventId: 'ct-ec2',
            eventName: 'DescribeInstances',
            eventTime: iso(100),
            requestId: 'req-ec2',
            readOnly: true,
          }),
        ],
      });
    ct.on(LookupEventsCommand, {
      LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: 'i-0abc12345' }],
    }).resolves({
      Events: [humanTerminate],
    });
    const c = await correlateRecord(only, adapter, { now: new Date(T + 600_000), homeRegion: 'eu-west-1' });
    expect(c).toMatchObject({
      status: 'resolved',
      calls: [{ requestId: 'req-ec2', eventId: 'ct-ec2' }],
      trigger: {
        eventId: '6f3c2a1e-8d4b-4c1a-9e2f-0a1b2c3d4e5f',
        actor:
          'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice@example.com',
      },
    });
    expect(ct.commandCalls(LookupEventsCommand)[1]?.args[0].input.NextToken).toBe('p2');
  });

  it('lets ThrottlingException surface as ThrottledError (record untouched, stays pending)', async () => {
    ct.on(LookupEventsCommand).rejects(
      Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }),
    );
    await expect(
      correlateRecord(only, adapter, { now: new Date(T + 600_000), homeRegion: 'eu-west-1' }),
    ).rejects.toBeInstanceOf(ThrottledError);
  });
});

describe('needsCorrelation (which new records the writer queues as pending)', () => {
  it('queues only records with a change CloudTrail logs: reads alone or SQS/DynamoDB data events are not worth its 2 req/s', () => {
    const call = (service: string, operation: string) => ({
      service,
      operation,
      time: iso(0),
      requestId: `req-${operation}`,
      outcome: 'success' as const,
    });
    const github = { source: 'fleetwarden.github', id: 'g' };
    const subject = { runnerName: 'gh-runner-7' };
    const reads = [call('EC2', 'DescribeInstances'), call('AutoScaling', 'DescribeAutoScalingInstances')];
    expect(needsCorrelation({ trigger: github, subject, calls: reads })).toBe(false);
    const dataEvents = [call('SQS', 'ChangeMessageVisibility'), call('DynamoDB', 'PutItem')];
    expect(needsCorrelation({ trigger: github, subject, calls: dataEvents })).toBe(false);
    expect(
      needsCorrelation({ trigger: github, subject, calls: [...reads, call('EC2', 'TerminateInstances')] }),
    ).toBe(true);
  });

  it('never waits for a data event CloudTrail management events do not contain (SQS ChangeMessageVisibility)', async () => {
    const w = world(10 * 60_000);
    deliverAll(w.trail);
    const withSqs = record({
      calls: [
        ...record().calls,
        {
          service: 'SQS',
          operation: 'ChangeMessageVisibility',
          time: iso(950),
          requestId: 'req-sqs',
          outcome: 'success',
        },
      ],
    });
    const c = await correlateRecord(withSqs, w.lookup, w.opts());
    expect(c).toMatchObject({ status: 'resolved' });
    expect(w.queries.map((q) => q.attribute.value)).not.toContain('ChangeMessageVisibility');
  });

  it('queues records with an AWS request id, and AWS-triggered records about an instance or ASG even without one', () => {
    const base = record();
    expect(needsCorrelation(base)).toBe(true);
    const noCalls = { ...base, calls: [] };
    expect(needsCorrelation(noCalls)).toBe(true); // aws.ec2 trigger about i-0abc12345: its cause is looked up
    expect(
      needsCorrelation({
        ...noCalls,
        trigger: {
          source: 'aws.autoscaling',
          id: 'e',
          detailType: 'EC2 Instance-terminate Lifecycle Action',
        },
        subject: { autoScalingGroupName: 'asg' },
      }),
    ).toBe(true);
    expect(needsCorrelation({ ...noCalls, trigger: { source: 'fleetwarden.github', id: 'g' } })).toBe(false);
    expect(needsCorrelation({ ...noCalls, subject: { runnerName: 'gh-runner-7' } })).toBe(false);
  });
});

describe('correlateRecord for a record about a spoke (hub and spokes)', () => {
  it("reads the spoke's trail (its account and region) for EC2 calls and the cause; the hub's for Route 53", async () => {
    const w = world(600_000);
    const spoke = record({ account: '222222222222', region: 'us-east-1' });
    await correlateRecord(spoke, w.lookup, w.opts());
    const seen = w.queries.map(
      (q) => `${q.attribute.key}=${q.attribute.value} ${q.account ?? 'hub'}/${q.region}`,
    );
    expect(seen).toContain('EventName=DescribeInstances 222222222222/us-east-1');
    expect(seen).toContain('EventName=ChangeResourceRecordSets hub/us-east-1');
    expect(seen).toContain('ResourceName=i-0abc12345 222222222222/us-east-1');
  });

  it("a hub record's lookups name no account (the function's own trail), as before", async () => {
    const w = world(600_000);
    await correlateRecord(record(), w.lookup, w.opts());
    expect(w.queries.every((q) => q.account === undefined)).toBe(true);
    expect(w.queries.find((q) => q.attribute.value === 'DescribeInstances')?.region).toBe('eu-west-1');
  });
});
