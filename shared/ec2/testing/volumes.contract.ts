import { describe, expect, it } from 'vitest';
import { ThrottledError } from '../../core/errors';
import { Ec2VolumeError, type Tag, type VolumeInfo, VolumeInUseError, type VolumePort } from '../volumes';

/** How a contract test arranges EC2 (and the role's tag condition) behind the subject. */
export interface VolumesHarness {
  volumes: VolumePort;
  /** A volume as EC2 holds it now. */
  put(v: VolumeInfo): void;
  /** EC2's state of the volume (undefined: EC2 does not know it). */
  stateOf(volumeId: string): string | undefined;
  throttleNext(): void;
  /** The tag the role's CreateSnapshot/DeleteVolume permissions are conditioned on. */
  fleetTag: Tag;
  /** Let EC2's eventual consistency catch up (a fake's describe lag). */
  settle(): void;
}

let n = 0;
/** A volume id EC2 would hand out (vol- and 17 hex digits). */
export const volumeId = () => `vol-0${(++n).toString(16).padStart(16, '0')}`;

export function aVolume(h: { fleetTag: Tag }, over: Partial<VolumeInfo> = {}): VolumeInfo {
  return {
    volumeId: volumeId(),
    state: 'available',
    sizeGiB: 100,
    volumeType: 'gp3',
    encrypted: true,
    createTime: '2026-11-01T00:00:00.000Z',
    attachedTo: [],
    tags: { [h.fleetTag.key]: h.fleetTag.value },
    ...over,
  };
}

