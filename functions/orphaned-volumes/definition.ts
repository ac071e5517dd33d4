import * as z from 'zod';
import type { Subject } from '../../shared/audit/schema';
import {
  EC2_STATE_CHANGE_DETAIL_TYPE,
  Ec2StateChangeEventSchema,
  MAX_EVENT_SKEW_MS,
} from '../../shared/dns/state-change';
import type { InstanceInfo } from '../../shared/ec2/port';
import {
  EBS_LIST_PRICES,
  isDetachedFleetVolume,
  monthlyCost,
  type SnapshotInfo,
  type VolumeInfo,
  type VolumePort,
} from '../../shared/ec2/volumes';
import type { IamGrant, Noted, Planned } from '../../shared/kernel/definition';
import { type ActResult, allowance, type RunKit, recordNote } from '../../shared/kernel/perform';
import type { PortsOf } from '../../shared/kernel/ports';
import {
  performSteps,
  type Remediation,
  type Runtime,
  rethrow,
  type Step,
} from '../../shared/kernel/remediation';
import { AUDIT_TABLE_SETTING, type Setting, type SettingsOf, setting } from '../../shared/kernel/settings';

/**
 * orphaned-volumes: EBS volumes left behind by terminated fleet instances (DeleteOnTermination
 * false), found every 30 min and on each EC2 "terminated" event, reported with their storage cost per
 * month, snapshotted, then deleted once the grace period has passed since the snapshot. Deletion is
 * irreversible: it passes the approval gate (report-only until approvals exist).
 *
 * Ownership, every rule re-read from EC2 (the event is only a hint): the volume is `available` with
 * no attachment, carries the fleet tag (which also scopes CreateSnapshot/DeleteVolume in IAM), and
 * names its instance in the instance tag (written by the scheduled run itself on every volume of a
 * live fleet instance kept on termination, DeleteOnTermination false, that carries the fleet tag:
 * action `tag`; a launch template / user data may write it too); EC2
 * describes that instance terminated and the fleet's (fleet tag, and one of the configured ASGs when
 * they are named: a fleet tag alone is not ownership), which the fleet snapshot then records: once
 * the instance is gone from EC2 (~1 h), only a volume with a fleet snapshot is still handled. A fleet
 * volume naming no instance, or whose instance went before it was proven, is only reported (with its
 * cost), never touched. Before each action the volume is described again.
 */

const PAIR = /^[a-z0-9]+=\d+(\.\d+)?$/;
const prices: Setting<Readonly<Record<string, number>>> = {
  env: 'PRICE_PER_GB_MONTH',
  doc: 'USD per GB-month of EBS storage by volume type ("gp3=0.08,gp2=0.1"); types given override the us-east-1 list prices (gp3 0.08, gp2 0.10, io1/io2 0.125, st1 0.045, sc1 0.015, standard 0.05), storage only',
  default: EBS_LIST_PRICES,
  schema: z
    .string()
    .refine((v) => v.split(',').every((p) => PAIR.test(p)), 'must be type=price pairs like gp3=0.08,gp2=0.1')
    .transform((v) => ({
      ...EBS_LIST_PRICES,
      ...Object.fromEntries(v.split(',').map((p) => [p.split('=')[0], Number(p.split('=')[1])])),
    })),
  value: z.record(z.string().regex(/^[a-z0-9]+$/), z.number().nonnegative()).readonly(),
  toEnv: (v) =>
    Object.entries(v)
      .map(([k, p]) => `${k}=${p}`)
      .join(','),
};

