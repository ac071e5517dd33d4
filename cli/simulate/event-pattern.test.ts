import { describe, expect, it } from 'vitest';
import { matchesPattern } from './event-pattern';

// examples follow the EventBridge user guide ("Creating event patterns", "Content filtering")
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: {
    'instance-id': 'i-1234567890abcdef0',
    state: 'terminated',
    'c-count': 5,
    'source-ip': '10.0.0.7',
    tags: ['a', 'b'],
  },
};

describe('EventBridge event pattern matching', () => {
  it('matches exact values, arrays as OR, and nested detail', () => {
    expect(
      matchesPattern({ source: ['aws.ec2'], detail: { state: ['running', 'terminated'] } }, ec2Event),
    ).toBe(true);
    expect(matchesPattern({ source: ['aws.ec2'], detail: { state: ['running'] } }, ec2Event)).toBe(false);
    expect(matchesPattern({ 'detail-type': ['EC2 Instance State-change Notification'] }, ec2Event)).toBe(
      true,
    );
  });

  it('matches when any element of an array field matches', () => {
    expect(matchesPattern({ detail: { tags: ['b'] } }, ec2Event)).toBe(true);
    expect(matchesPattern({ resources: [{ prefix: 'arn:aws:ec2:us-west-1' }] }, ec2Event)).toBe(true);
  });

  it('supports prefix, suffix, equals-ignore-case and wildcard', () => {
    expect(matchesPattern({ detail: { state: [{ prefix: 'term' }] } }, ec2Event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ suffix: 'ated' }] } }, ec2Event)).toBe(true);
    expect(matchesPattern({ detail: { state: [{ 'equals-ignore-case': 'TERMINATED' }] } }, ec2Event)).toBe(
      true,
    );
    expect(matchesPattern({ detail: { 'instance-id': [{ wildcard: 'i-*def0' }] } }, ec2Event)).toBe(true);
    expect(matchesPattern({ detail: { 'instance-id': [{ wildcard: 'i-*abc' }] } }, ec2Event)).toBe(false);
  });

  it('supports anything-but (value, list and prefix)', () => {
    expect(matchesPattern({ detail: { state: [{ 'anything-but': 'running' }] } }, ec2Event)).toBe(true);
    expect(
      matchesPattern({ detail: { state: [{ 'anything-but': ['running', 'terminated'] }] } }, ec2Event),
    ).toBe(false);
    expect(matchesPattern({ detail: { state: [{ 'anything-but': { prefix: 'term' } }] } }, ec2Event)).toBe(
      false,
    );
  });

  it('supports numeric ranges, exists and cidr', () => {
    expect(matchesPattern({ detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, ec2Event)).toBe(true);
    expect(matchesPattern({ detail: { 'c-count': [{ numeric: ['>', 5] }] } }, ec2Event)).toBe(false);
    expect(matchesPattern({ detail: { 'instance-id': [{ exists: true }] } }, ec2Event)).toBe(true);
    expect(matchesPattern({ detail: { missing: [{ exists: false }] } }, ec2Event)).toBe(true);
    expect(matchesPattern({ detail: { missing: [{ exists: true }] } }, ec2Event)).toBe(false);
    expect(matchesPattern({ detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }, ec2Event)).toBe(true);
    expect(matchesPattern({ detail: { 'source-ip': [{ cidr: '10.0.1.0/24' }] } }, ec2Event)).toBe(false);
  });

  it('supports $or of sub-patterns', () => {
    expect(
      matchesPattern(
        { source: ['aws.ec2'], $or: [{ detail: { state: ['running'] } }, { detail: { 'c-count': [5] } }] },
        ec2Event,
      ),
    ).toBe(true);
    expect(
      matchesPattern({ $or: [{ detail: { state: ['running'] } }, { source: ['aws.s3'] }] }, ec2Event),
    ).toBe(false);
  });

  it('does not match a field that is absent (except exists:false), nor an object against a value list', () => {
    expect(matchesPattern({ detail: { nope: ['x'] } }, ec2Event)).toBe(false);
    expect(matchesPattern({ detail: ['x'] }, ec2Event)).toBe(false);
  });
});
