import { DescribeInstancesCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { Ec2InstanceInventory } from './ec2-instance-inventory';
import { Ec2InventoryError } from './errors';
import { InMemoryInstanceInventory } from './in-memory-instance-inventory';
import { describeInstanceInventoryContract } from './instance-inventory.contract';
import { scriptDescribeInstances } from './testing/scripted-describe-instances';

const ec2 = mockClient(EC2Client);
const client = new EC2Client({ region: 'eu-west-1' });
const adapter = new Ec2InstanceInventory(client);

describeInstanceInventoryContract('Ec2InstanceInventory (scripted DescribeInstances)', () => {
  ec2.reset();
  let now = Date.parse('2026-11-24T10:00:00Z');
  const fake = new InMemoryInstanceInventory({ now: () => now, lagMs: 2000 });
  scriptDescribeInstances(ec2, fake);
  return {
    inventory: adapter,
    put: (i) => fake.put(i),
    advance: (ms) => (now += ms),
    throttleNext: (n) => fake.throttleNext(n),
    lagMs: 2000,
  };
});

describe('Ec2InstanceInventory on API-reference shapes', () => {
  beforeEach(() => ec2.reset());

  it('describes by the instance-id filter (unknown ids are not an error), 200 ids per call', async () => {
    ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const ids = Array.from({ length: 450 }, (_, n) => `i-${String(n).padStart(17, '0')}`);
    await adapter.describe(ids);
    const calls = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.Filters?.[0]?.Values?.length)).toEqual([200, 200, 50]);
    expect(calls[0]).toMatchObject({ Filters: [{ Name: 'instance-id' }], MaxResults: 1000 });
    expect(calls[0]?.InstanceIds).toBeUndefined();
  });

  it('lists by tag with a state filter that leaves out terminated, reading the ASG name tag', async () => {
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          ReservationId: 'r-0a1b2c3d4e5f67890',
          Instances: [
            {
              InstanceId: 'i-0a1b2c3d4e5f67890',
              State: { Code: 16, Name: 'running' },
              PrivateIpAddress: '10.0.1.17',
              LaunchTime: new Date('2026-11-24T09:00:00Z'),
              Tags: [
                { Key: 'fleetwarden:dns-name', Value: 'web' },
                { Key: 'aws:autoscaling:groupName', Value: 'web-asg' },
              ],
            },
          ],
        },
      ],
    });
    const out = await adapter.listByTag('fleetwarden:dns-name', 'web');
    expect(out).toEqual([
      {
        instanceId: 'i-0a1b2c3d4e5f67890',
        state: 'running',
        privateIp: '10.0.1.17',
        launchTime: '2026-11-24T09:00:00.000Z',
        tags: { 'fleetwarden:dns-name': 'web', 'aws:autoscaling:groupName': 'web-asg' },
        autoScalingGroupName: 'web-asg',
      },
    ]);
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'tag:fleetwarden:dns-name', Values: ['web'] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] },
    ]);
  });

  it('never returns a partial listing: a failing page fails the call', async () => {
    const cause = new EC2ServiceException({
      name: 'UnauthorizedOperation',
      $fault: 'client',
      message: 'You are not authorized',
      $metadata: {},
    });
    ec2.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [], NextToken: 'p2' }).rejectsOnce(cause);
    const err = await adapter.listByTag('k').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Ec2InventoryError);
    expect((err as Error).cause).toBe(cause);
  });
});

describe('state transition time (StateTransitionReason is free text)', () => {
  it.each([
    ['User initiated (2026-11-24 10:00:00 GMT)', '2026-11-24T10:00:00.000Z'],
    ['User initiated (2026-11-24 10:00:00 UTC)', '2026-11-24T10:00:00.000Z'],
    ['User initiated (2026-11-24 12:00:00 +0200)', '2026-11-24T10:00:00.000Z'],
    ['User initiated (2026-11-24 05:00:00 -05:00)', '2026-11-24T10:00:00.000Z'],
    ['Service initiated (2026-11-24T10:00:00Z)', '2026-11-24T10:00:00.000Z'],
    ['User initiated (2026-11-24T10:00:00.250+00:00)', '2026-11-24T10:00:00.250Z'],
  ])('reads "%s" as %s', async (reason, iso) => {
    ec2.reset();
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [{ InstanceId: 'i-0abc', State: { Name: 'terminated' }, StateTransitionReason: reason }],
        },
      ],
    });
    expect((await adapter.describe(['i-0abc']))[0]?.stateChangedAt).toBe(iso);
  });

  it.each([
    'Server.SpotInstanceTermination: Spot instance termination',
    'User initiated (yesterday)',
    'User initiated (2026-13-45 99:99:99 GMT)',
    'User initiated (2026-11-24 10:00:00 CEST)',
  ])('gives no time for "%s" (unknown: the sweep then waits, never skips its grace)', async (reason) => {
    ec2.reset();
    ec2.on(DescribeInstancesCommand).resolves({
      Reservations: [
        { Instances: [{ InstanceId: 'i-0abc', State: { Name: 'stopped' }, StateTransitionReason: reason }] },
      ],
    });
    expect((await adapter.describe(['i-0abc']))[0]?.stateChangedAt).toBeUndefined();
  });
});
