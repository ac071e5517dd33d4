import { describe, expect, it } from 'vitest';
import type { ApprovalGate } from '../../shared/kernel/approval';
import { FLEET_TAG, simulateOrphanedVolumes, simulation } from './simulation';

const APPROVE: ApprovalGate = { check: async () => ({ approved: true, approvalId: 'sim', by: 'simulator' }) };
const ALL = { foreignOrphanVolumes: true, reattachedVolumes: true };
const failed = (r: Awaited<ReturnType<typeof simulateOrphanedVolumes>>) =>
  r.invariants.filter((i) => !i.ok).map((i) => i.name);

describe('orphaned-volumes simulation', () => {
  it('declares its faults (CLI flags) and invariants', () => {
    expect(simulation.faults.map((f) => f.flag)).toEqual(['foreign-orphan-volumes', 'reattached-volumes']);
  });

  it('report-only: snapshots the fleet orphans, deletes nothing, keeps every invariant under both faults', async () => {
    const r = await simulateOrphanedVolumes({ hours: 4, faults: ALL });
    expect(failed(r)).toEqual([]);
    expect(r.deleted).toEqual([]);
    // four fleet orphans, one of them re-attached by the fault before its snapshot
    expect(r.snapshotted).toHaveLength(3);
    expect(r.invariants[0]?.checked).toBe(3);
    const reported = r.records.filter((x) => x.action === 'volume.delete' && x.decision === 'reported');
    expect(reported.length).toBeGreaterThan(0);
    // 50 + 9 + 1 (the re-attached 8 is no orphan); the non-fleet instance's 8, gone from EC2, unproven
    expect(r.monthlyCostUsd).toEqual({ orphaned: 60, unattributed: 8 });
  });

  it('approved: deletes the fleet orphans past their grace, and only those', async () => {
    const r = await simulateOrphanedVolumes({ hours: 4, faults: ALL, gate: APPROVE });
    expect(failed(r)).toEqual([]);
    expect(r.deleted.sort()).toEqual([...r.snapshotted].sort());
    expect(r.deleted).toHaveLength(3);
  });

  it('its invariants catch a cleaner without re-verification or approval', async () => {
    const r = await simulateOrphanedVolumes({
      hours: 4,
      faults: ALL,
      handler: (w) => async () => {
        for (const v of await w.volumes.listAvailable(FLEET_TAG)) {
          await w.volumes.snapshot(v.volumeId, { [FLEET_TAG.key]: FLEET_TAG.value }, 'naive');
          await w.volumes.delete(v.volumeId).catch(() => undefined);
        }
      },
    });
    expect(failed(r)).toEqual([
      'no volume of a live or non-fleet instance (nor an attached one) is snapshotted or deleted',
      'no volume is deleted without an approval',
    ]);
  });
});