const SETTINGS = {
  auditTable: AUDIT_TABLE_SETTING,
  dryRun: setting.boolean('DRY_RUN', { doc: 'change nothing: report what it would do', default: true }),
  fleetTagKey: setting.string('FLEET_TAG_KEY', {
    doc: "tag key of the fleet's volumes",
    default: 'fleetwarden:fleet',
  }),
  fleetTagValue: setting.string('FLEET_TAG_VALUE', {
    doc: "tag value of the fleet's volumes",
    default: 'runners',
  }),
  instanceTag: setting.string('INSTANCE_TAG_KEY', {
    doc: 'volume tag naming the instance it was launched with (written by this function on the kept volumes of live fleet instances, or by the fleet at launch)',
    default: 'fleetwarden:instance-id',
  }),
  autoScalingGroupNames: setting.list('AUTO_SCALING_GROUP_NAMES', {
    doc: "a volume's instance must belong to one of these ASGs to be the fleet's (a fleet tag alone, which anyone may write, is not ownership)",
    default: [],
    min: 1,
  }),
  gracePeriod: setting.seconds('GRACE_PERIOD_SECONDS', {
    doc: 'time between the fleet snapshot of an orphan and its deletion',
    default: 7 * 86_400,
    min: 3600,
    max: 90 * 86_400,
  }),
  prices,
  maxDeletionsPerRun: setting.integer('MAX_DELETIONS_PER_RUN', {
    doc: 'deletions one run may take (the rest wait for the next run)',
    default: 20,
    min: 1,
    max: 1000,
  }),
};
type Spec = typeof SETTINGS;
export type OrphanedVolumesSettings = SettingsOf<Spec>;
type Kind = 'tag' | 'snapshot' | 'delete';
type Ports = PortsOf<'audit' | 'inventory' | 'volumes'>;

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, substituted by the construct
const VOLUME_ARN = 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:volume/*';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, substituted by the construct
const SNAPSHOT_ARN = 'arn:${AWS::Partition}:ec2:${AWS::Region}::snapshot/*';
const fleetTag = (s: OrphanedVolumesSettings) => ({ key: s.fleetTagKey, value: s.fleetTagValue });
const onFleetTag = (s: OrphanedVolumesSettings, on: 'ResourceTag' | 'RequestTag') => ({
  StringEquals: { [`aws:${on}/${s.fleetTagKey}`]: s.fleetTagValue },
});
const INSTANCE_ID = /^i-[0-9a-f]{8,17}$/;
const usd = (n: number | undefined) => (n === undefined ? 'price unknown' : `$${n.toFixed(2)}/month`);
const round = (n: number) => Math.round(n * 100) / 100;
/**
 * Audit subjects. The schema has no volume field: a volume's records carry its instance and the
 * volume id as `recordName` (distinct record ids per volume of one instance, and `fleetwarden
 * timeline vol-…` finds them through the record-name index); a run's record names the fleet's volumes.
 */
const volumeSubject = (instanceId: string, volumeId: string): Subject => ({
  instanceId,
  recordName: volumeId,
});
const fleetSubject = (s: OrphanedVolumesSettings): Subject => ({ recordName: `volumes:${s.fleetTagValue}` });

// ---- the pure plan ------------------------------------------------------------------------------

export interface OrphanFacts {
  now: Date;
  settings: OrphanedVolumesSettings;
  /** Detached volumes carrying the fleet tag (the listing). */
  volumes: readonly VolumeInfo[];
  /** The instances those volumes name, as EC2 describes them (absent: gone from EC2). */
  instances: readonly InstanceInfo[];
  /** The fleet's snapshots of those volumes. */
  snapshots: readonly SnapshotInfo[];
  /** Scheduled runs: the instances carrying the fleet tag that EC2 lists (any state but terminated). */
  live?: readonly InstanceInfo[];
  /** Scheduled runs: the volumes attached to those instances, whatever their tags. */
  attached?: readonly VolumeInfo[];
}

export interface OrphanPlan {
  steps: Array<Planned<Kind> | Noted>;
  /** Fleet volumes naming no instance: reported, never touched (their cost counts as unattributed,
   * with that of volumes whose instance is gone from EC2 unproven). */
  unattributed: Array<{ volumeId: string; sizeGiB: number; volumeType: string; monthlyCostUsd?: number }>;
  monthlyCostUsd: { orphaned: number; unattributed: number };
}

