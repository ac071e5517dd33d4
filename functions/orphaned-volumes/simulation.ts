/**
 * orphaned-volumes in the simulator: the volumes its scenario leaves, the faults it must withstand
 * and the invariants it must keep. Deployed by the simulated stack from its definition (`deploy`),
 * with a grace period of 1 h so that deletions come up within a run (and meet the report-only gate).
 *
 * - scenario (every run): each runner of the fleet is launched with a data volume as the fleet's
 *   launch template makes it (DeleteOnTermination false, only the fleet tag, propagated by the
 *   template: the function itself must write fleetwarden:instance-id while the instance lives),
 *   attached while the instance lives, `available` once it terminated.
 * - fault `foreign-orphan-volumes`: the web hosts (not the fleet's) have a data volume with the
 *   fleet's tags, instance tag included, copied onto it (another team's copy of the launch template
 *   and user data), orphaned when the
 *   operator terminates them; a live runner has its data volume detached (maintenance). Neither
 *   may be touched.
 * - fault `reattached-volumes`: the first orphan a listing returns is attached to a live runner right
 *   after the listing, before the action (the re-check must catch it).
 * - invariant: no volume of a live or non-fleet instance, nor an attached one, is snapshotted or
 *   deleted, and none is tagged but one attached to a live fleet instance (each CreateSnapshot,
 *   DeleteVolume and CreateTags EC2 accepted, judged against the ground truth).
 * - invariant: no volume is deleted without an approval (an acted `volume.delete` record carrying
 *   the gate's approval); the simulator's gate is report-only, so no deletion at all.
 *
 * Its chaos draws come from a stream of its own (`ownRandom`): adding it changed no other
 * function's seeded run.
 */
import { T0 } from '../../cli/simulate/engine';
import type { TruthInstance } from '../../cli/simulate/fleet-model';
import {
  envOf,
  type Invariant,
  invariant,
  type RemediationSimulation,
  relTime,
} from '../../cli/simulate/remediation-simulation';
import type { Engine } from '../../cli/simulate/scenario';
import type { AuditRecord } from '../../shared/audit/schema';
import type { InstanceInfo } from '../../shared/ec2/port';

const FN = 'orphaned-volumes';

/** Ground truth per run: each volume's instance (the one it is attached to, or was last). */
interface VolumeTruth {
  owners: Map<string, string>;
  violations: string[];
  checked: number;
}
const truths = new WeakMap<Engine, VolumeTruth>();
export function volumeTruth(e: Engine): VolumeTruth {
  let t = truths.get(e);
  if (!t) {
    t = { owners: new Map(), violations: [], checked: 0 };
    truths.set(e, t);
  }
  return t;
}

/**
 * The tags a data volume is launched with (as deployed): the fleet tag only, as a launch template
 * propagating its tags writes it; a foreign copy (`foreign-orphan-volumes`) writes the instance tag too.
 */
function volumeTags(e: Engine, t: TruthInstance): Record<string, string> {
  const env = envOf(e, FN);
  return {
    [env.FLEET_TAG_KEY ?? 'fleetwarden:fleet']: env.FLEET_TAG_VALUE ?? 'runners',
    ...(isFleet(e, t) ? {} : { [env.INSTANCE_TAG_KEY ?? 'fleetwarden:instance-id']: t.id }),
  };
}

/** The data volume of an instance: one per instance, named after it. */
export const volumeOf = (instanceId: string) => `vol-${instanceId.slice(2)}`;

/** Whether the instance is the fleet's as deployed: a runner of one of the configured ASGs. */
function isFleet(e: Engine, t: TruthInstance): boolean {
  const asgs = (envOf(e, FN).AUTO_SCALING_GROUP_NAMES ?? '').split(',').filter(Boolean);
  return t.kind === 'runner' && t.asg !== undefined && (asgs.length === 0 || asgs.includes(t.asg));
}

/**
 * Every instance `carries` picks gets a data volume at launch (attached, DeleteOnTermination false);
 * when it terminates, the volume is detached: `available`, an orphan.
 */
function giveDataVolumes(e: Engine, carries: (t: TruthInstance) => boolean): void {
  const inventory = e.world.inventory;
  const put = inventory.put.bind(inventory);
  inventory.put = (info: InstanceInfo) => {
    put(info);
    const t = e.truth.get(info.instanceId);
    if (!t || !carries(t)) return;
    const volumeId = volumeOf(t.id);
    const owners = volumeTruth(e).owners;
    if (info.state === 'pending' && !owners.has(volumeId)) {
      owners.set(volumeId, t.id);
      e.world.volumes.put({
        volumeId,
        state: 'in-use',
        sizeGiB: 100,
        volumeType: 'gp3',
        encrypted: true,
        createTime: new Date(e.clock.now).toISOString(),
        attachedTo: [t.id],
        attachments: [{ instanceId: t.id, deleteOnTermination: false }],
        tags: volumeTags(e, t),
      });
    }
    if (info.state === 'terminated')
      for (const [v, owner] of owners)
        if (owner === t.id && e.world.volumes.stateOf(v) === 'in-use') e.world.volumes.attach(v, undefined);
  };
}

/** A running runner of the fleet (the first by id), if any. */
const liveRunner = (e: Engine) =>
  [...e.truth.values()]
    .filter((t) => t.state === 'running' && isFleet(e, t))
    .sort((a, b) => a.id.localeCompare(b.id))[0];

/** --foreign-orphan-volumes, at 15 min: a live runner's data volume is detached (maintenance). */
function detachLiveVolume(e: Engine): void {
  e.at(T0 + 15 * 60_000, () => {
    const t = liveRunner(e);
    if (t && e.world.volumes.stateOf(volumeOf(t.id)) === 'in-use')
      e.world.volumes.attach(volumeOf(t.id), undefined);
  });
}

