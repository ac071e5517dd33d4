import { describe, expect, it } from 'vitest';
import { stateChangeEvent, tagChangeEvent } from '../../shared/dns/testing/state-change-event';
import { lifecycleEvent } from './fleet-model';
import { inScope } from './forwarding';
import { instanceIdOf } from './scopes';

const SPOKE = { account: '210987654321', region: 'us-east-1' };

describe('instanceIdOf: the instance an event names (the scope invariant judges calls about it)', () => {
  it("finds a state change's instance (detail.instance-id)", () => {
    expect(instanceIdOf(stateChangeEvent('i-0123456789abcdef0', 'running', 0))).toBe('i-0123456789abcdef0');
  });

  it("finds a lifecycle action's instance (detail.EC2InstanceId)", () => {
    const ref = {
      autoScalingGroupName: 'g',
      lifecycleHookName: 'h',
      lifecycleActionToken: 't',
      instanceId: 'i-0123456789abcdef1',
    };
    expect(instanceIdOf(lifecycleEvent(ref, 'ev-1', 0))).toBe('i-0123456789abcdef1');
  });

  it("finds a tag change's instance, named only by its ARN in resources", () => {
    const event = inScope(tagChangeEvent('i-0123456789abcdef2', ['Name'], { Name: 'web-1' }, 0), SPOKE);
    expect(instanceIdOf(event)).toBe('i-0123456789abcdef2');
  });

  it('names no instance for an event about none, or a resource that is no instance', () => {
    expect(instanceIdOf({ id: 'x', detail: {} })).toBeUndefined();
    expect(
      instanceIdOf({ resources: ['arn:aws:ec2:eu-west-1:123456789012:volume/vol-0123456789abcdef0'] }),
    ).toBeUndefined();
    expect(instanceIdOf(undefined)).toBeUndefined();
  });
});
