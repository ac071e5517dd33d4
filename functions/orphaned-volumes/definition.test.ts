import { Readable } from 'node:stream';
import { EC2Client } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { InMemoryAuditStore } from '../../shared/audit/in-memory-audit-store';
import { type AuditRecord, type AuditRecordInput, AuditRecordSchema } from '../../shared/audit/schema';
import { instrumentClient } from '../../shared/aws/call-recorder';
import { stateChangeEvent } from '../../shared/dns/testing/state-change-event';
import { InMemoryInstanceInventory } from '../../shared/ec2/in-memory-instance-inventory';
import type { InstanceInfo } from '../../shared/ec2/port';
import { InMemoryVolumes } from '../../shared/ec2/testing/in-memory-volumes';
import { Ec2Volumes, type SnapshotInfo, type VolumeInfo, type VolumePort } from '../../shared/ec2/volumes';
import { type ApprovalGate, REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import type { AnyRemediation } from '../../shared/kernel/remediation';
import { readSettings, settingsTable } from '../../shared/kernel/settings';
import { orphanedVolumes, planOrphanedVolumes } from './definition';

const NOW = new Date('2026-11-30T08:00:00Z');
const DAY = 86_400_000;
const FLEET = { key: 'fleetwarden:fleet', value: 'runners' };
const INSTANCE_TAG = 'fleetwarden:instance-id';
const I = {
  gone: 'i-0000000000000000a',
  terminated: 'i-0000000000000000b',
  running: 'i-0000000000000000c',
  foreign: 'i-0000000000000000d',
  grace: 'i-0000000000000000e',
  pending: 'i-0000000000000000f',
};

function vol(id: string, instanceId: string | undefined, over: Partial<VolumeInfo> = {}): VolumeInfo {
  return {
    volumeId: id,
    state: 'available',
    sizeGiB: 100,
    volumeType: 'gp3',
    encrypted: true,
    attachedTo: [],
    tags: { ...(instanceId ? { [INSTANCE_TAG]: instanceId } : {}), [FLEET.key]: FLEET.value },
    ...over,
  };
}
const inst = (instanceId: string, state: InstanceInfo['state'], tags = { [FLEET.key]: FLEET.value }) => ({
  instanceId,
  state,
  tags,
});
/** A fleet snapshot records the instance its volume was proven to belong to (as the fleet writes it). */
const snap = (
  volumeId: string,
  daysAgo: number,
  state: SnapshotInfo['state'] = 'completed',
  instanceId: string | undefined = VOLUME_INSTANCE.get(volumeId),
): SnapshotInfo => ({
  snapshotId: `snap-${volumeId.slice(4)}`,
  volumeId,
  state,
  startTime: new Date(NOW.getTime() - daysAgo * DAY).toISOString(),
  tags: { [FLEET.key]: FLEET.value, ...(instanceId ? { [INSTANCE_TAG]: instanceId } : {}) },
});

/** The fixture: one volume per case; the costs are us-east-1 list prices. */
const VOLUMES = {
  fresh: vol('vol-0000000000000001', I.terminated), // 100 GiB gp3: $8.00, no snapshot yet -> snapshot
  due: vol('vol-0000000000000002', I.gone, { sizeGiB: 500, volumeType: 'gp2', encrypted: false }), // $50.00, grace over -> delete
  waiting: vol('vol-0000000000000003', I.grace, { sizeGiB: 200, volumeType: 'st1' }), // $9.00, snapshot 2 d old
  live: vol('vol-0000000000000004', I.running), // instance running: never touched
  foreign: vol('vol-0000000000000005', I.foreign), // instance not the fleet's: refused
  unattributed: vol('vol-0000000000000006', undefined, { sizeGiB: 1000, volumeType: 'sc1' }), // $15.00, reported
  pending: vol('vol-0000000000000007', I.pending, { sizeGiB: 8, volumeType: 'io2' }), // $1.00, snapshot pending
};
const VOLUME_INSTANCE = new Map(Object.values(VOLUMES).map((v) => [v.volumeId, v.tags[INSTANCE_TAG]]));

const INSTANCES = [
  inst(I.terminated, 'terminated'),
  inst(I.grace, 'terminated'),
  inst(I.running, 'running'),
  inst(I.foreign, 'terminated', { team: 'data' }),
];

const settings = readSettings(orphanedVolumes.settings, { AUDIT_TABLE_NAME: 'audit', DRY_RUN: 'false' });

type ProofAction = 'volume.tag' | 'volume.attachment' | 'volume.snapshot';
/** The run that wrote the fixture's proofs (tests leave its records out of what a run wrote). */
const SEED_RUN = 'run-0';
/** A record of the fleet's own (orphaned-volumes, live) about a volume, as its run writes it. */
function fleetRecord(
  action: ProofAction,
  volumeId: string,
  instanceId: string,
  over: Partial<AuditRecordInput> = {},
): AuditRecord {
  const details =
    action === 'volume.tag'
      ? { volumeId, tagKey: INSTANCE_TAG, tagValue: instanceId }
      : action === 'volume.snapshot'
        ? { volumeId, snapshotId: `snap-${volumeId.slice(4)}` }
        : { volumeId };
  return AuditRecordSchema.parse({
    schemaVersion: 1,
    recordId: `rec-${action.slice(7)}-${volumeId.slice(4)}-${instanceId.slice(2)}`,
    time: new Date(NOW.getTime() - 9 * DAY).toISOString(),
    function: 'orphaned-volumes',
    trigger: { source: 'fleetwarden.schedule', id: SEED_RUN },
    subject: { instanceId, recordName: volumeId },
    action,
    decision: action === 'volume.attachment' ? 'reported' : 'acted',
    reason: 'as the fleet recorded it',
    mode: 'live',
    details,
    ...over,
  });
}
/** The fleet's own records proving the fixture's orphans: attachments (tag or note) and its snapshots. */
const PROOFS = [
  fleetRecord('volume.tag', VOLUMES.fresh.volumeId, I.terminated),
  fleetRecord('volume.tag', VOLUMES.due.volumeId, I.gone),
  fleetRecord('volume.snapshot', VOLUMES.due.volumeId, I.gone),
  fleetRecord('volume.attachment', VOLUMES.waiting.volumeId, I.grace),
  fleetRecord('volume.snapshot', VOLUMES.waiting.volumeId, I.grace),
  fleetRecord('volume.tag', VOLUMES.pending.volumeId, I.pending),
  fleetRecord('volume.snapshot', VOLUMES.pending.volumeId, I.pending),
];

describe('planOrphanedVolumes (pure)', () => {
  const plan = planOrphanedVolumes({
    now: NOW,
    settings,
    volumes: Object.values(VOLUMES),
    instances: INSTANCES,
    snapshots: [
      snap(VOLUMES.due.volumeId, 8),
      snap(VOLUMES.waiting.volumeId, 2),
      snap(VOLUMES.pending.volumeId, 0, 'pending'),
    ],
    records: PROOFS,
  });
  const by = new Map(plan.steps.map((s) => [s.details?.volumeId, s]));

  it('snapshots a new orphan of a terminated fleet instance, with its cost per month', () => {
    expect(by.get(VOLUMES.fresh.volumeId)).toMatchObject({
      kind: 'snapshot',
      subject: { instanceId: I.terminated, recordName: VOLUMES.fresh.volumeId },
      details: { monthlyCostUsd: 8, sizeGiB: 100, volumeType: 'gp3', instanceState: 'terminated' },
    });
  });

  it('deletes an orphan whose fleet snapshot is older than the grace period (its instance gone from EC2)', () => {
    expect(by.get(VOLUMES.due.volumeId)).toMatchObject({
      kind: 'delete',
      subject: { instanceId: I.gone },
      details: {
        monthlyCostUsd: 50,
        snapshotId: 'snap-0000000000000002',
        instanceState: 'gone',
        encrypted: false,
      },
    });
  });

  it('takes a fleet snapshot record of another instance as no proof: the orphan is reported, not deleted', () => {
    const p = planOrphanedVolumes({
      now: NOW,
      settings,
      volumes: [VOLUMES.due],
      instances: INSTANCES,
      snapshots: [snap(VOLUMES.due.volumeId, 8)],
      records: [fleetRecord('volume.snapshot', VOLUMES.due.volumeId, 'i-0000000000000beef')],
    });
    expect(p.steps.find((x) => x.details?.volumeId === VOLUMES.due.volumeId)).toMatchObject({
      kind: 'note',
      decision: 'reported',
    });
  });

  it('a forged instance tag and a forged fleet snapshot prove nothing: reported, never snapshotted nor deleted', () => {
    // anyone allowed to tag volumes and create snapshots: the tag names a terminated fleet instance
    // (in the configured ASG), the snapshot carries the fleet tag and that instance, 8 days old
    const strict = { ...settings, autoScalingGroupNames: ['runners-asg'] };
    const victim = { ...inst(I.terminated, 'terminated'), autoScalingGroupName: 'runners-asg' };
    for (const instances of [[victim], []]) {
      const p = planOrphanedVolumes({
        now: NOW,
        settings: strict,
        volumes: [VOLUMES.fresh],
        instances,
        snapshots: [snap(VOLUMES.fresh.volumeId, 8, 'completed', I.terminated)],
        records: [],
      });
      expect(p.steps).toEqual([expect.objectContaining({ kind: 'note', decision: 'reported' })]);
      expect(p.steps[0]?.reason).toMatch(/no record of the fleet's own.*not touched/);
      expect(p.monthlyCostUsd).toEqual({ orphaned: 0, unattributed: 8 });
    }
  });

  it("records that are not the fleet's own proof prove nothing (another function, a dry run, no act, another instance)", () => {
    const id = VOLUMES.due.volumeId;
    for (const record of [
      fleetRecord('volume.tag', id, I.gone, { function: 'runner-sweep' }),
      fleetRecord('volume.tag', id, I.gone, { mode: 'dry-run', decision: 'reported' }),
      fleetRecord('volume.snapshot', id, I.gone, { decision: 'failed' }),
      fleetRecord('volume.attachment', id, I.gone, { action: 'volume.orphan' }),
      fleetRecord('volume.tag', id, 'i-0000000000000beef'),
      fleetRecord('volume.tag', id, I.gone, {
        details: { volumeId: id, tagKey: INSTANCE_TAG, tagValue: 'i-0000000000000beef' },
      }),
    ]) {
      const p = planOrphanedVolumes({
        now: NOW,
        settings,
        volumes: [VOLUMES.due],
        instances: [],
        snapshots: [snap(id, 8)],
        records: [record],
      });
      expect(p.steps.map((x) => [x.kind, 'decision' in x ? x.decision : ''])).toEqual([['note', 'reported']]);
    }
  });

  it('a snapshot the fleet did not record is never the one a deletion rests on', () => {
    const id = VOLUMES.due.volumeId;
    const forged: SnapshotInfo = { ...snap(id, 30), snapshotId: 'snap-0000000000000bad' };
    const facts = { now: NOW, settings, volumes: [VOLUMES.due], instances: [], records: PROOFS };
    const pending = planOrphanedVolumes({ ...facts, snapshots: [forged, snap(id, 0, 'pending')] });
    expect(pending.steps[0]).toMatchObject({ kind: 'note', decision: 'skipped' });
    expect(pending.steps[0]?.reason).toMatch(/snap-0000000000000002 still pending/);
    const young = planOrphanedVolumes({ ...facts, snapshots: [forged, snap(id, 2)] });
    expect(young.steps[0]).toMatchObject({ kind: 'note', decision: 'skipped' });
    expect(young.steps[0]?.reason).toMatch(/grace period until/);
  });

  it("a deletion's facts are stable (no ages) and name its proof; the fleet's records are its evidence", () => {
    const del = by.get(VOLUMES.due.volumeId);
    const proof = [
      'rec-tag-0000000000000002-0000000000000000a',
      'rec-snapshot-0000000000000002-0000000000000000a',
    ];
    expect(del).toMatchObject({
      kind: 'delete',
      facts: {
        volumeId: VOLUMES.due.volumeId,
        sizeGiB: 500,
        instanceId: I.gone,
        proofRecordIds: proof,
        snapshotId: 'snap-0000000000000002',
      },
      evidence: { auditRecordIds: proof },
    });
    expect(Object.keys((del as { facts: object }).facts).sort()).toEqual([
      'instanceId',
      'proofRecordIds',
      'sizeGiB',
      'snapshotId',
      'volumeId',
    ]);
  });

  it("a later attachment record of another instance supersedes the earlier one's proof", () => {
    const id = VOLUMES.due.volumeId;
    const p = planOrphanedVolumes({
      now: NOW,
      settings,
      volumes: [VOLUMES.due],
      instances: [],
      snapshots: [snap(id, 8)],
      records: [
        ...PROOFS,
        fleetRecord('volume.tag', id, 'i-0000000000000beef', {
          time: new Date(NOW.getTime() - DAY).toISOString(),
        }),
      ],
    });
    expect(p.steps[0]).toMatchObject({ kind: 'note', decision: 'reported' });
  });

  it('waits out the grace period and a pending snapshot', () => {
    expect(by.get(VOLUMES.waiting.volumeId)).toMatchObject({
      kind: 'note',
      decision: 'skipped',
      details: { monthlyCostUsd: 9, deleteAfter: '2026-12-05T08:00:00.000Z' },
    });
    expect(by.get(VOLUMES.pending.volumeId)).toMatchObject({ kind: 'note', decision: 'skipped' });
    expect(by.get(VOLUMES.pending.volumeId)?.reason).toMatch(/pending/);
  });

  it('never plans an action on a volume of a live or non-fleet instance', () => {
    expect(by.get(VOLUMES.live.volumeId)).toMatchObject({ kind: 'note', decision: 'skipped' });
    expect(by.get(VOLUMES.live.volumeId)?.reason).toMatch(/running/);
    expect(by.get(VOLUMES.foreign.volumeId)).toMatchObject({ kind: 'note', decision: 'refused' });
    const acted = plan.steps.filter((s) => s.kind !== 'note').map((s) => s.details?.volumeId);
    expect(acted).not.toContain(VOLUMES.live.volumeId);
    expect(acted).not.toContain(VOLUMES.foreign.volumeId);
  });

  it('reports a fleet volume that names no instance, untouched, and the month’s total', () => {
    expect(by.has(VOLUMES.unattributed.volumeId)).toBe(false);
    expect(plan.unattributed).toEqual([
      expect.objectContaining({ volumeId: VOLUMES.unattributed.volumeId, monthlyCostUsd: 15 }),
    ]);
    // orphans 8 + 50 + 9 + 1, plus the unattributed 15
    expect(plan.monthlyCostUsd).toEqual({ orphaned: 68, unattributed: 15 });
  });

  it('never snapshots a volume whose instance is gone from EC2 before it was proven the fleet’s', () => {
    const lost = vol('vol-0000000000000009', 'i-00000000000000099', { sizeGiB: 50, volumeType: 'gp2' });
    const p = planOrphanedVolumes({
      now: NOW,
      settings,
      volumes: [lost],
      instances: [],
      snapshots: [],
      records: [],
    });
    expect(p.steps).toEqual([expect.objectContaining({ kind: 'note', decision: 'reported' })]);
    expect(p.steps[0]?.reason).toMatch(/gone from EC2.*not touched/);
    expect(p.monthlyCostUsd).toEqual({ orphaned: 0, unattributed: 5 });
  });

  it('requires the configured ASG when one is named (a fleet tag alone is not ownership)', () => {
    const strict = { ...settings, autoScalingGroupNames: ['runners-asg'] };
    const p = planOrphanedVolumes({
      now: NOW,
      settings: strict,
      volumes: [VOLUMES.fresh],
      instances: INSTANCES,
      snapshots: [],
      records: PROOFS,
    });
    expect(p.steps[0]).toMatchObject({ kind: 'note', decision: 'refused' });
    const inAsg = [{ ...inst(I.terminated, 'terminated'), autoScalingGroupName: 'runners-asg' }];
    const q = planOrphanedVolumes({
      now: NOW,
      settings: strict,
      volumes: [VOLUMES.fresh],
      instances: inAsg,
      snapshots: [],
      records: PROOFS,
    });
    expect(q.steps[0]).toMatchObject({ kind: 'snapshot' });
  });
});

describe('planOrphanedVolumes: tagging the volumes of live fleet instances (pure)', () => {
  const LIVE = 'i-00000000000000010';
  const OTHER = 'i-00000000000000011';
  const attached = (
    id: string,
    instanceId: string,
    deleteOnTermination: boolean,
    tags = { [FLEET.key]: FLEET.value },
  ) =>
    vol(id, undefined, {
      state: 'in-use',
      attachedTo: [instanceId],
      attachments: [{ instanceId, deleteOnTermination }],
      tags,
    });
  const kept = attached('vol-0000000000000011', LIVE, false);
  const dies = attached('vol-0000000000000012', LIVE, true);
  const foreign = attached('vol-0000000000000013', OTHER, false);
  const unpropagated = attached('vol-0000000000000014', LIVE, false, {});
  const named = attached('vol-0000000000000015', LIVE, false, {
    [FLEET.key]: FLEET.value,
    [INSTANCE_TAG]: LIVE,
  });
  const plan = planOrphanedVolumes({
    now: NOW,
    settings,
    volumes: [],
    instances: [],
    snapshots: [],
    records: [fleetRecord('volume.attachment', named.volumeId, LIVE)],
    live: [inst(LIVE, 'running'), inst(OTHER, 'running', { team: 'data' })],
    attached: [kept, dies, foreign, unpropagated, named],
  });
  const by = new Map(plan.steps.map((s) => [s.details?.volumeId, s]));

  it("tags a live fleet instance's untagged DeleteOnTermination=false volume with its instance", () => {
    expect(by.get(kept.volumeId)).toMatchObject({
      kind: 'tag',
      subject: { instanceId: LIVE, recordName: kept.volumeId },
      details: { volumeId: kept.volumeId, tagKey: INSTANCE_TAG, tagValue: LIVE },
    });
  });

  it('re-tags a fleet volume re-attached to another live fleet instance: its old proof no longer applies', () => {
    const moved = attached('vol-0000000000000016', LIVE, false, {
      [FLEET.key]: FLEET.value,
      [INSTANCE_TAG]: 'i-0000000000000beef',
    });
    const p = planOrphanedVolumes({
      now: NOW,
      settings,
      volumes: [],
      instances: [],
      snapshots: [],
      records: [],
      live: [inst(LIVE, 'running')],
      attached: [moved],
    });
    expect(p.steps).toMatchObject([{ kind: 'tag', details: { volumeId: moved.volumeId, tagValue: LIVE } }]);
  });

  it('leaves alone a volume deleted with its instance, one already named, and a non-fleet instance’s', () => {
    expect(by.get(dies.volumeId)).toBeUndefined();
    expect(by.get(named.volumeId)).toBeUndefined();
    expect(by.get(foreign.volumeId)).toBeUndefined();
    expect(plan.steps.filter((s) => s.kind === 'tag')).toHaveLength(1);
  });

  it('records once the attachment of a kept volume already naming its live instance (a launch template wrote the tag): its proof', () => {
    const p = planOrphanedVolumes({
      now: NOW,
      settings,
      volumes: [],
      instances: [],
      snapshots: [],
      records: [],
      live: [inst(LIVE, 'running')],
      attached: [named, dies],
    });
    expect(p.steps).toEqual([
      {
        kind: 'note',
        audit: 'volume.attachment',
        decision: 'reported',
        subject: { instanceId: LIVE, recordName: named.volumeId },
        reason: expect.stringMatching(/attached to live fleet instance .*DeleteOnTermination false/),
        details: { volumeId: named.volumeId, instanceId: LIVE },
      },
    ]);
    // recorded by another instance's attachment before: recorded again for this one
    const before = fleetRecord('volume.attachment', named.volumeId, 'i-0000000000000beef');
    const again = planOrphanedVolumes({
      now: NOW,
      settings,
      volumes: [],
      instances: [],
      snapshots: [],
      records: [before],
      live: [inst(LIVE, 'running')],
      attached: [named],
    });
    expect(again.steps.map((x) => x.kind === 'note' && x.audit)).toEqual(['volume.attachment']);
  });

  it('reports a fleet instance’s volume without the fleet tag (the launch template should propagate it), untouched', () => {
    expect(by.get(unpropagated.volumeId)).toMatchObject({ kind: 'note', decision: 'reported' });
    expect(by.get(unpropagated.volumeId)?.reason).toMatch(/TagSpecifications.*volume/);
  });

  it('requires the configured ASG and a running or stopped instance', () => {
    const strict = { ...settings, autoScalingGroupNames: ['runners-asg'] };
    const facts = { now: NOW, volumes: [], instances: [], snapshots: [], records: [], attached: [kept] };
    expect(planOrphanedVolumes({ ...facts, settings: strict, live: [inst(LIVE, 'running')] }).steps).toEqual(
      [],
    );
    expect(planOrphanedVolumes({ ...facts, settings, live: [inst(LIVE, 'shutting-down')] }).steps).toEqual(
      [],
    );
    expect(planOrphanedVolumes({ ...facts, settings, live: [inst(LIVE, 'stopped')] }).steps[0]?.kind).toBe(
      'tag',
    );
  });
});

// ---- the handler, built from the definition with fakes ------------------------------------------

/**
 * The production path of the mutating calls: the real adapter over an instrumented EC2 client (the
 * SDK middleware that awaits the intent record), whose HTTP handler applies each request to the
 * fake and answers as EC2 does; reads stay on the fake. `sent` lists the actions that reached "AWS".
 */
function throughSdk(fake: InMemoryVolumes, sent: string[]): VolumePort {
  const xml = (body: string) => Readable.from([Buffer.from(body)]);
  const client = new EC2Client({
    region: 'eu-west-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { body?: unknown }) => {
        const q = new URLSearchParams(String(request.body));
        const action = q.get('Action') ?? '';
        sent.push(action);
        const volumeId = q.get('VolumeId') ?? '';
        const ns = 'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"';
        let body = `<DeleteVolumeResponse ${ns}><requestId>r-${sent.length}</requestId><return>true</return></DeleteVolumeResponse>`;
        if (action === 'DeleteVolume') await fake.delete(volumeId);
        else if (action === 'CreateTags') {
          await fake.tagVolume(
            q.get('ResourceId.1') ?? '',
            q.get('Tag.1.Key') ?? '',
            q.get('Tag.1.Value') ?? '',
          );
          body = `<CreateTagsResponse ${ns}><requestId>r-${sent.length}</requestId><return>true</return></CreateTagsResponse>`;
        } else {
          // the tags the request carries (TagSpecification.1.Tag.N.Key/Value), as EC2 applies them
          const requested: Record<string, string> = {};
          for (let n = 1; q.get(`TagSpecification.1.Tag.${n}.Key`); n++)
            requested[q.get(`TagSpecification.1.Tag.${n}.Key`) ?? ''] =
              q.get(`TagSpecification.1.Tag.${n}.Value`) ?? '';
          const s = await fake.snapshot(volumeId, requested, 'sdk');
          body = `<CreateSnapshotResponse ${ns}><requestId>r-${sent.length}</requestId><snapshotId>${s.snapshotId}</snapshotId><volumeId>${volumeId}</volumeId><status>pending</status><startTime>${s.startTime}</startTime></CreateSnapshotResponse>`;
        }
        return {
          response: { statusCode: 200, reason: '', headers: { 'content-type': 'text/xml' }, body: xml(body) },
        };
      },
    },
  });
  const sdk = new Ec2Volumes(instrumentClient(client));
  return {
    listAvailable: (t) => fake.listAvailable(t),
    describe: (ids) => fake.describe(ids),
    snapshotsOf: (ids, t) => fake.snapshotsOf(ids, t),
    snapshot: (id, tags, d) => sdk.snapshot(id, tags, d),
    delete: (id) => sdk.delete(id),
    listAttachedTo: (ids) => fake.listAttachedTo(ids),
    tagVolume: (id, k, v) => sdk.tagVolume(id, k, v),
  };
}

