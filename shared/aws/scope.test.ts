import { describe, expect, it } from 'vitest';
import { DrainRetrySchema, TerminateLifecycleEventSchema } from '../runners/lifecycle-event';
import { scopeHintOf, scopeOf, scopesOf, type Topology, topologyFromEnv } from './scope';
import { TOPOLOGY_ENV } from './scope-env';

const HUB = { account: '111111111111', region: 'eu-west-1' };
const topology: Topology = {
  hub: HUB,
  spokes: [
    { account: '222222222222', region: 'eu-west-1' },
    { account: '222222222222', region: 'us-east-1' },
  ],
  fleetId: 'prod',
  partition: 'aws',
};
const ec2Event = (account: string, region: string) => ({
  id: 'e-1',
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  account,
  region,
  time: '2026-11-30T10:00:00Z',
  detail: { 'instance-id': 'i-0123456789abcdef0', state: 'running' },
});

describe('scopeOf: where an event may be acted on', () => {
  it("an event of the hub's own account and region acts in the hub", () => {
    expect(scopeOf(ec2Event(HUB.account, HUB.region), topology)).toEqual({ kind: 'hub', scope: HUB });
  });

  it("a spoke's event acts in its own account and region, and nowhere else", () => {
    expect(scopeOf(ec2Event('222222222222', 'us-east-1'), topology)).toEqual({
      kind: 'spoke',
      scope: { account: '222222222222', region: 'us-east-1' },
    });
  });

  it('an account that is neither the hub nor a spoke is refused', () => {
    expect(scopeOf(ec2Event('333333333333', 'eu-west-1'), topology)).toEqual({
      kind: 'unknown',
      account: '333333333333',
      region: 'eu-west-1',
    });
  });

  it("a spoke account in a region it is not configured for is refused (the hub's region included)", () => {
    expect(scopeOf(ec2Event('222222222222', 'ap-south-1'), topology).kind).toBe('unknown');
    expect(scopeOf(ec2Event(HUB.account, 'us-east-1'), topology).kind).toBe('unknown');
  });

  it('an account without a region (or a non-string one) is refused, never taken for the hub', () => {
    expect(scopeOf({ account: HUB.account }, topology).kind).toBe('unknown');
    expect(scopeOf({ account: 222222222222, region: 'eu-west-1' }, topology).kind).toBe('unknown');
  });

  it("a message with no account at all (the drain's own retry, a malformed body) is the hub's", () => {
    expect(scopeOf({ fleetwarden: 'something' }, topology)).toEqual({ kind: 'hub', scope: HUB });
    expect(scopeOf('not an object', topology)).toEqual({ kind: 'hub', scope: HUB });
  });

  it('a drain retry carries the scope of the lifecycle event it looks at again', () => {
    const retry = { fleetwarden: 'drain-retry', attempt: 2, event: ec2Event('222222222222', 'eu-west-1') };
    expect(scopeHintOf(retry)).toEqual({ account: '222222222222', region: 'eu-west-1' });
    expect(scopeOf(retry, topology).kind).toBe('spoke');
  });

  it('without a topology (no spokes deployed) everything is the single account, as before', () => {
    expect(scopeOf(ec2Event('333333333333', 'eu-west-1'), undefined)).toEqual({
      kind: 'hub',
      scope: undefined,
    });
  });
});

describe('topologyFromEnv', () => {
  it('reads the hub account, the region the function runs in, the spokes, the fleet id and partition', () => {
    const t = topologyFromEnv({
      [TOPOLOGY_ENV.hubAccount]: HUB.account,
      AWS_REGION: HUB.region,
      [TOPOLOGY_ENV.spokes]: '222222222222:eu-west-1,222222222222:us-east-1',
      [TOPOLOGY_ENV.fleetId]: 'prod',
      [TOPOLOGY_ENV.partition]: 'aws',
    });
    expect(t).toEqual(topology);
    expect(scopesOf(t as Topology)).toEqual([HUB, ...topology.spokes]);
  });

  it('is undefined when no spokes are deployed (the single-account setup of today)', () => {
    expect(topologyFromEnv({ AWS_REGION: 'eu-west-1' })).toBeUndefined();
  });

  it('refuses a half-deployed topology, naming what is missing', () => {
    expect(() =>
      topologyFromEnv({ [TOPOLOGY_ENV.spokes]: '222222222222:eu-west-1', AWS_REGION: 'eu-west-1' }),
    ).toThrow(/FLEETWARDEN_HUB_ACCOUNT/);
    expect(() =>
      topologyFromEnv({
        [TOPOLOGY_ENV.hubAccount]: HUB.account,
        AWS_REGION: HUB.region,
        [TOPOLOGY_ENV.spokes]: '2222:eu-west-1',
        [TOPOLOGY_ENV.fleetId]: 'prod',
        [TOPOLOGY_ENV.partition]: 'aws',
      }),
    ).toThrow(/2222:eu-west-1/);
  });
});

describe("a spoke's lifecycle action looked at again stays in its spoke", () => {
  it('the drain retry built from a parsed terminate event keeps its account and region', () => {
    const event = TerminateLifecycleEventSchema.parse({
      id: 'e-7',
      source: 'aws.autoscaling',
      'detail-type': 'EC2 Instance-terminate Lifecycle Action',
      account: '222222222222',
      region: 'us-east-1',
      time: '2026-11-30T10:00:00Z',
      detail: {
        LifecycleActionToken: 't',
        AutoScalingGroupName: 'runners',
        LifecycleHookName: 'fleetwarden-drain',
        EC2InstanceId: 'i-0123456789abcdef0',
        LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
      },
    });
    const retry = DrainRetrySchema.parse(
      JSON.parse(JSON.stringify({ fleetwarden: 'drain-retry', attempt: 1, event })),
    );
    expect(
      scopeOf(retry, { ...topology, spokes: [{ account: '222222222222', region: 'us-east-1' }] }),
    ).toEqual({
      kind: 'spoke',
      scope: { account: '222222222222', region: 'us-east-1' },
    });
  });
});
