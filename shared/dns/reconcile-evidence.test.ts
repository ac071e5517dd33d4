import { describe, expect, it } from 'vitest';
import { auditRecord } from '../audit/audit-store.contract';
import { type AuditRecord, type AuditRecordInput, AuditRecordSchema } from '../audit/schema';
import type { UnreadableRecord } from '../audit/store-port';
import type { InstanceInfo } from '../ec2/port';
import { type ChangedInstance, type EvidenceDue } from './reconcile-due';
import {
  type CheckedChange,
  expectedRecordOf,
  readOnEvidence,
  type TrailLookup,
  verdictOf,
} from './reconcile-evidence';
import { ZoneSet } from './zone-set';

const ID = 'i-00000000000000001';
const LAUNCH = Date.parse('2026-11-24T12:20:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const S = 1000;

/** dns-sync's record of one event about instance ID, `dt` ms after the launch. */
function sync(recordId: string, dt: number, over: Partial<AuditRecordInput> = {}): AuditRecord {
  return AuditRecordSchema.parse(
    auditRecord({
      recordId,
      time: iso(LAUNCH + dt + 2 * S),
      function: 'dns-sync',
      trigger: { source: 'aws.ec2', id: `evt-${recordId}`, time: iso(LAUNCH + dt) },
      subject: { instanceId: ID, recordName: 'web.example.com.' },
      action: 'dns.upsert',
      decision: 'acted',
      reason: 'A web.example.com. -> 10.0.0.1',
      details: { ip: '10.0.0.1', state: 'running' },
      ...over,
    }),
  );
}

const running: CheckedChange = {
  instanceId: ID,
  state: 'running',
  at: LAUNCH,
  expected: { recordName: 'web.example.com.', ips: ['10.0.0.1'] },
};
const stopped: CheckedChange = { instanceId: ID, state: 'stopped', at: LAUNCH };
const deleted = (recordId: string, dt: number, state: string, over: Partial<AuditRecordInput> = {}) =>
  sync(recordId, dt, {
    action: 'dns.delete',
    reason: `${state}: removed A web.example.com.; tombstone kept`,
    details: { removed: [], state },
    ...over,
  });

describe('verdictOf: a change needs no zone read only when dns-sync recorded handling it', () => {
  it('a running instance whose upsert dns-sync recorded after the launch, same name and IP: handled', () => {
    expect(verdictOf(running, [sync('r1', 30 * S)], [])).toEqual({ handled: true, recordId: 'r1' });
  });

  it('"already in the desired state" is as good as acted (a duplicate event, or the record was there)', () => {
    const already = sync('r1', 30 * S, {
      decision: 'skipped',
      reason: 'already in the desired state: A web.example.com. -> 10.0.0.1',
    });
    expect(verdictOf(running, [already], [])).toMatchObject({ handled: true, recordId: 'r1' });
  });

  it('a stopped instance whose delete dns-sync recorded for the stopped state: handled', () => {
    expect(verdictOf(stopped, [deleted('d1', 10 * S, 'stopped')], [])).toMatchObject({ handled: true });
  });

  it('no record after the change (the event was lost, or the index has not caught up): not handled', () => {
    const before = sync('old', -3600 * S);
    const v = verdictOf(running, [before], []);
    expect(v).toMatchObject({ handled: false, why: expect.stringContaining('no record of dns-sync') });
    expect(verdictOf(running, [], [])).toMatchObject({ handled: false });
  });

  it('a failed, refused, intended (outcome unknown) or dry-run record is not proof', () => {
    const failed = sync('f', 30 * S, { decision: 'failed', reason: 'Throttling', details: {} });
    const refused = sync('x', 30 * S, {
      decision: 'refused',
      reason: 'A web.example.com. exists and is not owned by fleetwarden owner "prod"',
    });
    const intended = sync('i', 30 * S, { decision: 'intended', reason: 'about to write' });
    const dry = sync('d', 30 * S, { mode: 'dry-run', decision: 'reported', reason: 'dry run: would A' });
    for (const r of [failed, refused, intended, dry]) {
      const v = verdictOf(running, [r], []);
      expect(v, r.recordId).toMatchObject({ handled: false, recordIds: [r.recordId] });
    }
  });

  it('a skip for another reason (a stale event, no IP yet) is not proof', () => {
    const stale = sync('s', 30 * S, {
      decision: 'skipped',
      reason: 'stale event: running at ... is older than the marker',
    });
    expect(verdictOf(running, [stale], [])).toMatchObject({ handled: false });
  });

  it('the latest record about the current state decides: a later failure undoes an earlier success', () => {
    const later = sync('f', 60 * S, { decision: 'failed', reason: 'Throttling', details: {} });
    expect(verdictOf(running, [sync('r1', 30 * S), later], [])).toMatchObject({
      handled: false,
      recordIds: ['f'],
    });
  });

  it('a record of another state (a reordered event of the way out) is neither proof nor a veto', () => {
    const stopping = deleted('s1', 5 * S, 'stopping');
    const staleStopping = deleted('s2', 40 * S, 'stopping', { decision: 'skipped', reason: 'stale event' });
    expect(verdictOf(stopped, [stopping], [])).toMatchObject({ handled: false });
    expect(verdictOf(stopped, [deleted('d1', 10 * S, 'stopped'), staleStopping], [])).toMatchObject({
      handled: true,
      recordId: 'd1',
    });
  });

  it('the record must match the instance as it is now: its name and its IP', () => {
    const renamed = { ...running, expected: { recordName: 'api.example.com.', ips: ['10.0.0.1'] } };
    expect(verdictOf(renamed, [sync('r1', 30 * S)], [])).toMatchObject({
      handled: false,
      why: expect.stringContaining('api.example.com'),
    });
    const moved = { ...running, expected: { recordName: 'web.example.com.', ips: ['10.0.0.9'] } };
    expect(verdictOf(moved, [sync('r1', 30 * S)], [])).toMatchObject({ handled: false });
    // a name dns-sync cannot resolve (refused) leaves nothing to compare: read
    const { expected: _none, ...unnamed } = running;
    expect(verdictOf(unnamed, [sync('r1', 30 * S)], [])).toMatchObject({ handled: false });
  });

  it('the record names compare as DNS names (case, trailing dot)', () => {
    const r = sync('r1', 30 * S, { subject: { instanceId: ID, recordName: 'WEB.example.com' } });
    expect(verdictOf(running, [r], [])).toMatchObject({ handled: true });
  });

  it('a split horizon: the record must list both views with their addresses', () => {
    const both = {
      ...running,
      expected: { recordName: 'web.example.com.', ips: ['10.0.0.1', '203.0.113.1'] },
    };
    const views = {
      ip: '10.0.0.1',
      state: 'running',
      views: [
        { zoneId: 'ZPRIV', view: 'private', ip: '10.0.0.1' },
        { zoneId: 'ZPUB', view: 'public', ip: '203.0.113.1' },
      ],
    };
    expect(verdictOf(both, [sync('r1', 30 * S, { details: views })], [])).toMatchObject({ handled: true });
    expect(verdictOf(both, [sync('r2', 30 * S)], [])).toMatchObject({ handled: false });
  });

  it('an upsert for a stopped instance, a delete for a running one: not proof', () => {
    expect(verdictOf(stopped, [sync('r1', 30 * S, { details: { state: 'stopped' } })], [])).toMatchObject({
      handled: false,
    });
  });

  it("another function's record about the instance is not dns-sync's proof", () => {
    const other = sync('o', 30 * S, { function: 'runner-sweep', action: 'runner.deregister' });
    expect(verdictOf(running, [other], [])).toMatchObject({ handled: false });
  });

  it('an unreadable record about the instance (a newer schema) means read: it may be the failure', () => {
    const unreadable: UnreadableRecord = {
      recordId: 'u',
      reason: 'schema version 2',
      error: new Error('schema version 2'),
    };
    expect(verdictOf(running, [sync('r1', 30 * S)], [unreadable])).toMatchObject({
      handled: false,
      recordIds: ['u'],
      why: expect.stringContaining('unreadable'),
    });
  });
});

describe('expectedRecordOf: the record dns-sync publishes for the instance as it is now', () => {
  const info = (over: Partial<InstanceInfo> = {}): InstanceInfo => ({
    instanceId: ID,
    state: 'running',
    privateIp: '10.0.0.1',
    publicIp: '203.0.113.1',
    tags: { name: 'web' },
    ...over,
  });
  const one = ZoneSet.of([{ id: 'Z1', name: 'example.com' }]);
  it('names it by its name tag (or its id when untagged) in the zone, with the private IP', () => {
    expect(expectedRecordOf(info(), one, 'name')).toEqual({
      recordName: 'web.example.com.',
      ips: ['10.0.0.1'],
    });
    expect(expectedRecordOf(info({ tags: {} }), one, 'name')).toEqual({
      recordName: `${ID}.example.com.`,
      ips: ['10.0.0.1'],
    });
  });
  it('a split horizon: one address per view; a name outside every zone or no address: nothing', () => {
    const split = ZoneSet.of([
      { id: 'Z1', name: 'example.com', view: 'private' },
      { id: 'Z2', name: 'example.com', view: 'public' },
    ]);
    expect(expectedRecordOf(info(), split, 'name')?.ips.sort()).toEqual(['10.0.0.1', '203.0.113.1']);
    expect(expectedRecordOf(info({ tags: { name: 'web.other.org.' } }), one, 'name')).toBeUndefined();
    const { privateIp: _p, ...noIp } = info();
    expect(expectedRecordOf(noIp, one, 'name')).toBeUndefined();
  });
});

describe('readOnEvidence: one audit query per changed instance, the first unproven one decides', () => {
  const change = (n: number, at: number): ChangedInstance => ({
    info: {
      instanceId: `i-0000000000000000${n}`,
      state: 'running',
      privateIp: `10.0.0.${n}`,
      tags: {},
      launchTime: iso(at),
    },
    at,
    what: 'launched',
  });
  const due = (changes: ChangedInstance[]): EvidenceDue => ({
    read: 'unless-handled',
    changes,
    since: '2026-11-24T11:55:00.000Z',
    nextFullRead: '2026-11-24T13:00:00.000Z',
  });
  const expectedOf = (info: InstanceInfo) => ({
    recordName: `${info.instanceId}.example.com.`,
    ips: [info.privateIp as string],
  });
  const proof = (c: ChangedInstance): AuditRecord =>
    sync(`rec-${c.info.instanceId}`, c.at - LAUNCH + 20 * S, {
      subject: { instanceId: c.info.instanceId, recordName: `${c.info.instanceId}.example.com` },
      trigger: { source: 'aws.ec2', id: 'e', time: iso(c.at + 20 * S) },
      details: { ip: c.info.privateIp, state: 'running' },
    });

  it('every change proven: no read; the record ids go into the run record', async () => {
    const changes = [change(1, LAUNCH), change(2, LAUNCH + 60 * S)];
    const lookup: TrailLookup = async (id) => ({
      records: changes.filter((c) => c.info.instanceId === id).map(proof),
      unreadable: [],
    });
    const d = await readOnEvidence(due(changes), expectedOf, lookup);
    expect(d.read).toBe(false);
    expect(d.reason).toContain('next full read at 2026-11-24T13:00:00.000Z');
    expect(d.evidence?.map((e) => e.recordId)).toEqual([
      'rec-i-00000000000000001',
      'rec-i-00000000000000002',
    ]);
  });

  it('queries from the change time, and stops at the first change without proof (read)', async () => {
    const changes = [change(1, LAUNCH), change(2, LAUNCH + 60 * S), change(3, LAUNCH + 120 * S)];
    const asked: Array<[string, string]> = [];
    const lookup: TrailLookup = async (id, since) => {
      asked.push([id, since.toISOString()]);
      return {
        records: id.endsWith('2') ? [] : changes.filter((c) => c.info.instanceId === id).map(proof),
        unreadable: [],
      };
    };
    const d = await readOnEvidence(due(changes), expectedOf, lookup);
    expect(d.read).toBe(true);
    expect(d.reason).toContain('i-00000000000000002 launched at 2026-11-24T12:21:00.000Z');
    expect(asked).toEqual([
      ['i-00000000000000001', '2026-11-24T12:20:00.000Z'],
      ['i-00000000000000002', '2026-11-24T12:21:00.000Z'],
    ]);
    expect(d.evidence?.at(-1)).toMatchObject({ instanceId: 'i-00000000000000002', why: expect.any(String) });
  });

  it('an audit query that fails means read (the safe direction), with the error in the reason', async () => {
    const lookup: TrailLookup = async () => {
      throw new Error('ProvisionedThroughputExceededException');
    };
    const d = await readOnEvidence(due([change(1, LAUNCH)]), expectedOf, lookup);
    expect(d.read).toBe(true);
    expect(d.reason).toContain('ProvisionedThroughputExceededException');
  });
});