async function world(
  gate: ApprovalGate = REPORT_ONLY_GATE,
  env: Record<string, string> = {},
  sent?: string[],
) {
  // the fleet snapshots already taken: `due` 8 days ago, `waiting` 2 days ago, `pending` just now
  let now = NOW.getTime() - 8 * DAY;
  const audit = new InMemoryAuditSink();
  const inventory = new InMemoryInstanceInventory({ now: () => now });
  const volumes = new InMemoryVolumes({ now: () => now, requireTag: FLEET, snapshotMs: 3_600_000 });
  for (const v of Object.values(VOLUMES)) volumes.put(v);
  // as the fleet takes them: its tag and the instance the volume was proven to belong to
  const tags = (v: VolumeInfo) => ({ [FLEET.key]: FLEET.value, [INSTANCE_TAG]: v.tags[INSTANCE_TAG] ?? '' });
  const snapshotIds = new Map<string, string>();
  const seed = async (v: VolumeInfo) =>
    snapshotIds.set(v.volumeId, (await volumes.snapshot(v.volumeId, tags(v), 'seed')).snapshotId);
  await seed(VOLUMES.due);
  now += 6 * DAY;
  await seed(VOLUMES.waiting);
  now = NOW.getTime();
  await seed(VOLUMES.pending);
  volumes.snapshotted.length = 0;
  for (const i of INSTANCES) inventory.put(i);
  const s = readSettings(orphanedVolumes.settings, { AUDIT_TABLE_NAME: 'audit', DRY_RUN: 'false', ...env });
  const port = sent ? throughSdk(volumes, sent) : volumes;
  // the fleet's own records of what it proved and snapshotted before this run
  for (const r of PROOFS) {
    const snapshotId = snapshotIds.get(r.subject.recordName ?? '');
    const seeded = r.action === 'volume.snapshot' ? { details: { ...r.details, snapshotId } } : {};
    await audit.write({ ...r, ...seeded });
  }
  const auditStore = new InMemoryAuditStore(audit);
  const handler = orphanedVolumes.create({ audit, auditStore, inventory, volumes: port }, s, {
    now: () => new Date(now),
    gate,
  });
  return { audit, inventory, volumes, handler, snapshotIds, advance: (ms: number) => (now += ms) };
}
const schedule = (id = 'run-1') => ({
  version: '0',
  id,
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: NOW.toISOString(),
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/orphaned-volumes'],
  detail: {},
});
const APPROVE: ApprovalGate = {
  check: async () => ({
    approved: true,
    proposalId: 'ap-1',
    by: ['alice'],
    decisions: [],
    settle: async () => {},
  }),
};
/** What the runs wrote (the seeded proofs left out). */
const written = (audit: InMemoryAuditSink) => audit.all().filter((r) => r.trigger.id !== SEED_RUN);
const recordOf = (audit: InMemoryAuditSink, volumeId: string) =>
  written(audit).filter((r) => r.subject.recordName === volumeId);

