import { ThrottledError } from '../../core/errors';
import {
  Ec2VolumeError,
  type SnapshotInfo,
  type Tag,
  type VolumeInfo,
  VolumeInUseError,
  type VolumePort,
} from '../volumes';

export interface InMemoryVolumesOptions {
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
  /** How long after CreateSnapshot/DeleteVolume the describe calls show it. @default 0 */
  lagMs?: number;
  /** How long a snapshot stays `pending` before it is `completed`. @default 0 */
  snapshotMs?: number;
  /**
   * The tag the role's CreateSnapshot/DeleteVolume permissions are conditioned on
   * (aws:ResourceTag on the volume, aws:RequestTag on the new snapshot): without it the call fails
   * with UnauthorizedOperation, as IAM would. @default - no condition
   */
  requireTag?: Tag;
}

interface Held {
  info: VolumeInfo;
  /** Deleted at (epoch ms): `deleting` until the lag has passed, then gone. */
  deletedAt?: number;
}

/**
 * EBS in memory, with the semantics orphaned-volumes relies on: DeleteVolume of an attached volume
 * fails (VolumeInUse) and of an unknown one is already gone (InvalidVolume.NotFound); the role's tag
 * condition fails the call; DescribeVolumes/DescribeSnapshots lag CreateSnapshot and DeleteVolume by
 * `lagMs`; throttling can be injected. `deleted` and `snapshotted` list every successful call.
 */
export class InMemoryVolumes implements VolumePort {
  private readonly held = new Map<string, Held>();
  private readonly snaps: Array<SnapshotInfo & { visibleAt: number; doneAt: number }> = [];
  private readonly now: () => number;
  private throttles = 0;
  private seq = 0;
  readonly deleted: string[] = [];
  readonly snapshotted: string[] = [];
  readonly tagged: string[] = [];

