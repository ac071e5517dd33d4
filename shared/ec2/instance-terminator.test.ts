import { EC2Client, EC2ServiceException, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { Ec2InventoryError } from './errors';
import { Ec2InstanceTerminator } from './instance-terminator';

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
