import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type EC2Client,
  EC2ServiceException,
  type Filter,
  type InstanceStateName,
} from '@aws-sdk/client-ec2';
import type { AwsClientStub } from 'aws-sdk-client-mock';
import { ThrottledError } from '../../core/errors';
import type { InMemoryInstanceInventory } from '../in-memory-instance-inventory';
import type { InstanceInfo } from '../port';

const STATE_CODES: Record<string, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

/** DescribeInstances wire shape of one instance (API reference: Reservation.Instances[]). */
export function toWireInstance(i: InstanceInfo) {
  return {
    InstanceId: i.instanceId,
    State: { Name: i.state as InstanceStateName, Code: STATE_CODES[i.state] },
    ...(i.privateIp ? { PrivateIpAddress: i.privateIp } : {}),
    ...(i.publicIp ? { PublicIpAddress: i.publicIp } : {}),
    ...(i.launchTime ? { LaunchTime: new Date(i.launchTime) } : {}),
    ...(i.stateChangedAt
      ? { StateTransitionReason: `User initiated (${i.stateChangedAt.slice(0, 19).replace('T', ' ')} GMT)` }
      : {}),
    Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

/**
 * Scripts an EC2 SDK stub so DescribeInstances answers like the API, backed by an
 * InMemoryInstanceInventory: Filters (instance-id, tag-key, tag:<key>, instance-state-name),
 * MaxResults 5-1000 (answered in pages of at most `pageSize` to exercise NextToken), two instances
 * per reservation, RequestLimitExceeded ("Request limit exceeded.") when throttled.
 */
export function scriptDescribeInstances(
  stub: AwsClientStub<EC2Client>,
  inventory: InMemoryInstanceInventory,
  pageSize = 5,
): void {
  let requestNo = 0;
  stub.on(DescribeInstancesCommand).callsFake(async (input: DescribeInstancesCommandInput) => {
    const $metadata = { httpStatusCode: 200, requestId: `ec2-req-${++requestNo}` };
    if (input.InstanceIds?.length)
      throw new Error('scripted DescribeInstances: the adapter must use the instance-id filter');
    const max = input.MaxResults ?? 1000;
    if (max < 5 || max > 1000) {
      throw new EC2ServiceException({
        name: 'InvalidParameterValue',
        $fault: 'client',
        message: 'MaxResults',
        $metadata,
      });
    }
    let found: InstanceInfo[];
    try {
      found = await (async () => {
        const filters = new Map<string, string[]>(
          (input.Filters ?? []).map((f: Filter) => [f.Name ?? '', f.Values ?? []]),
        );
        const ids = filters.get('instance-id');
        const tagKey = filters.get('tag-key')?.[0];
        const tagEntry = [...filters.entries()].find(([k]) => k.startsWith('tag:'));
        let list = ids
          ? await inventory.describe(ids)
          : tagEntry
            ? await inventory.listByTag(tagEntry[0].slice(4), tagEntry[1][0] ?? '')
            : tagKey
              ? await inventory.listByTag(tagKey)
              : inventory.visible();
        const states = filters.get('instance-state-name');
        if (states) list = list.filter((i) => states.includes(i.state));
        return list;
      })();
    } catch (err) {
      if (err instanceof ThrottledError) {
        throw new EC2ServiceException({
          name: 'RequestLimitExceeded',
          $fault: 'client',
          message: 'Request limit exceeded.',
          $metadata: { httpStatusCode: 503, requestId: `ec2-req-${++requestNo}` },
        });
      }
      throw err;
    }
    const offset = input.NextToken ? Number(input.NextToken) : 0;
    const size = Math.min(max, pageSize);
    const page = found.slice(offset, offset + size);
    const Reservations = [];
    for (let k = 0; k < page.length; k += 2) {
      Reservations.push({
        ReservationId: `r-${offset + k}`,
        Instances: page.slice(k, k + 2).map(toWireInstance),
      });
    }
    return {
      $metadata,
      Reservations,
      ...(offset + size < found.length ? { NextToken: String(offset + size) } : {}),
    };
  });
}
