import {
  DescribeInstancesCommand,
  type DescribeInstancesCommandOutput,
  type EC2Client,
  type Filter,
  type Instance,
} from '@aws-sdk/client-ec2';
import { defaultEc2Client } from '../aws/clients';
import { ThrottledError } from '../core/errors';
import { Ec2InventoryError } from './errors';
import type { InstanceInfo, InstanceInventory, InstanceState } from './port';

const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);
/** Filter values per DescribeInstances call when describing by id. */
const IDS_PER_CALL = 200;
const NOT_TERMINATED: InstanceState[] = ['pending', 'running', 'shutting-down', 'stopping', 'stopped'];

/** "User initiated (2026-11-24 10:00:00 GMT)" -> the ISO time; other reasons carry none. */
function stateChangedAt(reason: string | undefined): { stateChangedAt?: string } {
  const m = reason?.match(/\((\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}) GMT\)/);
  return m ? { stateChangedAt: `${m[1]}T${m[2]}.000Z` } : {};
}

function toInfo(i: Instance): InstanceInfo {
  const tags = Object.fromEntries((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
  const asg = tags['aws:autoscaling:groupName'];
  return {
    instanceId: i.InstanceId ?? '',
    state: (i.State?.Name ?? 'pending') as InstanceState,
    ...(i.PrivateIpAddress ? { privateIp: i.PrivateIpAddress } : {}),
    ...(i.PublicIpAddress ? { publicIp: i.PublicIpAddress } : {}),
    tags,
    ...(i.LaunchTime ? { launchTime: i.LaunchTime.toISOString() } : {}),
    ...stateChangedAt(i.StateTransitionReason),
    ...(asg ? { autoScalingGroupName: asg } : {}),
  };
}

/**
 * EC2 DescribeInstances behind the InstanceInventory port. Describes by the `instance-id` filter
 * (not InstanceIds, which fails the whole call with InvalidInstanceID.NotFound for one unknown id),
 * reads every page, and maps RequestLimitExceeded to ThrottledError.
 */
export class Ec2InstanceInventory implements InstanceInventory {
  constructor(private readonly client: EC2Client = defaultEc2Client()) {}

  async describe(instanceIds: readonly string[]): Promise<InstanceInfo[]> {
    const out: InstanceInfo[] = [];
    for (let k = 0; k < instanceIds.length; k += IDS_PER_CALL) {
      out.push(
        ...(await this.all([{ Name: 'instance-id', Values: instanceIds.slice(k, k + IDS_PER_CALL) }])),
      );
    }
    return out;
  }

  async listByTag(key: string, value?: string): Promise<InstanceInfo[]> {
    return this.all([
      value === undefined ? { Name: 'tag-key', Values: [key] } : { Name: `tag:${key}`, Values: [value] },
      { Name: 'instance-state-name', Values: NOT_TERMINATED },
    ]);
  }

  async listInStates(states: readonly InstanceState[]): Promise<InstanceInfo[]> {
    return this.all([{ Name: 'instance-state-name', Values: [...states] }]);
  }

  private async all(filters: Filter[]): Promise<InstanceInfo[]> {
    const out: InstanceInfo[] = [];
    let token: string | undefined;
    do {
      let page: DescribeInstancesCommandOutput;
      try {
        page = await this.client.send(
          new DescribeInstancesCommand({
            Filters: filters,
            MaxResults: 1000,
            ...(token ? { NextToken: token } : {}),
          }),
        );
      } catch (err) {
        const name = (err as Error).name;
        if (THROTTLING.has(name)) {
          throw new ThrottledError(`EC2 DescribeInstances throttled: ${(err as Error).message}`, 1000, {
            cause: err,
          });
        }
        throw new Ec2InventoryError(`EC2 DescribeInstances failed: ${name}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) out.push(toInfo(i));
      token = page.NextToken;
    } while (token);
    return out;
  }
}
