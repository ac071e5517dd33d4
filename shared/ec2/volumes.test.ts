import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  EC2ServiceException,
  type Filter,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ThrottledError } from '../core/errors';
import { InMemoryVolumes } from './testing/in-memory-volumes';
import { describeVolumesContract } from './testing/volumes.contract';
import { Ec2VolumeError, Ec2Volumes, monthlyCost, type VolumeInfo, VolumeInUseError } from './volumes';

const FLEET = { key: 'fleetwarden:fleet', value: 'runners' };
const err = (name: string) =>
  new EC2ServiceException({ name, $fault: 'client', message: name, $metadata: {} });

describe('monthlyCost', () => {
  it('prices storage per GB-month by type (us-east-1 list prices), overridable; unknown type: no price', () => {
    expect(monthlyCost({ sizeGiB: 100, volumeType: 'gp3' })).toBe(8);
    expect(monthlyCost({ sizeGiB: 500, volumeType: 'gp2' })).toBe(50);
    expect(monthlyCost({ sizeGiB: 8, volumeType: 'io2' })).toBe(1);
    expect(monthlyCost({ sizeGiB: 1000, volumeType: 'sc1' })).toBe(15);
    expect(monthlyCost({ sizeGiB: 100, volumeType: 'gp3' }, { gp3: 0.0952 })).toBe(9.52);
    expect(monthlyCost({ sizeGiB: 100, volumeType: 'gp9' })).toBeUndefined();
  });
});

describe('Ec2Volumes', () => {
  const ec2 = mockClient(EC2Client);
  beforeEach(() => ec2.reset());

  it('lists detached fleet volumes with filters, page by page', async () => {
    ec2
      .on(DescribeVolumesCommand)
      .resolvesOnce({
        Volumes: [{ VolumeId: 'vol-01', State: 'available', Size: 8, VolumeType: 'gp3' }],
        NextToken: 't1',
      })
      .resolvesOnce({
        Volumes: [{ VolumeId: 'vol-02', State: 'available', Size: 16, VolumeType: 'gp2', Encrypted: true }],
      });
    const got = await new Ec2Volumes(ec2 as unknown as EC2Client).listAvailable(FLEET);
    expect(got.map((v) => [v.volumeId, v.sizeGiB, v.volumeType, v.encrypted])).toEqual([
      ['vol-01', 8, 'gp3', false],
      ['vol-02', 16, 'gp2', true],
    ]);
    const inputs = ec2.commandCalls(DescribeVolumesCommand).map((c) => c.args[0].input);
    expect(inputs[0]?.Filters).toEqual([
      { Name: 'status', Values: ['available'] },
      { Name: 'tag:fleetwarden:fleet', Values: ['runners'] },
    ]);
    expect(inputs[1]?.NextToken).toBe('t1');
  });

  it('creates snapshots tagged on creation, and maps EC2 errors to named ones', async () => {
    ec2.on(CreateSnapshotCommand).resolves({
      SnapshotId: 'snap-01',
      VolumeId: 'vol-01',
      State: 'pending',
      StartTime: new Date('2026-11-30T08:00:00Z'),
    });
    const v = new Ec2Volumes(ec2 as unknown as EC2Client);
    const s = await v.snapshot('vol-01', { a: 'b' }, 'why');
    expect(s).toEqual({
      snapshotId: 'snap-01',
      volumeId: 'vol-01',
      state: 'pending',
      startTime: '2026-11-30T08:00:00.000Z',
      tags: { a: 'b' },
    });
    expect(ec2.commandCalls(CreateSnapshotCommand)[0]?.args[0].input).toEqual({
      VolumeId: 'vol-01',
      Description: 'why',
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'a', Value: 'b' }] }],
    });
    ec2
      .on(DeleteVolumeCommand)
      .rejectsOnce(err('InvalidVolume.NotFound'))
      .rejectsOnce(err('VolumeInUse'))
      .rejectsOnce(err('RequestLimitExceeded'))
      .rejectsOnce(err('UnauthorizedOperation'));
    await expect(v.delete('vol-01')).resolves.toBe('already-gone');
    await expect(v.delete('vol-01')).rejects.toBeInstanceOf(VolumeInUseError);
    await expect(v.delete('vol-01')).rejects.toBeInstanceOf(ThrottledError);
    const denied = await v.delete('vol-01').catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Ec2VolumeError);
    expect((denied as Error).cause).toBeInstanceOf(EC2ServiceException);
  });

  it('tags one volume with one tag (CreateTags) and lists attachments by instance filter', async () => {
    ec2.on(CreateTagsCommand).resolvesOnce({}).rejectsOnce(err('UnauthorizedOperation'));
    ec2.on(DescribeVolumesCommand).resolves({ Volumes: [] });
    const v = new Ec2Volumes(ec2 as unknown as EC2Client);
    await v.tagVolume('vol-01', 'fleetwarden:instance-id', 'i-01');
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input).toEqual({
      Resources: ['vol-01'],
      Tags: [{ Key: 'fleetwarden:instance-id', Value: 'i-01' }],
    });
    await expect(v.tagVolume('vol-01', 'k', 'v')).rejects.toBeInstanceOf(Ec2VolumeError);
    await v.listAttachedTo(['i-01', 'i-02']);
    expect(ec2.commandCalls(DescribeVolumesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: 'attachment.instance-id', Values: ['i-01', 'i-02'] },
    ]);
  });
});