function isFleetInstance(i: InstanceInfo, s: OrphanedVolumesSettings): boolean {
  if (i.tags[s.fleetTagKey] !== s.fleetTagValue) return false;
  if (s.autoScalingGroupNames.length === 0) return true;
  const asg = i.autoScalingGroupName ?? i.tags['aws:autoscaling:groupName'];
  return asg !== undefined && s.autoScalingGroupNames.includes(asg);
}

/** One orphan candidate's decision: snapshot, delete, or a note saying why neither. */
function decide(
  v: VolumeInfo,
  instanceId: string,
  f: OrphanFacts,
  instance: InstanceInfo | undefined,
): Planned<Kind> | Noted {
  const s = f.settings;
  const cost = monthlyCost(v, s.prices);
  const what = `${v.volumeId} (${v.sizeGiB} GiB ${v.volumeType}, ${usd(cost)})`;
  const details: Record<string, unknown> = {
    volumeId: v.volumeId,
    sizeGiB: v.sizeGiB,
    volumeType: v.volumeType,
    encrypted: v.encrypted,
    ...(cost !== undefined ? { monthlyCostUsd: cost } : {}),
    instanceState: instance?.state ?? 'gone',
  };
  const subject = volumeSubject(instanceId, v.volumeId);
  const note = (decision: Noted['decision'], reason: string, more = {}): Noted => ({
    kind: 'note',
    audit: 'volume.orphan',
    decision,
    subject,
    reason,
    details: { ...details, ...more },
  });
  if (instance && instance.state !== 'terminated')
    return note(
      'skipped',
      `${what}: its instance ${instanceId} is ${instance.state}; a volume of a live instance is never touched`,
    );
  if (instance && !isFleetInstance(instance, s))
    return note('refused', `${what}: its instance ${instanceId} is not the fleet's; not touched`);
  // a fleet snapshot proves this orphan only if it records this very instance (one taken for an
  // earlier owner of a re-attached volume, or recording none, proves nothing)
  const mine = f.snapshots.filter((x) => x.volumeId === v.volumeId && x.tags[s.instanceTag] === instanceId);
  // ownership is proven while EC2 still describes the terminated instance (~1 h); the fleet snapshot
  // taken then is the proof afterwards. Gone without one: unproven, reported only.
  if (!instance && mine.length === 0)
    return note(
      'reported',
      `${what}: its instance ${instanceId} is gone from EC2 and no fleet snapshot proves it was the fleet's: not touched`,
    );
  const done = mine
    .filter((x) => x.state === 'completed')
    .sort((a, b) => a.startTime.localeCompare(b.startTime))[0];
  const orphan = `orphaned by ${instance ? 'terminated' : 'gone'} fleet instance ${instanceId}: ${what}`;
  if (mine.length === 0) return { kind: 'snapshot', subject, reason: orphan, details };
  if (!done) return note('skipped', `${orphan}: snapshot ${mine[0]?.snapshotId} still pending`);
  const after = new Date(Date.parse(done.startTime) + s.gracePeriod * 1000);
  details.snapshotId = done.snapshotId;
  if (after > f.now)
    return note(
      'skipped',
      `${orphan}: snapshot ${done.snapshotId}; grace period until ${after.toISOString()}`,
      {
        deleteAfter: after.toISOString(),
      },
    );
  return {
    kind: 'delete',
    subject,
    reason: `${orphan}: snapshot ${done.snapshotId} taken ${done.startTime}, grace period over`,
    details,
  };
}

const TAGGABLE_STATES: ReadonlySet<string> = new Set(['running', 'stopped']);

/**
 * The instance tag is what proves an orphan's instance later: a live fleet instance's volume kept on
 * termination (DeleteOnTermination false) that does not name it yet gets it now. Only fleet volumes
 * (the fleet tag scopes CreateTags in IAM); one without the fleet tag is reported.
 */
