import { EventBridgeSchema as PowertoolsEventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { EventBridgeSchema } from './eventbridge-schema';

const EVENT = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2026-11-30T08:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:ec2:eu-west-1:111122223333:instance/i-0123456789abcdef0'],
  detail: { 'instance-id': 'i-0123456789abcdef0', state: 'running' },
};

describe("EventBridgeSchema (Powertools' envelope, imported so bundles leave zod's locales out)", () => {
  it('has the same fields as Powertools parser’s EventBridgeSchema', () => {
    expect(Object.keys(EventBridgeSchema.shape).sort()).toEqual(
      Object.keys(PowertoolsEventBridgeSchema.shape).sort(),
    );
  });

  it.each([
    ['a valid event', EVENT],
    ['with replay-name', { ...EVENT, 'replay-name': 'r1' }],
    ['a bad time', { ...EVENT, time: 'yesterday' }],
    ['no id', { ...EVENT, id: undefined }],
    ['resources not a list', { ...EVENT, resources: 'x' }],
    ['no detail', { ...EVENT, detail: undefined }],
  ])('accepts and refuses as Powertools does: %s', (_, input) => {
    const ours = EventBridgeSchema.safeParse(input);
    const theirs = PowertoolsEventBridgeSchema.safeParse(input);
    expect(ours.success).toBe(theirs.success);
    if (ours.success && theirs.success) expect(ours.data).toEqual(theirs.data);
  });
});

describe('EventBridgeSchema in a bundle', () => {
  it('is a zod/mini schema, which esbuild shakes (classic zod adds ~75 KB to every function)', () => {
    expect(EventBridgeSchema).toBeInstanceOf(z.ZodMiniObject);
  });
});