/** The EBS calls orphaned-volumes relies on: the fake and the adapter (over a mocked EC2) alike. */
export function describeVolumesContract(name: string, make: () => VolumesHarness): void {
  describe(`VolumePort contract: ${name}`, () => {
    it('lists every detached fleet volume across pages, and nothing attached or foreign', async () => {
      const h = make();
      const fleet = Array.from({ length: 7 }, () => aVolume(h));
      for (const v of fleet) h.put(v);
      h.put(aVolume(h, { state: 'in-use', attachedTo: ['i-0123456789abcdef0'] }));
      h.put(aVolume(h, { tags: { team: 'data' } }));
      h.put(aVolume(h, { tags: { [h.fleetTag.key]: 'other-fleet' } }));
      const listed = await h.volumes.listAvailable(h.fleetTag);
      expect(listed.map((v) => v.volumeId).sort()).toEqual(fleet.map((v) => v.volumeId).sort());
      expect(listed[0]).toMatchObject({
        state: 'available',
        sizeGiB: 100,
        volumeType: 'gp3',
        attachedTo: [],
      });
    });

    it('describes volumes by id: attachments and state as they are; unknown ids omitted', async () => {
      const h = make();
      const a = aVolume(h, { state: 'in-use', attachedTo: ['i-0123456789abcdef0'], encrypted: false });
      h.put(a);
      const got = await h.volumes.describe([a.volumeId, 'vol-0ffffffffffffffff']);
      expect(got).toEqual([
        expect.objectContaining({ volumeId: a.volumeId, state: 'in-use', encrypted: false }),
      ]);
      expect(got[0]?.attachedTo).toEqual(['i-0123456789abcdef0']);
      await expect(h.volumes.describe([])).resolves.toEqual([]);
    });

    it('snapshots a fleet volume with its tags; snapshotsOf finds only the fleet snapshots of those volumes', async () => {
      const h = make();
      const a = aVolume(h);
      const b = aVolume(h);
      h.put(a);
      h.put(b);
      const tags = { [h.fleetTag.key]: h.fleetTag.value, 'fleetwarden:orphan-of': a.volumeId };
      const s = await h.volumes.snapshot(a.volumeId, tags, 'orphan');
      expect(s).toMatchObject({ volumeId: a.volumeId, tags });
      expect(s.snapshotId).toMatch(/^snap-[0-9a-f]+$/);
      await h.volumes.snapshot(b.volumeId, { [h.fleetTag.key]: h.fleetTag.value }, 'other');
      h.settle();
      const found = await h.volumes.snapshotsOf([a.volumeId], h.fleetTag);
      expect(found.map((x) => x.snapshotId)).toEqual([s.snapshotId]);
      await expect(h.volumes.snapshotsOf([], h.fleetTag)).resolves.toEqual([]);
    });

    it('deletes a detached fleet volume; deleting it again is already-gone', async () => {
      const h = make();
      const a = aVolume(h);
      h.put(a);
      await expect(h.volumes.delete(a.volumeId)).resolves.toBe('deleted');
      h.settle();
      expect(await h.volumes.describe([a.volumeId])).toEqual([]);
      await expect(h.volumes.delete(a.volumeId)).resolves.toBe('already-gone');
    });

    it('refuses to delete an attached volume (VolumeInUseError): it stays attached', async () => {
      const h = make();
      const a = aVolume(h, { state: 'in-use', attachedTo: ['i-0123456789abcdef0'] });
      h.put(a);
      await expect(h.volumes.delete(a.volumeId)).rejects.toBeInstanceOf(VolumeInUseError);
      expect(h.stateOf(a.volumeId)).toBe('in-use');
    });

    it('fails loudly (Ec2VolumeError) for a volume without the fleet tag: not deleted, not snapshotted', async () => {
      const h = make();
      const a = aVolume(h, { tags: { team: 'data' } });
      h.put(a);
      await expect(h.volumes.delete(a.volumeId)).rejects.toBeInstanceOf(Ec2VolumeError);
      await expect(h.volumes.snapshot(a.volumeId, { team: 'data' }, 'x')).rejects.toBeInstanceOf(
        Ec2VolumeError,
      );
      expect(h.stateOf(a.volumeId)).toBe('available');
    });

    it('lists the volumes attached to given instances, any tags, with DeleteOnTermination', async () => {
      const h = make();
      const a = aVolume(h, {
        state: 'in-use',
        attachedTo: ['i-0123456789abcdef0'],
        attachments: [{ instanceId: 'i-0123456789abcdef0', deleteOnTermination: false }],
        tags: {},
      });
      h.put(a);
      h.put(aVolume(h, { state: 'in-use', attachedTo: ['i-0fffffffffffffff0'] }));
      h.put(aVolume(h));
      const got = await h.volumes.listAttachedTo(['i-0123456789abcdef0']);
      expect(got.map((v) => v.volumeId)).toEqual([a.volumeId]);
      expect(got[0]?.attachments).toEqual([
        { instanceId: 'i-0123456789abcdef0', deleteOnTermination: false },
      ]);
      await expect(h.volumes.listAttachedTo([])).resolves.toEqual([]);
    });

    it('tags a fleet volume with one tag; a volume without the fleet tag is refused (Ec2VolumeError), untagged', async () => {
      const h = make();
      const a = aVolume(h, { state: 'in-use', attachedTo: ['i-0123456789abcdef0'] });
      const b = aVolume(h, { state: 'in-use', attachedTo: ['i-0123456789abcdef0'], tags: { team: 'data' } });
      h.put(a);
      h.put(b);
      await h.volumes.tagVolume(a.volumeId, 'fleetwarden:instance-id', 'i-0123456789abcdef0');
      await expect(
        h.volumes.tagVolume(b.volumeId, 'fleetwarden:instance-id', 'i-0123456789abcdef0'),
      ).rejects.toBeInstanceOf(Ec2VolumeError);
      h.settle();
      const [ta, tb] = await h.volumes.describe([a.volumeId, b.volumeId]);
      expect(ta?.tags).toEqual({ ...a.tags, 'fleetwarden:instance-id': 'i-0123456789abcdef0' });
      expect(tb?.tags).toEqual({ team: 'data' });
    });

    it('surfaces throttling as ThrottledError, deleting nothing', async () => {
      const h = make();
      const a = aVolume(h);
      h.put(a);
      h.throttleNext();
      await expect(h.volumes.delete(a.volumeId)).rejects.toBeInstanceOf(ThrottledError);
      expect(h.stateOf(a.volumeId)).toBe('available');
    });
  });
}