function planTags(f: OrphanFacts): Array<Planned<Kind> | Noted> {
  const s = f.settings;
  const owners = new Map(
    (f.live ?? [])
      .filter((i) => TAGGABLE_STATES.has(i.state) && isFleetInstance(i, s))
      .map((i) => [i.instanceId, i]),
  );
  const out: Array<Planned<Kind> | Noted> = [];
  for (const v of f.attached ?? []) {
    const kept = (v.attachments ?? []).find((a) => owners.has(a.instanceId) && !a.deleteOnTermination);
    // untagged, or tagged with an earlier owner (re-attached): the tag must name the instance now
    if (!kept || v.tags[s.instanceTag] === kept.instanceId) continue;
    const instanceId = kept.instanceId;
    const subject = volumeSubject(instanceId, v.volumeId);
    const details = { volumeId: v.volumeId, tagKey: s.instanceTag, tagValue: instanceId };
    if (v.tags[s.fleetTagKey] !== s.fleetTagValue) {
      out.push({
        kind: 'note',
        audit: 'volume.tag',
        decision: 'reported',
        subject,
        reason: `${v.volumeId} of fleet instance ${instanceId} outlives it (DeleteOnTermination false) but lacks the fleet tag ${s.fleetTagKey}=${s.fleetTagValue}: not tagged; the launch template should propagate the fleet tag to volumes (TagSpecifications with ResourceType volume)`,
        details,
      });
      continue;
    }
    out.push({
      kind: 'tag',
      subject,
      reason: `${v.volumeId} outlives fleet instance ${instanceId} (${owners.get(instanceId)?.state}, DeleteOnTermination false): tagged ${s.instanceTag}=${instanceId} so that its orphan can be proven the fleet's`,
      details,
    });
  }
  return out;
}

/** Which listed volumes are orphans and what to do with each (pure: facts in, decisions out). */
export function planOrphanedVolumes(f: OrphanFacts): OrphanPlan {
  const s = f.settings;
  const byId = new Map(f.instances.map((i) => [i.instanceId, i]));
  const proven = new Set(f.snapshots.map((x) => x.volumeId));
  const plan: OrphanPlan = { steps: [], unattributed: [], monthlyCostUsd: { orphaned: 0, unattributed: 0 } };
  for (const v of f.volumes) {
    if (!isDetachedFleetVolume(v, fleetTag(s))) continue;
    const instanceId = v.tags[s.instanceTag];
    const cost = monthlyCost(v, s.prices);
    if (!instanceId || !INSTANCE_ID.test(instanceId)) {
      plan.unattributed.push({
        volumeId: v.volumeId,
        sizeGiB: v.sizeGiB,
        volumeType: v.volumeType,
        ...(cost !== undefined ? { monthlyCostUsd: cost } : {}),
      });
      plan.monthlyCostUsd.unattributed = round(plan.monthlyCostUsd.unattributed + (cost ?? 0));
      continue;
    }
    const instance = byId.get(instanceId);
    plan.steps.push(decide(v, instanceId, f, instance));
    const total = plan.monthlyCostUsd;
    if (instance ? instance.state === 'terminated' && isFleetInstance(instance, s) : proven.has(v.volumeId))
      total.orphaned = round(total.orphaned + (cost ?? 0));
    else if (!instance) total.unattributed = round(total.unattributed + (cost ?? 0));
  }
  plan.steps.push(...planTags(f));
  return plan;
}

// ---- acting -------------------------------------------------------------------------------------

/** The volume as EC2 shows it now, if it is still a detached fleet volume naming the same instance. */
async function recheck(volumes: VolumePort, s: OrphanedVolumesSettings, p: Planned<Kind>) {
  const id = String(p.details?.volumeId);
  const [now] = await volumes.describe([id]);
  if (now && isDetachedFleetVolume(now, fleetTag(s)) && now.tags[s.instanceTag] === p.subject.instanceId)
    return { ok: true as const };
  const state = now
    ? `${now.state}${now.attachedTo.length ? ` (attached to ${now.attachedTo.join(', ')})` : ''}`
    : 'gone';
  return {
    ok: false as const,
    result: {
      decision: 'skipped' as const,
      reason: `re-checked before acting: ${id} is now ${state}; not touched`,
    },
  };
}