describe('orphaned-volumes handler', () => {
  it('on schedule: snapshots new orphans, reports deletions for approval with their cost, touches nothing else', async () => {
    const w = await world();
    await w.handler(schedule());
    expect(w.volumes.snapshotted).toEqual([VOLUMES.fresh.volumeId]);
    expect(w.volumes.deleted).toEqual([]);
    const [del] = recordOf(w.audit, VOLUMES.due.volumeId);
    expect(del).toMatchObject({
      action: 'volume.delete',
      decision: 'reported',
      details: { monthlyCostUsd: 50 },
    });
    expect(del?.reason).toMatch(/needs approval/);
    const [snapped] = recordOf(w.audit, VOLUMES.fresh.volumeId);
    expect(snapped).toMatchObject({ action: 'volume.snapshot', decision: 'acted' });
    const run = w.audit.all().find((r) => r.action === 'volume.sweep');
    expect(run).toMatchObject({
      decision: 'reported',
      details: { monthlyCostUsd: { orphaned: 68, unattributed: 15 } },
    });
  });

  it('on schedule: tags the kept volumes of live fleet instances with their instance, through the SDK after the intent', async () => {
    const sent: string[] = [];
    const w = await world(REPORT_ONLY_GATE, {}, sent);
    const LIVE = 'i-00000000000000010';
    const OTHER = 'i-00000000000000011';
    w.inventory.put(inst(LIVE, 'running'));
    w.inventory.put(inst(OTHER, 'running', { team: 'data' }));
    const fleetTags = { [FLEET.key]: FLEET.value };
    const kept = vol('vol-0000000000000011', undefined, { state: 'in-use', tags: fleetTags });
    const dies = vol('vol-0000000000000012', undefined, { state: 'in-use', tags: fleetTags });
    const foreign = vol('vol-0000000000000013', undefined, { state: 'in-use', tags: fleetTags });
    for (const v of [kept, dies, foreign]) w.volumes.put(v);
    w.volumes.attach(kept.volumeId, LIVE);
    w.volumes.attach(dies.volumeId, LIVE, true);
    w.volumes.attach(foreign.volumeId, OTHER);
    const order: string[] = [];
    const write = w.audit.write.bind(w.audit);
    w.audit.write = async (r) => {
      order.push(
        `${r.action} ${r.decision} after ${sent.includes('CreateTags') ? 'CreateTags' : 'no tag'} sent`,
      );
      return write(r);
    };
    await w.handler(schedule());
    expect(order.filter((o) => o.startsWith('volume.tag '))).toEqual([
      'volume.tag intended after no tag sent',
      'volume.tag acted after CreateTags sent',
    ]);
    expect(w.volumes.tagged).toEqual([kept.volumeId]);
    const [described] = await w.volumes.describe([kept.volumeId]);
    expect(described?.tags[INSTANCE_TAG]).toBe(LIVE);
    expect(sent).toContain('CreateTags');
    const records = recordOf(w.audit, kept.volumeId);
    expect(records.map((r) => `${r.action} ${r.decision}`)).toEqual(['volume.tag acted']);
    expect(records[0]?.calls.map((c) => c.operation)).toEqual(['CreateTags']);
    expect(recordOf(w.audit, dies.volumeId)).toEqual([]);
    expect(recordOf(w.audit, foreign.volumeId)).toEqual([]);
  });

  it('deletes an orphan past its grace once approved: intent record first (the SDK middleware waits for it), its snapshot kept', async () => {
    const sent: string[] = [];
    const w = await world(APPROVE, {}, sent);
    const order: string[] = [];
    const write = w.audit.write.bind(w.audit);
    w.audit.write = async (r) => {
      order.push(`${r.action} ${r.decision} after ${sent.join(',') || 'nothing'} sent`);
      return write(r);
    };
    await w.handler(schedule());
    expect(w.volumes.deleted).toEqual([VOLUMES.due.volumeId]);
    expect(sent).toEqual(['CreateSnapshot', 'DeleteVolume']);
    // each mutating call's intent record is stored before the call is sent, its outcome after
    expect(order.filter((o) => /^volume\.(snapshot|delete) /.test(o))).toEqual([
      'volume.snapshot intended after nothing sent',
      'volume.snapshot acted after CreateSnapshot sent',
      'volume.delete intended after CreateSnapshot sent',
      'volume.delete acted after CreateSnapshot,DeleteVolume sent',
    ]);
    const acted = w.audit.all().find((r) => r.action === 'volume.delete');
    expect(acted?.details).toMatchObject({ approval: { proposalId: 'ap-1', by: ['alice'] } });
  });

  it('the grace period counts from the fleet snapshot: a new orphan is deleted only after it', async () => {
    const w = await world(APPROVE);
    await w.handler(schedule('run-1'));
    w.advance(6 * DAY);
    await w.handler(schedule('run-2'));
    expect(w.volumes.deleted).not.toContain(VOLUMES.fresh.volumeId);
    w.advance(1 * DAY + 1000);
    await w.handler(schedule('run-3'));
    expect(w.volumes.deleted).toContain(VOLUMES.fresh.volumeId);
  });

  it('keeps one record per volume when an instance leaves two orphans (record ids per volume)', async () => {
    const w = await world();
    const second = vol('vol-0000000000000008', I.terminated, { sizeGiB: 20 });
    w.volumes.put(second);
    await w.audit.write(fleetRecord('volume.tag', second.volumeId, I.terminated));
    await w.handler(schedule());
    expect(w.volumes.snapshotted.sort()).toEqual([VOLUMES.fresh.volumeId, second.volumeId]);
    const snaps = written(w.audit).filter((r) => r.action === 'volume.snapshot' && r.decision === 'acted');
    expect(snaps.map((r) => r.details?.volumeId).sort()).toEqual([VOLUMES.fresh.volumeId, second.volumeId]);
  });

  it('in a dry run changes nothing and reports what it would do', async () => {
    const w = await world(APPROVE, { DRY_RUN: 'true' });
    await w.handler(schedule());
    expect([w.volumes.snapshotted, w.volumes.deleted]).toEqual([[], []]);
    expect(recordOf(w.audit, VOLUMES.fresh.volumeId)[0]?.reason).toMatch(/dry run: would snapshot/);
  });

  it('re-checks the volume before acting: one re-attached since the listing is left alone', async () => {
    const w = await world(APPROVE);
    const describe = w.volumes.describe.bind(w.volumes);
    w.volumes.describe = async (ids) => {
      w.volumes.attach(VOLUMES.fresh.volumeId, 'i-0000000000000abcd');
      w.volumes.attach(VOLUMES.due.volumeId, 'i-0000000000000abcd');
      return describe(ids);
    };
    await w.handler(schedule());
    expect([w.volumes.snapshotted, w.volumes.deleted]).toEqual([[], []]);
    expect(recordOf(w.audit, VOLUMES.due.volumeId)[0]).toMatchObject({ decision: 'skipped' });
  });

  it('on a terminated event: re-reads EC2 and handles only the volumes of that fleet instance', async () => {
    const w = await world();
    await w.handler(stateChangeEvent(I.terminated, 'terminated', NOW.getTime() - 60_000));
    expect(w.volumes.snapshotted).toEqual([VOLUMES.fresh.volumeId]);
    expect(w.audit.all().filter((r) => r.action === 'volume.delete')).toEqual([]);
  });

  it('refuses a terminated event that EC2 does not confirm, or one dated in the future, with a record', async () => {
    const w = await world();
    await w.handler(stateChangeEvent(I.running, 'terminated', NOW.getTime() - 60_000));
    await w.handler(stateChangeEvent(I.terminated, 'terminated', NOW.getTime() + 10 * 60_000));
    expect(w.volumes.snapshotted).toEqual([]);
    const notes = w.audit.all().filter((r) => r.action === 'volume.trigger');
    expect(notes.map((r) => [r.subject.instanceId, r.decision])).toEqual([
      [I.running, 'skipped'],
      [I.terminated, 'refused'],
    ]);
  });

  it('records a malformed event as refused (it would never get better), without throwing', async () => {
    const w = await world();
    await expect(w.handler({ source: 'aws.ec2', detail: {} })).resolves.toBeUndefined();
    expect(written(w.audit).map((r) => [r.action, r.decision])).toEqual([['volume.trigger', 'refused']]);
  });

  it('a forged instance tag and a forged fleet snapshot lead to no action, even with every deletion approved', async () => {
    const w = await world(APPROVE);
    const victim = 'i-00000000000000042';
    w.inventory.put(inst(victim, 'terminated'));
    const forged = vol('vol-0000000000000042', victim);
    w.volumes.put(forged);
    // someone allowed to tag volumes and snapshot them: a fleet-tagged snapshot naming the instance
    await w.volumes.snapshot(forged.volumeId, { [FLEET.key]: FLEET.value, [INSTANCE_TAG]: victim }, 'forged');
    w.volumes.snapshotted.length = 0;
    w.advance(8 * DAY);
    await w.handler(schedule('run-later'));
    expect(w.volumes.snapshotted).not.toContain(forged.volumeId);
    expect(w.volumes.deleted).not.toContain(forged.volumeId);
    expect(recordOf(w.audit, forged.volumeId).map((r) => [r.action, r.decision])).toEqual([
      ['volume.orphan', 'reported'],
    ]);
  });

  it("asks for a deletion with its stable facts and the fleet's own records as evidence", async () => {
    const requests: Parameters<ApprovalGate['check']>[0][] = [];
    const w = await world({
      check: async (r) => {
        requests.push(r);
        return { approved: false, reason: 'waits', proposalId: 'fwp-1' };
      },
    });
    await w.handler(schedule());
    const proof = [
      'rec-tag-0000000000000002-0000000000000000a',
      'rec-snapshot-0000000000000002-0000000000000000a',
    ];
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({
      why: 'irreversible',
      changes: [
        {
          kind: 'delete',
          action: 'volume.delete',
          facts: {
            volumeId: VOLUMES.due.volumeId,
            sizeGiB: 500,
            instanceId: I.gone,
            proofRecordIds: proof,
            snapshotId: w.snapshotIds.get(VOLUMES.due.volumeId),
          },
        },
      ],
      evidence: { auditRecordIds: proof },
    });
  });

  it('a deletion that EC2 refuses (attached in between) fails its record and the run', async () => {
    const w = await world(APPROVE);
    w.volumes.delete = async () => {
      throw new (await import('../../shared/ec2/volumes')).VolumeInUseError('VolumeInUse');
    };
    await expect(w.handler(schedule())).rejects.toThrow(/VolumeInUse/);
    expect(recordOf(w.audit, VOLUMES.due.volumeId).map((r) => r.decision)).toEqual(['failed']);
    expect(w.audit.all().find((r) => r.action === 'volume.sweep')).toBeDefined();
  });
});

