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

const TRANSITION_TIME =
  /(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?\s*(GMT|UTC|Z|[+-]\d{2}:?\d{2})(?![\w:])/;

/**
 * The time in a StateTransitionReason ("User initiated (2026-11-24 10:00:00 GMT)" on AWS; emulators
 * write UTC, offsets or ISO 8601), as ISO; undefined when there is none or it is not a valid time
 * with an explicit zone. Undefined means "unknown": the sweep then waits (grace from its own first
 * sighting), it never reads it as "long ago".
 */
export function parseStateTransitionTime(reason: string | undefined): string | undefined {
  const m = reason?.match(TRANSITION_TIME);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const local = Date.UTC(parts[0], parts[1] - 1, parts[2], parts[3], parts[4], parts[5]);
  const back = new Date(local);
  if (
    back.getUTCFullYear() !== parts[0] ||
    back.getUTCMonth() !== parts[1] - 1 ||
    back.getUTCDate() !== parts[2] ||
    back.getUTCHours() !== parts[3] ||
    back.getUTCMinutes() !== parts[4] ||
    back.getUTCSeconds() !== parts[5]
  )
    return undefined;
  const offset = /^[+-]/.test(zone ?? '')
    ? (zone?.startsWith('-') ? -1 : 1) * (Number(zone?.slice(1, 3)) * 60 + Number(zone?.slice(-2))) * 60_000
    : 0;
  const ms = frac ? Math.round(Number(frac) * 1000) : 0;
  return new Date(local - offset + ms).toISOString();
}

function stateChangedAt(reason: string | undefined): { stateChangedAt?: string } {
  const at = parseStateTransitionTime(reason);
  return at ? { stateChangedAt: at } : {};
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
