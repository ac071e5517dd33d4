import { describe, expect, it } from 'vitest';
import { buildSubjectTimeline, type Mark } from './model';
import { SUBJECT, sampleDeadLetters, sampleEvents, sampleRecords } from './testing/sample';

const decisionOf = (marks: Mark[], id: string) =>
  marks.find((m) => m.kind === 'decision' && m.recordIds.includes(id));
const laneOf = (marks: Mark[], action: string) =>
  marks.find((m) => m.kind === 'decision' && m.title.includes(` ${action} `))?.lane;

describe('buildSubjectTimeline', () => {
  it('puts each decision on the swimlane of what it acted on', () => {
    const { marks } = buildSubjectTimeline(SUBJECT, { records: sampleRecords() });
    expect(laneOf(marks, 'dns.upsert')).toBe('dns');
    expect(laneOf(marks, 'runner.job-started')).toBe('jobs');
    expect(laneOf(marks, 'runner.cordon')).toBe('runner');
    expect(laneOf(marks, 'lifecycle.heartbeat')).toBe('lifecycle');
  });

  it('links a decision to its record id, the CloudTrail events of its calls and cause, and the actors', () => {
    const { marks } = buildSubjectTimeline(SUBJECT, { records: sampleRecords() });
    const upsert = marks.find((m) => m.kind === 'decision' && m.title.includes('dns.upsert'));
    expect(upsert).toMatchObject({
      recordIds: ['dns-sync:6b1f0c9e2d3a4b5c6d7e8f9a0b1c2d3e'],
      eventIds: ['ct-3e1d-describe-0001', 'ct-51aa-route53-0002', '0f5e2c61-run-4c1a-9e2f-launch000001'],
      actor: 'dns-sync',
      status: 'acted',
    });
    expect(upsert?.facts).toContainEqual([
      'cause',
      'RunInstances by autoscaling.amazonaws.com (event 0f5e2c61-run-4c1a-9e2f-launch000001)',
    ]);
  });

  it('draws a cause cited by several records once, linked to all of them, on the lane it changed', () => {
    const { marks } = buildSubjectTimeline(SUBJECT, { records: sampleRecords() });
    const scaleIn = marks.filter((m) => m.eventIds.includes('7a9d3b52-asg-4f0e-8c1d-scalein00002'));
    const cause = scaleIn.filter((m) => m.kind === 'cloudtrail');
    expect(cause).toHaveLength(1);
    expect(cause[0]).toMatchObject({
      lane: 'instance',
      time: '2026-11-24T09:20:00.000Z',
      actor:
        'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Operator_0123456789abcdef/alice@example.com',
    });
    expect(cause[0]?.recordIds).toEqual([
      'runner-drain:2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f70',
      'runner-drain:3e4f5a6b7c8d9e0f1a2b3c4d5e6f7081',
      'runner-drain:5a6b7c8d9e0f1a2b3c4d5e6f70819203',
    ]);
  });

  it('shows CloudTrail events no record cites, and not those a record call already proves', () => {
    const { marks } = buildSubjectTimeline(SUBJECT, { records: sampleRecords(), events: sampleEvents() });
    const events = marks.filter((m) => m.kind === 'cloudtrail' && m.recordIds.length === 0);
    expect(events.map((m) => [m.lane, m.title, m.eventIds])).toEqual([
      ['instance', 'CreateTags', ['a3f0c2d1-tag-4e5f-8a9b-createtags003']],
      ['lifecycle', 'CompleteLifecycleAction', ['b8e2f4a6-cmp-4d3c-9e1f-complete0099']],
    ]);
    expect(marks.filter((m) => m.eventIds.includes('ct-9c04-route53-0006')).map((m) => m.kind)).toEqual([
      'decision',
    ]);
  });

  it('draws the instance states the records saw, at the time of the state-change event', () => {
    const { marks } = buildSubjectTimeline(SUBJECT, { records: sampleRecords() });
    expect(
      marks.filter((m) => m.kind === 'state').map((m) => [m.lane, m.time, m.title, m.recordIds]),
    ).toEqual([
      ['instance', '2026-11-24T08:00:35Z', 'running', ['dns-sync:6b1f0c9e2d3a4b5c6d7e8f9a0b1c2d3e']],
      ['instance', '2026-11-24T10:20:02Z', 'shutting-down', ['dns-sync:7c8d9e0f1a2b3c4d5e6f708192031425']],
    ]);
  });

  it('flags failures, calls that failed, unresolved evidence and an intent with no outcome', () => {
    const { marks } = buildSubjectTimeline(SUBJECT, { records: sampleRecords() });
    const failed = decisionOf(marks, 'runner-drain:5a6b7c8d9e0f1a2b3c4d5e6f70819203');
    expect(failed).toMatchObject({ status: 'failed', error: true });
    expect(failed?.facts).toContainEqual([
      'GitHub call',
      'GET /orgs/{org}/actions/runners -> 403 (request C0DE:2A3B:4C5D6E:7F8091:6743A9C0)',
    ]);
    const del = decisionOf(marks, 'dns-sync:7c8d9e0f1a2b3c4d5e6f708192031425');
    expect(del).toMatchObject({ status: 'acted', error: true });
    expect(del?.facts).toContainEqual([
      'AWS call',
      'Route53.ChangeResourceRecordSets error (Throttling) request req-r53-0005; not in CloudTrail',
    ]);
    expect(del?.facts).toContainEqual([
      'evidence',
      'CloudTrail unresolved: CloudTrail never showed request req-r53-0005 (a throttled call is not logged)',
    ]);
    const intent = decisionOf(marks, 'runner-drain:6b7c8d9e0f1a2b3c4d5e6f7081920314');
    expect(intent).toMatchObject({
      status: 'intended',
      title: 'runner-drain lifecycle.complete intended, outcome unknown',
    });
    expect(intent?.facts).toContainEqual([
      'evidence',
      'no outcome recorded: the step did not finish; AutoScaling.CompleteLifecycleAction may or may not have been sent (check CloudTrail)',
    ]);
  });

  it('shows dead-lettered messages on their own lane, and unreadable records with their id', () => {
    const { marks } = buildSubjectTimeline(SUBJECT, {
      records: [],
      deadLetters: sampleDeadLetters(),
      unreadable: [
        { recordId: 'dns-sync:from-the-future', reason: 'schema version 2', error: new Error('v2') },
      ],
    });
    expect(marks.map((m) => [m.lane, m.status, m.title])).toEqual([
      ['other', 'unreadable', 'audit record this version cannot read: schema version 2'],
      ['dead-letter', 'dead-letter', 'runner-drain message dead-lettered after 3 tries'],
    ]);
    expect(marks[0]?.recordIds).toEqual(['dns-sync:from-the-future']);
    expect(marks[1]?.facts).toContainEqual(['message', 'msg-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0']);
  });

  it('orders marks by time', () => {
    const { marks } = buildSubjectTimeline(SUBJECT, {
      records: sampleRecords().reverse(),
      events: sampleEvents(),
      deadLetters: sampleDeadLetters(),
    });
    expect(marks.length).toBeGreaterThan(10);
    const times = marks.map((m) => Date.parse(m.time ?? ''));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });
});