describe('orphaned-volumes definition', () => {
  it('is triggered every 30 min and by EC2 terminated events; its settings have documented defaults', () => {
    expect(orphanedVolumes.triggers).toEqual([
      { kind: 'schedule', minutes: 30 },
      expect.objectContaining({
        kind: 'events',
        pattern: {
          source: ['aws.ec2'],
          detailType: ['EC2 Instance State-change Notification'],
          detail: { state: ['terminated'] },
        },
      }),
    ]);
    expect(settings).toMatchObject({ gracePeriod: 7 * 86_400, dryRun: false, fleetTagKey: FLEET.key });
    expect(settings.prices).toMatchObject({
      gp3: 0.08,
      gp2: 0.1,
      io1: 0.125,
      io2: 0.125,
      st1: 0.045,
      sc1: 0.015,
      standard: 0.05,
    });
    expect(
      readSettings(orphanedVolumes.settings, { AUDIT_TABLE_NAME: 'a', PRICE_PER_GB_MONTH: 'gp3=0.0952' })
        .prices.gp3,
    ).toBe(0.0952);
    expect(() =>
      readSettings(orphanedVolumes.settings, { AUDIT_TABLE_NAME: 'a', PRICE_PER_GB_MONTH: 'gp3=cheap' }),
    ).toThrow(/PRICE_PER_GB_MONTH/);
    expect(settingsTable(orphanedVolumes.settings)).toContain('GRACE_PERIOD_SECONDS');
  });

  it('deletion is irreversible and goes through the approval gate; every mutating grant is tag-scoped', () => {
    const { snapshot, delete: del } = orphanedVolumes.actions;
    expect(del).toMatchObject({ audit: 'volume.delete', reversible: false, calls: ['EC2.DeleteVolume'] });
    expect(del.unattended).toBeUndefined();
    expect(snapshot).toMatchObject({
      audit: 'volume.snapshot',
      reversible: true,
      calls: ['EC2.CreateSnapshot'],
    });
    const grants = [...snapshot.iam(settings), ...del.iam(settings)];
    for (const g of grants) {
      expect(g.resources.every((r) => r !== '*')).toBe(true);
      expect(g.conditions).toBeDefined();
    }
    expect(del.iam(settings)).toEqual([
      {
        actions: ['ec2:DeleteVolume'],
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters
        resources: ['arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:volume/*'],
        conditions: { StringEquals: { 'aws:ResourceTag/fleetwarden:fleet': 'runners' } },
      },
    ]);
    expect(orphanedVolumes.reads(settings)[0]?.actions).toEqual([
      'ec2:DescribeVolumes',
      'ec2:DescribeSnapshots',
      'ec2:DescribeInstances',
    ]);
  });

  it("reads its own proofs back: Query on the audit table's record-name and runner indexes only", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters
    const table = 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/audit';
    expect(orphanedVolumes.reads(settings)[1]).toEqual({
      actions: ['dynamodb:Query'],
      resources: [`${table}/index/byRunner`, `${table}/index/byRecordName`],
    });
  });

  it('is a remediation like any other (registry, simulator, infra take it as AnyRemediation)', () => {
    const r: AnyRemediation = orphanedVolumes;
    expect(r.entry).toBe('functions/orphaned-volumes/index.ts');
    expect(r.ports).toEqual(['audit', 'auditStore', 'inventory', 'volumes']);
  });
});