/** --reattached-volumes: the first orphan a listing returns is attached to a live runner right after it. */
function reattachAfterListing(e: Engine): void {
  const volumes = e.world.volumes;
  const list = volumes.listAvailable.bind(volumes);
  let done = false;
  volumes.listAvailable = async (tag) => {
    const listed = await list(tag);
    const owners = volumeTruth(e).owners;
    const victim = done
      ? undefined
      : listed.find((v) => {
          const owner = e.truth.get(owners.get(v.volumeId) ?? '');
          return owner !== undefined && isFleet(e, owner) && owner.state === 'terminated';
        });
    const to = victim && liveRunner(e);
    if (victim && to) {
      done = true;
      volumes.attach(victim.volumeId, to.id);
      owners.set(victim.volumeId, to.id);
    }
    return listed;
  };
}

/** Why touching the volume now breaks the ownership rule, if it does. */
function violation(e: Engine, op: string, volumeId: string): string | undefined {
  const ownerId = volumeTruth(e).owners.get(volumeId);
  const owner = ownerId === undefined ? undefined : e.truth.get(ownerId);
  const state = e.world.volumes.stateOf(volumeId);
  const what = `${relTime(e)} ${op} ${volumeId}`;
  if (!owner) return `${what}: a volume of no instance the scenario launched`;
  if (!isFleet(e, owner)) return `${what} of non-fleet instance ${owner.id} (${owner.kind})`;
  if (owner.state !== 'terminated') return `${what} of live instance ${owner.id} (${owner.state})`;
  if (state !== 'available') return `${what} while it is ${state}`;
  return undefined;
}

/** Why tagging the volume now breaks the ownership rule: only a live fleet instance's attached volume. */
function tagViolation(e: Engine, volumeId: string, instanceId: string): string | undefined {
  const ownerId = volumeTruth(e).owners.get(volumeId);
  const owner = ownerId === undefined ? undefined : e.truth.get(ownerId);
  const what = `${relTime(e)} CreateTags ${volumeId}`;
  if (!owner) return `${what}: a volume of no instance the scenario launched`;
  if (!isFleet(e, owner)) return `${what} of non-fleet instance ${owner.id} (${owner.kind})`;
  if (owner.state === 'terminated') return `${what} of terminated instance ${owner.id}`;
  if (owner.id !== instanceId) return `${what} of ${owner.id}, naming ${instanceId}`;
  if (e.world.volumes.stateOf(volumeId) !== 'in-use') return `${what} while it is detached`;
  return undefined;
}

/** Every CreateSnapshot/DeleteVolume/CreateTags EC2 accepts is judged against the ground truth as it was sent. */
function judgeVolumeCalls(e: Engine): void {
  const t = volumeTruth(e);
  const volumes = e.world.volumes;
  const snapshot = volumes.snapshot.bind(volumes);
  const del = volumes.delete.bind(volumes);
  const tag = volumes.tagVolume.bind(volumes);
  const judged = async <R>(
    op: string,
    volumeId: string,
    call: () => Promise<R>,
    judge: () => string | undefined = () => violation(e, op, volumeId),
  ): Promise<R> => {
    const verdict = judge();
    const out = await call();
    t.checked++;
    if (verdict) t.violations.push(verdict);
    return out;
  };
  volumes.snapshot = (id, tags, d) => judged('CreateSnapshot', id, () => snapshot(id, tags, d));
  volumes.delete = (id) => judged('DeleteVolume', id, () => del(id));
  volumes.tagVolume = (id, k, v) =>
    judged(
      'CreateTags',
      id,
      () => tag(id, k, v),
      () => tagViolation(e, id, v),
    );
}

export function volumesOfLiveOrForeignUntouched(e: Engine): Invariant {
  const t = volumeTruth(e);
  return invariant(
    "no volume of a live or non-fleet instance (nor an attached one) is snapshotted or deleted, nor tagged unless a live fleet instance's",
    [...t.violations],
    t.checked,
  );
}

export function noDeletionWithoutApproval(e: Engine, records: readonly AuditRecord[]): Invariant {
  const decided = records.filter((r) => r.action === 'volume.delete' && r.decision !== 'intended');
  const approved = new Set(
    decided
      .filter((r) => r.decision === 'acted' && r.details?.approval !== undefined)
      .map((r) => r.subject.recordName),
  );
  const details = e.world.volumes.deleted
    .filter((id) => !approved.has(id))
    .map((id) => `${id} deleted without an approved volume.delete record`);
  return invariant(
    'no volume is deleted without an approval',
    details,
    decided.length + e.world.volumes.deleted.length,
  );
}

export const simulation: RemediationSimulation = {
  function: FN,
  deploy: { gracePeriod: 3600 },
  ownRandom: true,
  install: (e) =>
    giveDataVolumes(e, (t) => isFleet(e, t) || (t.kind === 'web' && e.faultOn('foreign-orphan-volumes'))),
  faults: [
    {
      flag: 'foreign-orphan-volumes',
      description:
        "web hosts (not the fleet's) leave data volumes carrying the fleet's tags; a live runner's data volume is detached",
      schedule: detachLiveVolume,
    },
    {
      flag: 'reattached-volumes',
      description: 'attach an orphan to a live runner right after the listing that found it',
      install: reattachAfterListing,
    },
  ],
  watch: judgeVolumeCalls,
  injectError: (e) => e.world.volumes.throttleNext(),
  invariants: (e, records) => [volumesOfLiveOrForeignUntouched(e), noDeletionWithoutApproval(e, records)],
};
