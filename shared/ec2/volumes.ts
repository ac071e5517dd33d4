import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client,
  type Filter,
  type Snapshot,
  type Volume,
} from '@aws-sdk/client-ec2';
import { defaultEc2Client } from '../aws/clients';
import { FleetwardenError, ThrottledError } from '../core/errors';

/**
 * Port: EBS volumes and their snapshots (orphaned-volumes, `fleetwarden posture`). Implementations:
 * `Ec2Volumes` (the SDK adapter below) and `InMemoryVolumes` (shared/ec2/testing/in-memory-volumes.ts),
 * held to one contract (shared/ec2/testing/volumes.contract.ts).
 */
export type VolumeState = 'creating' | 'available' | 'in-use' | 'deleting' | 'deleted' | 'error';

export interface VolumeInfo {
  volumeId: string;
  state: VolumeState;
  sizeGiB: number;
  /** gp3, gp2, io1, io2, st1, sc1, standard. */
  volumeType: string;
  encrypted: boolean;
  createTime?: string;
  /** Instances it is attached to (any attachment state: attaching, attached, detaching). */
  attachedTo: string[];
  /** Each attachment with its DeleteOnTermination flag (as DescribeVolumes gives it); absent: unknown. */
  attachments?: Array<{ instanceId: string; deleteOnTermination: boolean }>;
  tags: Record<string, string>;
}

export interface SnapshotInfo {
  snapshotId: string;
  volumeId: string;
  state: 'pending' | 'completed' | 'error' | 'recoverable' | 'recovering';
  startTime: string;
  tags: Record<string, string>;
}

export interface Tag {
  key: string;
  value: string;
}

export interface VolumePort {
  /** Every detached volume (state `available`) carrying `tag`, reading every page. Throws if a page fails. */
  listAvailable(tag: Tag): Promise<VolumeInfo[]>;
  /** Describe these ids now. Ids EC2 does not know (any more) are omitted, not thrown. */
  describe(volumeIds: readonly string[]): Promise<VolumeInfo[]>;
  /** Every volume attached to one of these instances (any tags), reading every page. */
  listAttachedTo(instanceIds: readonly string[]): Promise<VolumeInfo[]>;
  /**
   * CreateTags of one tag on the volume (the role may write only that key, only on fleet volumes:
   * a volume without the fleet tag fails with Ec2VolumeError, UnauthorizedOperation).
   */
  tagVolume(volumeId: string, key: string, value: string): Promise<void>;
  /** The account's own snapshots of these volumes that carry `tag` (the fleet's snapshots). */
  snapshotsOf(volumeIds: readonly string[], tag: Tag): Promise<SnapshotInfo[]>;
  /** CreateSnapshot of the volume, tagged on creation with `tags`. */
  snapshot(volumeId: string, tags: Record<string, string>, description: string): Promise<SnapshotInfo>;
  /**
   * DeleteVolume. A volume EC2 no longer knows is `already-gone` (done, by design); an attached one
   * fails with VolumeInUseError and stays.
   */
  delete(volumeId: string): Promise<'deleted' | 'already-gone'>;
}

/** An EBS call failed (denied, bad request, service error). */
export class Ec2VolumeError extends FleetwardenError {
  override readonly name: string = 'Ec2VolumeError';
}
/** DeleteVolume of a volume that is attached (EC2's VolumeInUse): nothing was deleted. */
export class VolumeInUseError extends Ec2VolumeError {
  override readonly name: string = 'VolumeInUseError';
}

/**
 * us-east-1 list prices of EBS storage, USD per GB-month (aws.amazon.com/ebs/pricing, 2026):
 * storage only (io1/io2 provisioned IOPS and gp3 IOPS/throughput above the baseline are billed on
 * top). Every price is overridable (setting `PRICE_PER_GB_MONTH`) for other regions and contracts.
 */
export const EBS_LIST_PRICES: Readonly<Record<string, number>> = {
  gp3: 0.08,
  gp2: 0.1,
  io1: 0.125,
  io2: 0.125,
  st1: 0.045,
  sc1: 0.015,
  standard: 0.05,
};

/** What the volume's storage costs a month (USD, cents rounded); undefined for a type without a price. */
export function monthlyCost(
  volume: Pick<VolumeInfo, 'sizeGiB' | 'volumeType'>,
  prices: Readonly<Record<string, number>> = EBS_LIST_PRICES,
): number | undefined {
  const price = prices[volume.volumeType];
  return price === undefined ? undefined : Math.round(volume.sizeGiB * price * 100) / 100;
}

/**
 * A detached volume carrying the fleet tag: the shape of an orphan left by a fleet instance whose
 * volume had DeleteOnTermination false (orphaned-volumes decides, with the instance's state, whether
 * it is one; the posture scan flags the unencrypted ones).
 */
export function isDetachedFleetVolume(v: VolumeInfo, fleetTag: Tag): boolean {
  return v.state === 'available' && v.attachedTo.length === 0 && v.tags[fleetTag.key] === fleetTag.value;
}

const THROTTLING = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);
/** Filter values per call when describing by id. */
const IDS_PER_CALL = 200;

function failure(operation: string, err: unknown): Error {
  const e = err as { name?: string; message?: string };
  const what = `EC2 ${operation} failed: ${e.name}: ${e.message}`;
  if (THROTTLING.has(e.name ?? '')) return new ThrottledError(what, undefined, { cause: err });
  if (e.name === 'VolumeInUse') return new VolumeInUseError(what, { cause: err });
  return new Ec2VolumeError(what, { cause: err });
}

