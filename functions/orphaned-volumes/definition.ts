import '../../shared/core/zod-locale';
import * as z from 'zod/mini';
import type { AuditRecord, Subject } from '../../shared/audit/schema';
import { AUDIT_TABLE } from '../../shared/audit/table-design';
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
 * names its instance in the instance tag; EC2 describes that instance terminated and the fleet's
 * (fleet tag and one of the configured ASGs: a fleet tag alone is not ownership), or no longer
 * describes it. Tags and fleet-tagged snapshots are only hints (anyone allowed to tag volumes or
 * create snapshots could forge them): the PROOF is the fleet's own audit records, read back through
 * the audit store (`ownership`): its record of the volume attached to that instance while it lived
 * (the scheduled run writes the instance tag on every kept volume, DeleteOnTermination false, of a
 * live fleet instance: action `tag`; or, when a launch template wrote the tag already, notes the
 * attachment once: `volume.attachment`), or its record of the snapshot it took as that instance's
 * orphan; only such a snapshot can be the one a deletion rests on. A fleet volume naming no
 * instance, or with no such record, is only reported (with its cost), never touched. Before each
 * action the volume is described again.
 */

const PAIR = /^[a-z0-9]+=\d+(\.\d+)?$/;
type Prices = Readonly<Record<string, number>>;
const prices: Setting<Prices> = {
  env: 'PRICE_PER_GB_MONTH',
  doc: 'USD per GB-month of EBS storage by volume type ("gp3=0.08,gp2=0.1"); types given override the us-east-1 list prices (gp3 0.08, gp2 0.10, io1/io2 0.125, st1 0.045, sc1 0.015, standard 0.05), storage only',
  default: EBS_LIST_PRICES,
  schema: z.pipe(
    z
      .string()
      .check(
        z.refine(
          (v) => v.split(',').every((p) => PAIR.test(p)),
          'must be type=price pairs like gp3=0.08,gp2=0.1',
        ),
      ),
    z.transform((v: string) => ({
      ...EBS_LIST_PRICES,
      ...Object.fromEntries(v.split(',').map((p) => [p.split('=')[0], Number(p.split('=')[1])])),
    })),
  ) as unknown as Setting<Prices>['schema'],
  value: z.readonly(
    z.record(z.string().check(z.regex(/^[a-z0-9]+$/)), z.number().check(z.nonnegative())),
  ) as unknown as Setting<Prices>['value'],
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
type Ports = PortsOf<'audit' | 'auditStore' | 'inventory' | 'volumes'>;

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, substituted by the construct
const VOLUME_ARN = 'arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:volume/*';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, substituted by the construct
const AUDIT_TABLE_ARN = 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/';
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
  /**
   * The audit records about these volumes, as read back (any writer): only the fleet's own
   * attachment and snapshot records among them prove whose a volume was (`ownership`).
   */
  records: readonly AuditRecord[];
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

/** What the fleet's own records prove about a volume and one instance. */
export interface Ownership {
  /** The fleet's latest record of the volume attached to the instance (its tag written, or noted). */
  attachment?: AuditRecord;
  /** The fleet's own snapshots of the volume taken as this instance's orphan: snapshot id -> record id. */
  snapshots: ReadonlyMap<string, string>;
}

const FN = 'orphaned-volumes';
const own = (r: AuditRecord, volumeId: string) =>
  r.function === FN && r.subject.recordName === volumeId && r.details.volumeId === volumeId;
/** The fleet saw the volume attached to the instance: it wrote the instance tag, or noted the tag there. */
const attachedRecord = (r: AuditRecord) =>
  (r.action === 'volume.tag' && r.decision === 'acted' && r.details.tagValue === r.subject.instanceId) ||
  (r.action === 'volume.attachment' && r.decision === 'reported');
const snapshotRecord = (r: AuditRecord) =>
  r.action === 'volume.snapshot' && r.decision === 'acted' && typeof r.details.snapshotId === 'string';

/**
 * Whether the volume was the instance's, by the fleet's OWN audit records only: a record this
 * function wrote of the volume attached to the instance while it lived (the tag it wrote, or its
 * note of a tag already there), or of the snapshot it took as this instance's orphan. Tags and
 * fleet-tagged snapshots are hints anyone allowed to tag or snapshot could forge; audit records
 * only the fleet writes. A later attachment record of another instance ends the earlier proof.
 * Undefined: nothing proves it.
 */
export function ownership(
  records: readonly AuditRecord[],
  volumeId: string,
  instanceId: string,
): Ownership | undefined {
  const mine = records.filter((r) => own(r, volumeId)).sort((a, b) => a.time.localeCompare(b.time));
  const moved = mine.filter((r) => attachedRecord(r) && r.subject.instanceId !== instanceId).at(-1);
  const since = mine.filter((r) => r.subject.instanceId === instanceId && (!moved || r.time > moved.time));
  const attachment = since.filter(attachedRecord).at(-1);
  const snapshots = new Map(
    since.filter(snapshotRecord).map((r) => [String(r.details.snapshotId), r.recordId] as const),
  );
  return attachment || snapshots.size > 0 ? { ...(attachment ? { attachment } : {}), snapshots } : undefined;
}

/** One orphan candidate's decision: snapshot, delete, or a note saying why neither. */
function decide(
  v: VolumeInfo,
  instanceId: string,
  f: OrphanFacts,
  instance: InstanceInfo | undefined,
  proof: Ownership | undefined,
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
  // only the fleet's own records prove whose it was; a forged tag or snapshot proves nothing
  if (!proof)
    return note(
      'reported',
      `${what}: no record of the fleet's own (its attachment or snapshot record) proves it was fleet instance ${instanceId}'s, which ${instance ? 'is terminated' : 'is gone from EC2'}; a tag or a fleet-tagged snapshot anyone allowed to write them could forge: not touched`,
    );
  // only a snapshot the fleet recorded taking as this instance's orphan counts
  const mine = f.snapshots.filter((x) => x.volumeId === v.volumeId && proof.snapshots.has(x.snapshotId));
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
  const proofRecordIds = [proof.attachment?.recordId, proof.snapshots.get(done.snapshotId)].filter(
    (id): id is string => id !== undefined,
  );
  return {
    kind: 'delete',
    subject,
    reason: `${orphan}: snapshot ${done.snapshotId} taken ${done.startTime}, grace period over`,
    details,
    // what the approver approves: stable while nothing changed (no cost, no age)
    facts: {
      volumeId: v.volumeId,
      sizeGiB: v.sizeGiB,
      instanceId,
      proofRecordIds,
      snapshotId: done.snapshotId,
    },
    evidence: { auditRecordIds: proofRecordIds },
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
    if (!kept) continue;
    const instanceId = kept.instanceId;
    const subject = volumeSubject(instanceId, v.volumeId);
    // the tag names it already (a launch template wrote it): the fleet records the attachment once
    if (v.tags[s.instanceTag] === instanceId) {
      const fleetVolume = v.tags[s.fleetTagKey] === s.fleetTagValue;
      if (fleetVolume && !ownership(f.records, v.volumeId, instanceId)?.attachment)
        out.push(attachmentNote(v, instanceId, owners.get(instanceId)?.state));
      continue;
    }
    // untagged, or tagged with an earlier owner (re-attached): the tag must name the instance now
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

/** The fleet's own record of a kept volume attached to a live fleet instance: its orphan's proof. */
function attachmentNote(v: VolumeInfo, instanceId: string, state: string | undefined): Noted {
  return {
    kind: 'note',
    audit: 'volume.attachment',
    decision: 'reported',
    subject: volumeSubject(instanceId, v.volumeId),
    reason: `${v.volumeId} is attached to live fleet instance ${instanceId} (${state}, DeleteOnTermination false) and its tag names it: recorded, so that its orphan can be proven this instance's`,
    details: { volumeId: v.volumeId, instanceId },
  };
}

/** Which listed volumes are orphans and what to do with each (pure: facts in, decisions out). */
export function planOrphanedVolumes(f: OrphanFacts): OrphanPlan {
  const s = f.settings;
  const byId = new Map(f.instances.map((i) => [i.instanceId, i]));
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
    const proof = ownership(f.records, v.volumeId, instanceId);
    plan.steps.push(decide(v, instanceId, f, instance, proof));
    const total = plan.monthlyCostUsd;
    // a live or foreign instance's volume is no orphan of the fleet's: not counted
    if (instance && (instance.state !== 'terminated' || !isFleetInstance(instance, s))) continue;
    if (proof) total.orphaned = round(total.orphaned + (cost ?? 0));
    else total.unattributed = round(total.unattributed + (cost ?? 0));
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
  id: z.string().check(z.minLength(1)),
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

/**
 * The audit records about these volumes (by record name: a volume's records carry its id there),
 * read through the audit store. A record this reader cannot parse proves nothing: left out.
 */
async function recordsOf(ports: Ports, volumeIds: readonly string[]): Promise<AuditRecord[]> {
  const out: AuditRecord[] = [];
  for (const name of new Set(volumeIds))
    out.push(
      ...(await ports.auditStore.timeline({ kind: 'runner-or-record', name }, { onUnreadable: () => {} })),
    );
  return out;
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
    const kept = (facts.attached ?? []).filter((v) => v.attachments?.some((a) => !a.deleteOnTermination));
    const records = await recordsOf(
      ports,
      [...facts.volumes, ...kept].map((v) => v.volumeId),
    );
    const plan = planOrphanedVolumes({ now: runtime.now(), settings: s, records, ...facts });
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

export const orphanedVolumes: Remediation<
  Spec,
  Kind,
  'audit' | 'auditStore' | 'inventory' | 'volumes',
  unknown,
  void
> = {
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
  reads: (s) => [
    { actions: ['ec2:DescribeVolumes', 'ec2:DescribeSnapshots', 'ec2:DescribeInstances'], resources: ['*'] },
    // its own attachment and snapshot records, the proof of whose a volume was (timeline by volume id)
    {
      actions: ['dynamodb:Query'],
      resources: [AUDIT_TABLE.indexes.byRunner.name, AUDIT_TABLE.indexes.byRecordName.name].map(
        (index) => `${AUDIT_TABLE_ARN}${s.auditTable}/index/${index}`,
      ),
    },
  ],
  ports: ['audit', 'auditStore', 'inventory', 'volumes'],
  create,
};
