import { describe, expect, it } from 'vitest';
import { auditedAction } from '../../shared/audit/audited-action';
import { AuditWriteError } from '../../shared/audit/errors';
import type { AuditRecordInput } from '../../shared/audit/schema';
import { World } from './world';

const ctx = {
  function: 'runner-sweep',
  trigger: { source: 'fleetwarden.schedule', id: 'run-1' },
  mode: 'live' as const,
};
const subject = { instanceId: 'i-0abc12345', runnerName: 'ci-i-0abc12345' };

function world() {
  const w = new World({ now: Date.parse('2026-11-24T10:00:00Z') }, () => 0.5);
  w.inventory.put({ instanceId: 'i-0abc12345', state: 'running', tags: {} });
  const runner = w.registry.register({ name: 'ci-i-0abc12345', labels: ['self-hosted', 'fleet'] });
  return { w, runner };
}

describe('simulator ports: intent before act (SimEvidence.instrument)', () => {
  it('never applies a mutating fake-port call when the intent record cannot be written', async () => {
    const { w, runner } = world();
    w.audit.failNextWrites(2); // the intent, and the failure record after it
    const err = await auditedAction(w.audit, ctx, { action: 'instance.terminate', subject }, async () => {
      await w.registry.listRunners(); // a read: no intent needed
      await w.registry.cordonRunner(runner.id, ['draining']).catch(() => undefined);
      await w.registry.deleteRunner(runner.id).catch(() => undefined);
      await w.terminator.terminate(['i-0abc12345']);
      return { decision: 'acted', reason: 'gone', result: undefined };
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect(w.terminator.terminated).toEqual([]);
    expect(w.registry.findByName('ci-i-0abc12345')?.labels).toEqual(['self-hosted', 'fleet']);
    expect(w.evidence.delivered).toBe(0);
    expect(w.audit.all()).toEqual([]);
  });

  it('writes the intent before the fake applies the call, the outcome after, and counts none without intent', async () => {
    const { w, runner } = world();
    const seen: string[] = [];
    const sink = {
      write: async (r: AuditRecordInput) => {
        seen.push(`${r.decision} (terminated: ${w.terminator.terminated.length})`);
        return w.audit.write(r);
      },
    };
    await auditedAction(sink, ctx, { action: 'instance.terminate', subject }, async () => {
      await w.terminator.terminate(['i-0abc12345']);
      await w.registry.deleteRunner(runner.id);
      return { decision: 'acted', reason: 'gone', result: undefined };
    });
    expect(seen).toEqual(['intended (terminated: 0)', 'acted (terminated: 1)']);
    expect(w.audit.all()[0]?.calls.map((c) => c.operation)).toEqual(['TerminateInstances']);
    expect(w.evidence.withoutIntent).toEqual([]);
    // a mutating call outside any audited step has no intent record: the simulator lists it
    await w.terminator.terminate(['i-0abc12345']);
    expect(w.evidence.withoutIntent).toEqual(['simulator EC2.TerminateInstances']);
  });

  it('EBS: CreateTags, CreateSnapshot and DeleteVolume wait for the intent record, are journaled and reach CloudTrail', async () => {
    const { w } = world();
    const tags = { 'fleetwarden:fleet': 'runners', 'fleetwarden:instance-id': 'i-0abc12345' };
    w.volumes.put({
      volumeId: 'vol-0abc',
      state: 'available',
      sizeGiB: 8,
      volumeType: 'gp3',
      encrypted: true,
      attachedTo: [],
      tags,
    });
    const volume = { ...subject, recordName: 'vol-0abc' };
    w.audit.failNextWrites(2);
    await auditedAction(w.audit, ctx, { action: 'volume.delete', subject: volume }, async () => {
      await w.volumes.delete('vol-0abc');
      return { decision: 'acted', reason: 'gone', result: undefined };
    }).catch(() => undefined);
    expect(w.volumes.deleted).toEqual([]);
    await auditedAction(w.audit, ctx, { action: 'volume.tag', subject: volume }, async () => {
      await w.volumes.tagVolume('vol-0abc', 'fleetwarden:instance-id', 'i-0abc12345');
      return { decision: 'acted', reason: 'tagged', result: undefined };
    });
    await auditedAction(w.audit, ctx, { action: 'volume.snapshot', subject: volume }, async () => {
      await w.volumes.snapshot('vol-0abc', tags, 'orphan');
      return { decision: 'acted', reason: 'snapshotted', result: undefined };
    });
    await auditedAction(w.audit, ctx, { action: 'volume.delete', subject: volume }, async () => {
      await w.volumes.delete('vol-0abc');
      return { decision: 'acted', reason: 'gone', result: undefined };
    });
    expect(w.journal.calls.map((c) => `${c.operation} ${c.resources.join(',')}`)).toEqual([
      'CreateTags vol-0abc',
      'CreateSnapshot vol-0abc',
      'DeleteVolume vol-0abc',
    ]);
    expect(w.audit.all().map((r) => `${r.action} ${r.decision} ${r.calls.map((c) => c.operation)}`)).toEqual([
      'volume.tag acted CreateTags',
      'volume.snapshot acted CreateSnapshot',
      'volume.delete acted DeleteVolume',
    ]);
    expect(w.evidence.delivered).toBe(3);
    expect(w.evidence.withoutIntent).toEqual([]);
  });
});
