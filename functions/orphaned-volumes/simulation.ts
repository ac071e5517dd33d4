/**
 * orphaned-volumes in the simulator: the faults it must withstand and the invariants it must keep.
 *
 * - fault `foreign-orphan-volumes`: a non-fleet instance terminates leaving a detached volume that
 *   carries the fleet tag (copied tags) and names it; a live fleet instance has its data volume
 *   detached (maintenance). Neither may be touched.
 * - fault `reattached-volumes`: an orphan is attached to a new instance right after the listing
 *   that found it, before the action (the re-check must catch it).
 * - invariant: no volume of a live or non-fleet instance, nor an attached one, is snapshotted or
 *   deleted (checked at every CreateSnapshot/DeleteVolume against the ground truth).
 * - invariant: no volume is deleted without an approval (an acted `volume.delete` record carrying
 *   the gate's approval).
 *
 * Self-contained: it needs only a clock, a scheduler and the in-memory EC2 fakes (`VolumeWorld`),
 * which the simulator's Engine provides once World has a `volumes` port; it plugs into the
 * per-function simulation registry as `{ function, faults, watch, injectError, invariants }`.
 * `simulateOrphanedVolumes` runs it alone (tests, and until the registry lands).
 */
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import type { AuditRecord } from '../../shared/audit/schema';
import { stateChangeEvent } from '../../shared/dns/testing/state-change-event';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import { InMemoryVolumes } from '../../shared/ec2/testing/in-memory-volumes';
import { type ApprovalGate, REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { readSettings } from '../../shared/kernel/settings';
import { orphanedVolumes } from './definition';

/** What the simulation needs of the simulator. */
export interface VolumeWorld {
  clock: { now: number };
  inventory: InMemoryInstanceInventory;
  volumes: InMemoryVolumes;
  /** Run `fn` at simulated epoch ms `time`. */
  at(time: number, fn: () => void): void;
  /** An instance reached `terminated` (the simulator sends EC2's state-change event). */
  terminated?(instanceId: string): void;
}

export interface Invariant {
  name: string;
  ok: boolean;
  details: string[];
  checked: number;
}

export const FLEET_TAG = { key: 'fleetwarden:fleet', value: 'runners' };
const INSTANCE_TAG = 'fleetwarden:instance-id';

/** Ground truth per world: each volume's instance, whether it is the fleet's and still live. */
interface Truth {
  owners: Map<string, { instanceId: string; fleet: boolean; live: boolean }>;
  violations: string[];
  checked: number;
  next: number;
}
const truths = new WeakMap<VolumeWorld, Truth>();
function truth(w: VolumeWorld): Truth {
  let t = truths.get(w);
  if (!t) {
    t = { owners: new Map(), violations: [], checked: 0, next: 0 };
    truths.set(w, t);
  }
  return t;
}

const hex = (n: number, prefix: string) => `${prefix}${n.toString(16).padStart(16, '0')}`;

/**
 * At `at`, launch an instance (fleet-tagged or not) with a DeleteOnTermination-false volume that
 * carries the fleet tag and names the instance; a minute later the volume is detached, and the
 * instance terminates (`live: false`) or keeps running (`live: true`).
 */
export function launchWithVolume(
  w: VolumeWorld,
  at: number,
  o: { fleet: boolean; live: boolean; sizeGiB?: number; volumeType?: string; encrypted?: boolean },
): { instanceId: string; volumeId: string } {
  const t = truth(w);
  const n = ++t.next;
  const instanceId = hex(n, 'i-0');
  const volumeId = hex(n, 'vol-0');
  w.at(at, () => {
    t.owners.set(volumeId, { instanceId, fleet: o.fleet, live: true });
    w.inventory.put({
      instanceId,
      state: 'running',
      tags: o.fleet ? { [FLEET_TAG.key]: FLEET_TAG.value } : {},
    });
    w.volumes.put({
      volumeId,
      state: 'in-use',
      sizeGiB: o.sizeGiB ?? 100,
      volumeType: o.volumeType ?? 'gp3',
      encrypted: o.encrypted ?? true,
      attachedTo: [instanceId],
      tags: { [FLEET_TAG.key]: FLEET_TAG.value, [INSTANCE_TAG]: instanceId },
    });
  });
  w.at(at + 60_000, () => {
    w.volumes.attach(volumeId, undefined);
    if (o.live) return;
    const owner = t.owners.get(volumeId);
    if (owner) owner.live = false;
    const tags = o.fleet ? { [FLEET_TAG.key]: FLEET_TAG.value } : {};
    w.inventory.put({ instanceId, state: 'terminated', tags });
    w.terminated?.(instanceId);
  });
  return { instanceId, volumeId };
}

/** The scenario: fleet runners that leave orphans (sizes and types vary), spread over the run. */
export function scheduleOrphans(w: VolumeWorld, t0: number): void {
  const kinds = [
    { sizeGiB: 100, volumeType: 'gp3' },
    { sizeGiB: 500, volumeType: 'gp2', encrypted: false },
    { sizeGiB: 200, volumeType: 'st1' },
    { sizeGiB: 8, volumeType: 'io2' },
  ];
  for (const [i, k] of kinds.entries())
    launchWithVolume(w, t0 + i * 10 * 60_000, { fleet: true, live: false, ...k });
}

/** --foreign-orphan-volumes: a non-fleet instance's orphan with copied fleet tags; a live instance's detached volume. */
function scheduleForeignAndLive(w: VolumeWorld, t0: number): void {
  launchWithVolume(w, t0 + 5 * 60_000, { fleet: false, live: false });
  launchWithVolume(w, t0 + 15 * 60_000, { fleet: true, live: true });
}

/** --reattached-volumes: the first orphan a listing returns is attached to a new instance right after it. */
function installReattach(w: VolumeWorld): void {
  const list = w.volumes.listAvailable.bind(w.volumes);
  let done = false;
  w.volumes.listAvailable = async (tag) => {
    const listed = await list(tag);
    const victim = done ? undefined : listed.find((v) => truth(w).owners.get(v.volumeId)?.fleet);
    if (victim) {
      done = true;
      const t = truth(w);
      const instanceId = hex(++t.next, 'i-0');
      w.inventory.put({ instanceId, state: 'running', tags: { [FLEET_TAG.key]: FLEET_TAG.value } });
      w.volumes.attach(victim.volumeId, instanceId);
      t.owners.set(victim.volumeId, { instanceId, fleet: true, live: true });
    }
    return listed;
  };
}

/** Every CreateSnapshot/DeleteVolume is checked against the ground truth before it is sent. */
function watchVolumeCalls(w: VolumeWorld): void {
  const t = truth(w);
  const judge = (op: string, volumeId: string) => {
    t.checked++;
    const owner = t.owners.get(volumeId);
    const state = w.volumes.stateOf(volumeId);
    const at = new Date(w.clock.now).toISOString();
    if (!owner) t.violations.push(`${at} ${op} ${volumeId}: a volume the scenario never created`);
    else if (!owner.fleet)
      t.violations.push(`${at} ${op} ${volumeId} of non-fleet instance ${owner.instanceId}`);
    else if (owner.live) t.violations.push(`${at} ${op} ${volumeId} of live instance ${owner.instanceId}`);
    else if (state !== 'available') t.violations.push(`${at} ${op} ${volumeId} while it is ${state}`);
  };
  const snapshot = w.volumes.snapshot.bind(w.volumes);
  const del = w.volumes.delete.bind(w.volumes);
  w.volumes.snapshot = async (id, tags, d) => {
    judge('CreateSnapshot', id);
    return snapshot(id, tags, d);
  };
  w.volumes.delete = async (id) => {
    judge('DeleteVolume', id);
    return del(id);
  };
}

export function volumesOfLiveOrForeignUntouched(w: VolumeWorld): Invariant {
  const t = truth(w);
  const details = [...t.violations];
  return {
    name: 'no volume of a live or non-fleet instance (nor an attached one) is snapshotted or deleted',
    ok: details.length === 0,
    details,
    checked: t.checked,
  };
}

export function noDeletionWithoutApproval(w: VolumeWorld, records: readonly AuditRecord[]): Invariant {
  const approved = new Set(
    records
      .filter(
        (r) => r.action === 'volume.delete' && r.decision === 'acted' && r.details?.approval !== undefined,
      )
      .map((r) => r.subject.recordName),
  );
  const details = w.volumes.deleted
    .filter((id) => !approved.has(id))
    .map((id) => `${id} deleted without an approved volume.delete record`);
  return {
    name: 'no volume is deleted without an approval',
    ok: details.length === 0,
    details,
    checked: w.volumes.deleted.length,
  };
}

export const simulation = {
  function: 'orphaned-volumes',
  faults: [
    {
      flag: 'foreign-orphan-volumes',
      description:
        "a non-fleet instance's orphaned volume carrying the fleet tag, and a live fleet instance's detached volume",
      schedule: scheduleForeignAndLive,
    },
    {
      flag: 'reattached-volumes',
      description: 'attach an orphan to a new instance right after the listing that found it',
      install: installReattach,
    },
  ],
  watch: watchVolumeCalls,
  injectError: (w: VolumeWorld) => w.volumes.throttleNext(),
  invariants: (w: VolumeWorld, records: readonly AuditRecord[]) => [
    volumesOfLiveOrForeignUntouched(w),
    noDeletionWithoutApproval(w, records),
  ],
};

// ---- standalone run (tests; until the simulator's registry and World wire `volumes`) -------------

export interface StandaloneOptions {
  hours: number;
  faults?: { foreignOrphanVolumes?: boolean; reattachedVolumes?: boolean };
  gate?: ApprovalGate;
  /** Extra environment (settings); GRACE_PERIOD_SECONDS is 3600 so deletions come into play. */
  env?: Record<string, string>;
  /** A deliberately broken handler instead of the definition's (invariant tests). */
  handler?: (w: VolumeWorld) => (event: unknown) => Promise<unknown>;
}

/**
 * Run orphaned-volumes alone: a deterministic simulated clock (no randomness); the scenario's orphans; the
 * faults asked for; a scheduled sweep every 30 min and EC2's terminated events (5 s after the
 * change); every handler failure counted (Lambda would retry it). Returns the invariants.
 */
export async function simulateOrphanedVolumes(o: StandaloneOptions) {
  const T0 = Date.parse('2026-11-30T00:00:00Z');
  const clock = { now: T0 };
  const queue: Array<{ at: number; seq: number; fn: () => unknown }> = [];
  let seq = 0;
  const at = (time: number, fn: () => unknown) => queue.push({ at: time, seq: seq++, fn });
  const audit = new InMemoryAuditSink();
  const inventory = new InMemoryInstanceInventory({ now: () => clock.now, lagMs: 2_000 });
  const volumes = new InMemoryVolumes({
    now: () => clock.now,
    lagMs: 2_000,
    snapshotMs: 10 * 60_000,
    requireTag: FLEET_TAG,
  });
  let failures = 0;
  let handler: (event: unknown) => Promise<unknown> = async () => undefined;
  const invoke = async (event: unknown) => handler(event).catch(() => void failures++);
  const w: VolumeWorld = {
    clock,
    inventory,
    volumes,
    at,
    terminated: (id) =>
      at(clock.now + 5_000, () => invoke(stateChangeEvent(id, 'terminated', clock.now - 5_000))),
  };
  const env = { AUDIT_TABLE_NAME: 'sim', DRY_RUN: 'false', GRACE_PERIOD_SECONDS: '3600', ...o.env };
  const runtime = { now: () => new Date(clock.now), gate: o.gate ?? REPORT_ONLY_GATE };
  handler =
    o.handler?.(w) ??
    orphanedVolumes.create(
      { audit, inventory, volumes },
      readSettings(orphanedVolumes.settings, env),
      runtime,
    );
  scheduleOrphans(w, T0 + 60_000);
  if (o.faults?.foreignOrphanVolumes) scheduleForeignAndLive(w, T0 + 60_000);
  if (o.faults?.reattachedVolumes) installReattach(w);
  watchVolumeCalls(w);
  for (let m = 30; m <= o.hours * 60; m += 30)
    at(T0 + m * 60_000, () =>
      invoke({
        id: `sweep-${m}`,
        source: 'aws.events',
        'detail-type': 'Scheduled Event',
        time: new Date(clock.now).toISOString(),
      }),
    );
  while (queue.length > 0) {
    queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = queue.shift() as (typeof queue)[number];
    clock.now = Math.max(clock.now, next.at);
    await next.fn();
  }
  const records = audit.all();
  const sweep = records.filter((r) => r.action === 'volume.sweep').at(-1);
  return {
    invariants: simulation.invariants(w, records),
    records,
    snapshotted: [...volumes.snapshotted],
    deleted: [...volumes.deleted],
    monthlyCostUsd: sweep?.details?.monthlyCostUsd,
    failures,
  };
}