/** Tag the volume if EC2 still shows it attached to its instance, a fleet volume not naming one. */
function tagAct(volumes: VolumePort, s: OrphanedVolumesSettings, p: Planned<Kind>): () => Promise<ActResult> {
  const id = String(p.details?.volumeId);
  const instanceId = String(p.subject.instanceId);
  return async () => {
    const [now] = await volumes.describe([id]);
    const still =
      now?.attachedTo.includes(instanceId) &&
      now.tags[s.fleetTagKey] === s.fleetTagValue &&
      now.tags[s.instanceTag] !== instanceId;
    if (!still)
      return {
        decision: 'skipped',
        reason: `re-checked before tagging: ${id} is ${now ? `${now.state}, tags ${JSON.stringify(now.tags)}` : 'gone'}; not tagged`,
      };
    await volumes.tagVolume(id, s.instanceTag, instanceId);
    return { decision: 'acted' };
  };
}

function actFor(volumes: VolumePort, s: OrphanedVolumesSettings, p: Planned<Kind>): () => Promise<ActResult> {
  const id = String(p.details?.volumeId);
  if (p.kind === 'tag') return tagAct(volumes, s, p);
  if (p.kind === 'snapshot')
    return async () => {
      const r = await recheck(volumes, s, p);
      if (!r.ok) return r.result;
      const tags = {
        [s.fleetTagKey]: s.fleetTagValue,
        [s.instanceTag]: String(p.subject.instanceId),
        'fleetwarden:orphan-of': id,
      };
      const snap = await volumes.snapshot(id, tags, `fleetwarden: orphaned ${id} of ${p.subject.instanceId}`);
      return { decision: 'acted', details: { snapshotId: snap.snapshotId } };
    };
  return async () => {
    const r = await recheck(volumes, s, p);
    if (!r.ok) return r.result;
    const snaps = await volumes.snapshotsOf([id], fleetTag(s));
    if (!snaps.some((x) => x.snapshotId === p.details?.snapshotId && x.state === 'completed'))
      return {
        decision: 'skipped',
        reason: `re-checked before deleting: snapshot ${p.details?.snapshotId} of ${id} is not there; not deleted`,
      };
    const outcome = await volumes.delete(id);
    return {
      decision: 'acted',
      ...(outcome === 'already-gone' ? { reason: `${id} was already deleted` } : {}),
      details: { outcome },
    };
  };
}

// ---- the handler --------------------------------------------------------------------------------

const ScheduleSchema = z.object({
  id: z.string().min(1),
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
  time: z.string(),
});

type Trigger =
  | { kind: 'schedule'; id: string; time: string }
  | { kind: 'terminated'; id: string; time: string; instanceId: string }
  | { kind: 'malformed'; id: string; reason: string };

function parseTrigger(event: unknown): Trigger {
  const sched = ScheduleSchema.safeParse(event);
  if (sched.success) return { kind: 'schedule', id: sched.data.id, time: sched.data.time };
  const change = Ec2StateChangeEventSchema.safeParse(event);
  if (change.success && change.data.detail.state === 'terminated') {
    const e = change.data;
    return {
      kind: 'terminated',
      id: e.id,
      time: new Date(e.time).toISOString(),
      instanceId: e.detail['instance-id'],
    };
  }
  const id = String((event as { id?: unknown } | null)?.id ?? 'unknown');
  const why = change.success ? `state ${change.data.detail.state}, not terminated` : change.error.message;
  return { kind: 'malformed', id, reason: `neither a schedule nor an EC2 terminated event: ${why}` };
}