  constructor(private readonly options: InMemoryVolumesOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Record the volume as EC2 holds it now. */
  put(info: VolumeInfo): void {
    this.held.set(info.volumeId, {
      info: {
        ...info,
        attachedTo: [...info.attachedTo],
        attachments: (
          info.attachments ??
          info.attachedTo.map((instanceId) => ({ instanceId, deleteOnTermination: false }))
        ).map((a) => ({ ...a })),
        tags: { ...info.tags },
      },
    });
  }

  /**
   * Attach the volume to an instance (in-use), or detach it (available) with `undefined`.
   * DeleteOnTermination is false, as AttachVolume leaves it.
   */
  attach(volumeId: string, instanceId: string | undefined, deleteOnTermination = false): void {
    const h = this.held.get(volumeId);
    if (!h || h.deletedAt !== undefined) throw new Error(`unknown volume ${volumeId}`);
    h.info = {
      ...h.info,
      state: instanceId ? 'in-use' : 'available',
      attachedTo: instanceId ? [instanceId] : [],
      attachments: instanceId ? [{ instanceId, deleteOnTermination }] : [],
    };
  }

  /** EC2's state of the volume now (no lag); undefined once it is deleted. */
  stateOf(volumeId: string): string | undefined {
    const h = this.held.get(volumeId);
    return h && h.deletedAt === undefined ? h.info.state : undefined;
  }

  throttleNext(count = 1): void {
    this.throttles += count;
  }

  private call(operation: string): void {
    if (this.throttles > 0) {
      this.throttles--;
      throw new ThrottledError(`EC2 ${operation}: Request limit exceeded.`, 1000);
    }
  }

  private visible(): VolumeInfo[] {
    const lag = this.options.lagMs ?? 0;
    const out: VolumeInfo[] = [];
    for (const h of this.held.values()) {
      if (h.deletedAt === undefined) out.push(h.info);
      else if (this.now() < h.deletedAt + lag) out.push({ ...h.info, state: 'deleting' });
    }
    return out.map((v) => ({
      ...v,
      attachedTo: [...v.attachedTo],
      attachments: (v.attachments ?? []).map((a) => ({ ...a })),
      tags: { ...v.tags },
    }));
  }

  private denied(tags: Record<string, string>): boolean {
    const t = this.options.requireTag;
    return t !== undefined && tags[t.key] !== t.value;
  }

  async listAvailable(tag: Tag): Promise<VolumeInfo[]> {
    this.call('DescribeVolumes');
    return this.visible().filter((v) => v.state === 'available' && v.tags[tag.key] === tag.value);
  }

  async describe(volumeIds: readonly string[]): Promise<VolumeInfo[]> {
    if (volumeIds.length === 0) return [];
    this.call('DescribeVolumes');
    const ids = new Set(volumeIds);
    return this.visible().filter((v) => ids.has(v.volumeId));
  }

  async listAttachedTo(instanceIds: readonly string[]): Promise<VolumeInfo[]> {
    if (instanceIds.length === 0) return [];
    this.call('DescribeVolumes');
    const ids = new Set(instanceIds);
    return this.visible().filter((v) => v.attachedTo.some((i) => ids.has(i)));
  }

  async tagVolume(volumeId: string, key: string, value: string): Promise<void> {
    this.call('CreateTags');
    const h = this.held.get(volumeId);
    if (!h || h.deletedAt !== undefined)
      throw new Ec2VolumeError(`EC2 CreateTags failed: InvalidVolume.NotFound: ${volumeId}`);
    if (this.denied(h.info.tags))
      throw new Ec2VolumeError(`EC2 CreateTags failed: UnauthorizedOperation: ${volumeId}`);
    h.info = { ...h.info, tags: { ...h.info.tags, [key]: value } };
    this.tagged.push(volumeId);
  }

  async snapshotsOf(volumeIds: readonly string[], tag: Tag): Promise<SnapshotInfo[]> {
    if (volumeIds.length === 0) return [];
    this.call('DescribeSnapshots');
    const ids = new Set(volumeIds);
    const now = this.now();
    return this.snaps
      .filter((s) => now >= s.visibleAt && ids.has(s.volumeId) && s.tags[tag.key] === tag.value)
      .map(({ visibleAt: _v, doneAt, ...s }) => ({
        ...s,
        state: now >= doneAt ? ('completed' as const) : ('pending' as const),
        tags: { ...s.tags },
      }));
  }

  async snapshot(
    volumeId: string,
    tags: Record<string, string>,
    _description: string,
  ): Promise<SnapshotInfo> {
    this.call('CreateSnapshot');
    const h = this.held.get(volumeId);
    if (!h || h.deletedAt !== undefined)
      throw new Ec2VolumeError(`EC2 CreateSnapshot failed: InvalidVolume.NotFound: ${volumeId}`);
    if (this.denied(h.info.tags) || this.denied(tags))
      throw new Ec2VolumeError(`EC2 CreateSnapshot failed: UnauthorizedOperation: ${volumeId}`);
    const now = this.now();
    const snap = {
      snapshotId: `snap-0${(++this.seq).toString(16).padStart(16, '0')}`,
      volumeId,
      state: 'pending' as const,
      startTime: new Date(now).toISOString(),
      tags: { ...tags },
    };
    this.snaps.push({
      ...snap,
      visibleAt: now + (this.options.lagMs ?? 0),
      doneAt: now + (this.options.snapshotMs ?? 0),
    });
    this.snapshotted.push(volumeId);
    return { ...snap, tags: { ...tags } };
  }

  async delete(volumeId: string): Promise<'deleted' | 'already-gone'> {
    this.call('DeleteVolume');
    const h = this.held.get(volumeId);
    if (!h || h.deletedAt !== undefined) return 'already-gone';
    if (this.denied(h.info.tags))
      throw new Ec2VolumeError(`EC2 DeleteVolume failed: UnauthorizedOperation: ${volumeId}`);
    if (h.info.state === 'in-use' || h.info.attachedTo.length > 0)
      throw new VolumeInUseError(
        `EC2 DeleteVolume failed: VolumeInUse: ${volumeId} is attached to ${h.info.attachedTo.join(', ')}`,
      );
    h.deletedAt = this.now();
    this.deleted.push(volumeId);
    return 'deleted';
  }
}