const tagsOf = (tags: Array<{ Key?: string; Value?: string }> | undefined) =>
  Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));

/** A DescribeVolumes item as the port describes it. */
export function toVolume(v: Volume): VolumeInfo {
  return {
    volumeId: v.VolumeId ?? '',
    state: (v.State ?? 'error') as VolumeState,
    sizeGiB: v.Size ?? 0,
    volumeType: v.VolumeType ?? 'unknown',
    encrypted: v.Encrypted ?? false,
    ...(v.CreateTime ? { createTime: v.CreateTime.toISOString() } : {}),
    attachedTo: (v.Attachments ?? []).map((a) => a.InstanceId ?? '').filter(Boolean),
    attachments: (v.Attachments ?? [])
      .filter((a) => a.InstanceId)
      .map((a) => ({ instanceId: a.InstanceId ?? '', deleteOnTermination: a.DeleteOnTermination ?? false })),
    tags: tagsOf(v.Tags),
  };
}

function toSnapshot(s: Snapshot, tags?: Record<string, string>): SnapshotInfo {
  return {
    snapshotId: s.SnapshotId ?? '',
    volumeId: s.VolumeId ?? '',
    state: (s.State ?? 'pending') as SnapshotInfo['state'],
    startTime: (s.StartTime ?? new Date(0)).toISOString(),
    tags: tags ?? tagsOf(s.Tags),
  };
}

/**
 * EBS through the EC2 SDK (the memoised, instrumented client by default). Listings read every page
 * and filter server-side (`volume-id` filters, not VolumeIds, so an unknown id is omitted instead of
 * failing the call); DeleteVolume maps InvalidVolume.NotFound to `already-gone` and VolumeInUse to
 * VolumeInUseError; throttling is ThrottledError, any other failure Ec2VolumeError (with `cause`).
 */
export class Ec2Volumes implements VolumePort {
  constructor(private readonly client: EC2Client = defaultEc2Client()) {}

  listAvailable(tag: Tag): Promise<VolumeInfo[]> {
    return this.volumes([
      { Name: 'status', Values: ['available'] },
      { Name: `tag:${tag.key}`, Values: [tag.value] },
    ]);
  }

  async describe(volumeIds: readonly string[]): Promise<VolumeInfo[]> {
    const out: VolumeInfo[] = [];
    for (let i = 0; i < volumeIds.length; i += IDS_PER_CALL)
      out.push(
        ...(await this.volumes([{ Name: 'volume-id', Values: volumeIds.slice(i, i + IDS_PER_CALL) }])),
      );
    return out;
  }

  async listAttachedTo(instanceIds: readonly string[]): Promise<VolumeInfo[]> {
    const out: VolumeInfo[] = [];
    for (let i = 0; i < instanceIds.length; i += IDS_PER_CALL)
      out.push(
        ...(await this.volumes([
          { Name: 'attachment.instance-id', Values: instanceIds.slice(i, i + IDS_PER_CALL) },
        ])),
      );
    return out;
  }

  async tagVolume(volumeId: string, key: string, value: string): Promise<void> {
    await this.send('CreateTags', () =>
      this.client.send(new CreateTagsCommand({ Resources: [volumeId], Tags: [{ Key: key, Value: value }] })),
    );
  }

  async snapshotsOf(volumeIds: readonly string[], tag: Tag): Promise<SnapshotInfo[]> {
    const out: SnapshotInfo[] = [];
    for (let i = 0; i < volumeIds.length; i += IDS_PER_CALL) {
      const Filters = [
        { Name: 'volume-id', Values: volumeIds.slice(i, i + IDS_PER_CALL) },
        { Name: `tag:${tag.key}`, Values: [tag.value] },
      ];
      let token: string | undefined;
      do {
        const page = await this.send('DescribeSnapshots', () =>
          this.client.send(
            new DescribeSnapshotsCommand({
              OwnerIds: ['self'],
              Filters,
              MaxResults: 1000,
              ...(token ? { NextToken: token } : {}),
            }),
          ),
        );
        out.push(...(page.Snapshots ?? []).map((s) => toSnapshot(s)));
        token = page.NextToken;
      } while (token);
    }
    return out;
  }

  async snapshot(volumeId: string, tags: Record<string, string>, description: string): Promise<SnapshotInfo> {
    const Tags = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    const out = await this.send('CreateSnapshot', () =>
      this.client.send(
        new CreateSnapshotCommand({
          VolumeId: volumeId,
          Description: description,
          TagSpecifications: [{ ResourceType: 'snapshot', Tags }],
        }),
      ),
    );
    return toSnapshot(out, { ...tags });
  }

  async delete(volumeId: string): Promise<'deleted' | 'already-gone'> {
    try {
      await this.client.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
      return 'deleted';
    } catch (err) {
      if ((err as { name?: string }).name === 'InvalidVolume.NotFound') return 'already-gone';
      throw failure('DeleteVolume', err);
    }
  }

  private async volumes(Filters: Filter[]): Promise<VolumeInfo[]> {
    const out: VolumeInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.send('DescribeVolumes', () =>
        this.client.send(
          new DescribeVolumesCommand({ Filters, MaxResults: 500, ...(token ? { NextToken: token } : {}) }),
        ),
      );
      out.push(...(page.Volumes ?? []).map(toVolume));
      token = page.NextToken;
    } while (token);
    return out;
  }

  private async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      throw failure(operation, err);
    }
  }
}