/** A terminated event is a hint: EC2 must show the instance terminated and the fleet's. */
async function refuseEvent(
  t: Extract<Trigger, { kind: 'terminated' }>,
  ports: Ports,
  s: OrphanedVolumesSettings,
  now: Date,
): Promise<Noted | undefined> {
  const subject = { instanceId: t.instanceId };
  const note = (decision: Noted['decision'], reason: string): Noted => ({
    kind: 'note',
    audit: 'volume.trigger',
    decision,
    subject,
    reason,
  });
  if (Date.parse(t.time) > now.getTime() + MAX_EVENT_SKEW_MS)
    return note(
      'refused',
      `event dated ${t.time}, in the future (now ${now.toISOString()}): forged or broken, not acted on`,
    );
  const [i] = await ports.inventory.describe([t.instanceId]);
  if (i?.state !== 'terminated')
    return note(
      'skipped',
      `EC2 shows ${t.instanceId} ${i ? i.state : 'not (yet)'}, not terminated: the scheduled sweep looks again`,
    );
  if (!isFleetInstance(i, s))
    return note('skipped', `${t.instanceId} is not a fleet instance: its volumes are not ours`);
  return undefined;
}

async function gather(ports: Ports, s: OrphanedVolumesSettings, only?: string) {
  const listed = await ports.volumes.listAvailable(fleetTag(s));
  const volumes = only ? listed.filter((v) => v.tags[s.instanceTag] === only) : listed;
  const ids = [
    ...new Set(volumes.map((v) => v.tags[s.instanceTag] ?? '').filter((id) => INSTANCE_ID.test(id))),
  ];
  const instances = ids.length > 0 ? await ports.inventory.describe(ids) : [];
  const snapshots = await ports.volumes.snapshotsOf(
    volumes.map((v) => v.volumeId),
    fleetTag(s),
  );
  return { volumes, instances, snapshots };
}

/** Scheduled runs: the live fleet instances and the volumes attached to them (whose tag is written). */
async function gatherLive(ports: Ports, s: OrphanedVolumesSettings) {
  const live = await ports.inventory.listByTag(s.fleetTagKey, s.fleetTagValue);
  const attached = await ports.volumes.listAttachedTo(live.map((i) => i.instanceId));
  return { live, attached };
}

function create(ports: Ports, s: OrphanedVolumesSettings, runtime: Runtime) {
  const { volumes } = ports;
  return async (event: unknown): Promise<void> => {
    const t = parseTrigger(event);
    const time = 'time' in t ? { time: t.time } : {};
    const kit: RunKit = {
      spec: orphanedVolumes,
      audit: ports.audit,
      ctx: {
        function: orphanedVolumes.name,
        trigger: { source: t.kind === 'terminated' ? 'aws.ec2' : 'fleetwarden.schedule', id: t.id, ...time },
        mode: s.dryRun ? 'dry-run' : 'live',
        now: runtime.now,
      },
      dryRun: s.dryRun,
      gate: runtime.gate,
      allowance: allowance(s.maxDeletionsPerRun),
    };
    if (t.kind === 'malformed')
      return recordNote(kit, {
        kind: 'note',
        audit: 'volume.trigger',
        decision: 'refused',
        subject: fleetSubject(s),
        reason: t.reason,
      });
    const refusal = t.kind === 'terminated' ? await refuseEvent(t, ports, s, runtime.now()) : undefined;
    if (refusal) return recordNote(kit, refusal);
    const facts = {
      ...(await gather(ports, s, t.kind === 'terminated' ? t.instanceId : undefined)),
      ...(t.kind === 'schedule' ? await gatherLive(ports, s) : {}),
    };
    const plan = planOrphanedVolumes({ now: runtime.now(), settings: s, ...facts });
    const steps: Step[] = plan.steps.map((p) =>
      p.kind === 'note' ? p : { ...p, act: actFor(volumes, s, p) },
    );
    const out = await performSteps(kit, steps);
    await recordNote(
      kit,
      runNote(
        plan,
        out.errors.length,
        t.kind === 'terminated' ? { instanceId: t.instanceId } : fleetSubject(s),
      ),
    );
    rethrow(out.errors, 'volume actions');
  };
}