// ---- the same contract for the fake and the adapter ---------------------------------------------

describeVolumesContract('InMemoryVolumes', () => {
  let now = Date.parse('2026-11-30T08:00:00Z');
  const volumes = new InMemoryVolumes({ now: () => now, lagMs: 2_000, requireTag: FLEET });
  return {
    volumes,
    put: (v) => volumes.put(v),
    stateOf: (id) => volumes.stateOf(id),
    throttleNext: () => volumes.throttleNext(),
    fleetTag: FLEET,
    settle: () => {
      now += 2_000;
    },
  };
});

/** EBS as DescribeVolumes/DescribeSnapshots/CreateSnapshot/DeleteVolume behave, pages of 3. */
function emulatedEc2() {
  const ec2 = mockClient(EC2Client);
  const vols = new Map<string, VolumeInfo>();
  const snaps: Array<{ SnapshotId: string; VolumeId: string; tags: Record<string, string> }> = [];
  let throttle = 0;
  const gate = () => {
    if (throttle > 0) {
      throttle--;
      throw err('RequestLimitExceeded');
    }
  };
  const match = (filters: Filter[] | undefined, get: (name: string) => string | undefined) =>
    (filters ?? []).every((f) => f.Values?.includes(get(f.Name ?? '') ?? '\u0000'));
  const page = <T>(items: T[], token: string | undefined) => {
    const start = Number(token ?? 0);
    const next = start + 3 < items.length ? String(start + 3) : undefined;
    return { items: items.slice(start, start + 3), next };
  };
  ec2.on(DescribeVolumesCommand).callsFake((input: { Filters?: Filter[]; NextToken?: string }) => {
    gate();
    const on = input.Filters?.find((f) => f.Name === 'attachment.instance-id')?.Values;
    const rest = input.Filters?.filter((f) => f.Name !== 'attachment.instance-id');
    const all = [...vols.values()].filter(
      (v) =>
        (!on || v.attachedTo.some((i) => on.includes(i))) &&
        match(rest, (n) =>
          n === 'status'
            ? v.state
            : n === 'volume-id'
              ? v.volumeId
              : n.startsWith('tag:')
                ? v.tags[n.slice(4)]
                : undefined,
        ),
    );
    const { items, next } = page(all, input.NextToken);
    return {
      Volumes: items.map((v) => ({
        VolumeId: v.volumeId,
        State: v.state,
        Size: v.sizeGiB,
        VolumeType: v.volumeType,
        Encrypted: v.encrypted,
        CreateTime: v.createTime ? new Date(v.createTime) : undefined,
        Attachments: v.attachedTo.map((InstanceId) => ({
          InstanceId,
          State: 'attached',
          VolumeId: v.volumeId,
          DeleteOnTermination:
            v.attachments?.find((a) => a.instanceId === InstanceId)?.deleteOnTermination ?? false,
        })),
        Tags: Object.entries(v.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
      NextToken: next,
    };
  });
  ec2.on(DescribeSnapshotsCommand).callsFake((input: { Filters?: Filter[]; OwnerIds?: string[] }) => {
    gate();
    if (input.OwnerIds?.[0] !== 'self') throw err('InvalidParameterValue');
    const found = snaps.filter((s) =>
      match(input.Filters, (n) =>
        n === 'volume-id' ? s.VolumeId : n.startsWith('tag:') ? s.tags[n.slice(4)] : undefined,
      ),
    );
    return {
      Snapshots: found.map((s) => ({
        SnapshotId: s.SnapshotId,
        VolumeId: s.VolumeId,
        State: 'completed',
        StartTime: new Date('2026-11-30T08:00:00Z'),
        Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })),
      })),
    };
  });
  ec2
    .on(CreateSnapshotCommand)
    .callsFake(
      (input: {
        VolumeId: string;
        TagSpecifications?: Array<{ Tags?: Array<{ Key: string; Value: string }> }>;
      }) => {
        gate();
        const v = vols.get(input.VolumeId);
        if (!v) throw err('InvalidVolume.NotFound');
        const tags = Object.fromEntries(
          (input.TagSpecifications?.[0]?.Tags ?? []).map((t) => [t.Key, t.Value]),
        );
        if (v.tags[FLEET.key] !== FLEET.value || tags[FLEET.key] !== FLEET.value)
          throw err('UnauthorizedOperation');
        const SnapshotId = `snap-0${(snaps.length + 1).toString(16).padStart(16, '0')}`;
        snaps.push({ SnapshotId, VolumeId: v.volumeId, tags });
        return {
          SnapshotId,
          VolumeId: v.volumeId,
          State: 'pending',
          StartTime: new Date('2026-11-30T08:00:00Z'),
        };
      },
    );
  ec2
    .on(CreateTagsCommand)
    .callsFake((input: { Resources: string[]; Tags: Array<{ Key: string; Value: string }> }) => {
      gate();
      for (const id of input.Resources) {
        const v = vols.get(id);
        if (!v) throw err('InvalidVolume.NotFound');
        // the role: CreateTags on volumes carrying the fleet tag, of the instance tag key only
        if (v.tags[FLEET.key] !== FLEET.value || input.Tags.some((t) => t.Key !== 'fleetwarden:instance-id'))
          throw err('UnauthorizedOperation');
      }
      for (const id of input.Resources) {
        const v = vols.get(id);
        if (v)
          vols.set(id, {
            ...v,
            tags: { ...v.tags, ...Object.fromEntries(input.Tags.map((t) => [t.Key, t.Value])) },
          });
      }
      return {};
    });
  ec2.on(DeleteVolumeCommand).callsFake((input: { VolumeId: string }) => {
    gate();
    const v = vols.get(input.VolumeId);
    if (!v) throw err('InvalidVolume.NotFound');
    if (v.tags[FLEET.key] !== FLEET.value) throw err('UnauthorizedOperation');
    if (v.state === 'in-use') throw err('VolumeInUse');
    vols.delete(input.VolumeId);
    return {};
  });
  return {
    ec2,
    vols,
    throttle: () => {
      throttle++;
    },
  };
}

describeVolumesContract('Ec2Volumes over a mocked EC2', () => {
  const e = emulatedEc2();
  return {
    volumes: new Ec2Volumes(e.ec2 as unknown as EC2Client),
    put: (v) => e.vols.set(v.volumeId, v),
    stateOf: (id) => e.vols.get(id)?.state,
    throttleNext: e.throttle,
    fleetTag: FLEET,
    settle: () => {},
  };
});
