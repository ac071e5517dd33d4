import { EC2Client, EC2ServiceException, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { Ec2InventoryError } from './errors';
import { InMemoryInstanceInventory } from './in-memory-instance-inventory';
import { Ec2InstanceTerminator, InMemoryInstanceTerminator } from './instance-terminator';
import { describeInstanceTerminatorContract } from './instance-terminator.contract';

const ec2 = mockClient(EC2Client);
const err = (name: string) =>
  new EC2ServiceException({ name, $fault: 'client', message: name, $metadata: {} });

describe('Ec2InstanceTerminator', () => {
  beforeEach(() => ec2.reset());

  it('terminates the given ids in one call, and nothing for an empty list', async () => {
    ec2.on(TerminateInstancesCommand).resolves({ TerminatingInstances: [] });
    const t = new Ec2InstanceTerminator(ec2 as unknown as EC2Client);
    await t.terminate([]);
    await t.terminate(['i-0123456789abcdef0', 'i-0123456789abcdef1']);
    expect(ec2.commandCalls(TerminateInstancesCommand).map((c) => c.args[0].input.InstanceIds)).toEqual([
      ['i-0123456789abcdef0', 'i-0123456789abcdef1'],
    ]);
  });

  it('counts an instance EC2 no longer knows as terminated; throttling and denials are errors', async () => {
    const t = new Ec2InstanceTerminator(ec2 as unknown as EC2Client);
    ec2
      .on(TerminateInstancesCommand)
      .rejectsOnce(err('InvalidInstanceID.NotFound'))
      .rejectsOnce(err('RequestLimitExceeded'))
      .rejectsOnce(err('UnauthorizedOperation'));
    await expect(t.terminate(['i-0123456789abcdef0'])).resolves.toBeUndefined();
    await expect(t.terminate(['i-0123456789abcdef0'])).rejects.toBeInstanceOf(ThrottledError);
    await expect(t.terminate(['i-0123456789abcdef0'])).rejects.toBeInstanceOf(Ec2InventoryError);
  });
});

// ---- the same contract for the fake and the adapter ---------------------------------------------

const FLEET = { key: 'fleetwarden:fleet', value: 'runners' };

describeInstanceTerminatorContract('InMemoryInstanceTerminator', () => {
  const inventory = new InMemoryInstanceInventory();
  const terminator = new InMemoryInstanceTerminator(inventory, { requireTag: FLEET });
  return {
    terminator,
    launch: (instanceId, tags) => inventory.put({ instanceId, state: 'running', tags }),
    stateOf: (id) => inventory.visible().find((i) => i.instanceId === id)?.state,
    throttleNext: () => terminator.throttleNext(),
    fleetTag: FLEET,
  };
});

describeInstanceTerminatorContract('Ec2InstanceTerminator over a mocked EC2', () => {
  // EC2 as TerminateInstances behaves, with the role's aws:ResourceTag condition
  const ec2 = mockClient(EC2Client);
  const world = new Map<string, { state: string; tags: Record<string, string> }>();
  let throttle = 0;
  ec2.on(TerminateInstancesCommand).callsFake((input: { InstanceIds: string[] }) => {
    if (throttle > 0) {
      throttle--;
      throw err('RequestLimitExceeded');
    }
    const unknown = input.InstanceIds.filter((id) => !world.has(id));
    if (unknown.length > 0) throw err('InvalidInstanceID.NotFound');
    if (input.InstanceIds.some((id) => world.get(id)?.tags[FLEET.key] !== FLEET.value))
      throw err('UnauthorizedOperation');
    return {
      TerminatingInstances: input.InstanceIds.map((InstanceId) => {
        const i = world.get(InstanceId);
        const previous = i?.state ?? 'running';
        if (i && i.state === 'running') i.state = 'shutting-down';
        return {
          InstanceId,
          PreviousState: { Name: previous as 'running' },
          CurrentState: { Name: (i?.state ?? 'shutting-down') as 'shutting-down' },
        };
      }),
    };
  });
  return {
    terminator: new Ec2InstanceTerminator(ec2 as unknown as EC2Client),
    launch: (id, tags) => world.set(id, { state: 'running', tags }),
    stateOf: (id) => world.get(id)?.state,
    throttleNext: () => {
      throttle++;
    },
    fleetTag: FLEET,
  };
});