function runNote(plan: OrphanPlan, failed: number, subject: Subject): Noted {
  const count = (k: string) => plan.steps.filter((p) => p.kind === k).length;
  const { orphaned, unattributed } = plan.monthlyCostUsd;
  return {
    kind: 'note',
    audit: 'volume.sweep',
    decision: 'reported',
    subject,
    reason: `orphaned fleet volumes cost ${usd(orphaned)}; fleet volumes not proven orphans (no instance named, or it went before it was proven) ${usd(unattributed)}, reported only; ${count('tag')} to tag, ${count('snapshot')} to snapshot, ${count('delete')} to delete, ${failed} failed`,
    details: { monthlyCostUsd: plan.monthlyCostUsd, unattributed: plan.unattributed, failed },
  };
}

// ---- the declaration ----------------------------------------------------------------------------

export const orphanedVolumes: Remediation<Spec, Kind, 'audit' | 'inventory' | 'volumes', unknown, void> = {
  name: 'orphaned-volumes',
  optIn: true,
  summary:
    'Snapshots EBS volumes left by terminated fleet instances, reports their cost, and deletes them after a grace period once approved.',
  entry: 'functions/orphaned-volumes/index.ts',
  triggers: [
    // twice within the ~1 h a terminated instance stays describable: a lost event is still caught
    // while the instance can prove it was the fleet's
    { kind: 'schedule', minutes: 30 },
    {
      kind: 'events',
      id: 'InstanceTerminated',
      bus: 'default',
      pattern: {
        source: ['aws.ec2'],
        detailType: [EC2_STATE_CHANGE_DETAIL_TYPE],
        detail: { state: ['terminated'] },
      },
      delivery: 'direct',
    },
  ],
  settings: SETTINGS,
  actions: {
    tag: {
      audit: 'volume.tag',
      does: "record the volume's instance in its tag",
      reversible: true,
      weight: 0,
      calls: ['EC2.CreateTags'],
      // only the instance tag key, only on volumes carrying the fleet tag
      iam: (s): IamGrant[] => [
        {
          actions: ['ec2:CreateTags'],
          resources: [VOLUME_ARN],
          conditions: {
            ...onFleetTag(s, 'ResourceTag'),
            'ForAllValues:StringEquals': { 'aws:TagKeys': [s.instanceTag] },
          },
        },
      ],
    },
    snapshot: {
      audit: 'volume.snapshot',
      does: 'snapshot the orphaned volume',
      reversible: true,
      weight: 0,
      calls: ['EC2.CreateSnapshot'],
      iam: (s): IamGrant[] => [
        {
          actions: ['ec2:CreateSnapshot'],
          resources: [VOLUME_ARN],
          conditions: onFleetTag(s, 'ResourceTag'),
        },
        {
          actions: ['ec2:CreateSnapshot'],
          resources: [SNAPSHOT_ARN],
          conditions: onFleetTag(s, 'RequestTag'),
        },
        // tagging on creation needs CreateTags, only as part of CreateSnapshot
        {
          actions: ['ec2:CreateTags'],
          resources: [SNAPSHOT_ARN],
          conditions: { StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' } },
        },
      ],
    },
    delete: {
      audit: 'volume.delete',
      does: 'delete the orphaned volume (its snapshot stays)',
      reversible: false,
      weight: 1,
      calls: ['EC2.DeleteVolume'],
      iam: (s): IamGrant[] => [
        { actions: ['ec2:DeleteVolume'], resources: [VOLUME_ARN], conditions: onFleetTag(s, 'ResourceTag') },
      ],
    },
  },
  reads: () => [
    { actions: ['ec2:DescribeVolumes', 'ec2:DescribeSnapshots', 'ec2:DescribeInstances'], resources: ['*'] },
  ],
  ports: ['audit', 'inventory', 'volumes'],
  create,
};
