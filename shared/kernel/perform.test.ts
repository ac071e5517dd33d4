import { describe, expect, it, vi } from 'vitest';
import type { AuditContext } from '../audit/audited-action';
import { AuditWriteError } from '../audit/errors';
import { InMemoryAuditSink } from '../audit/in-memory-audit-sink';
import { ensureIntent, UndeclaredCallError } from '../aws/call-recorder';
import { type ApprovalGate, REPORT_ONLY_GATE } from './approval';
import {
  allowance,
  perform,
  performUngated,
  type RunKit,
  recordFailure,
  recordNote,
  UngatedPerformError,
} from './perform';

const ctx: AuditContext = {
  function: 'test-remediation',
  trigger: { source: 'fleetwarden.schedule', id: 'run-1' },
  mode: 'live',
  now: () => new Date('2026-11-30T08:00:00Z'),
};

const actions = {
  tag: {
    audit: 'instance.tag',
    does: 'tag the instance',
    reversible: true,
    weight: 0,
    iam: () => [],
    calls: ['EC2.CreateTags'],
  },
  remove: {
    audit: 'runner.deregister',
    does: 'deregister the runner',
    reversible: false,
    unattended: 'its instance is confirmed gone',
    weight: 1,
    iam: () => [],
    calls: ['GitHub DELETE /orgs/{org}/actions/runners/{runner_id}'],
  },
  destroy: {
    audit: 'volume.delete',
    does: 'delete the volume',
    reversible: false,
    weight: 1,
    iam: () => [],
    calls: ['EC2.DeleteVolume'],
  },
} as const;

function kit(over: Partial<RunKit> = {}): RunKit & { audit: InMemoryAuditSink } {
  const audit = new InMemoryAuditSink();
  return {
    spec: { name: 'test-remediation', actions },
    audit,
    ctx,
    dryRun: false,
    gate: REPORT_ONLY_GATE,
    allowance: allowance(10),
    ...over,
  } as RunKit & { audit: InMemoryAuditSink };
}

const subject = { instanceId: 'i-0123456789abcdef0' };

describe('perform: every action passes dry-run, approval, budget, intent, act, outcome', () => {
  it('acts on a reversible action: intent written before the call, outcome after', async () => {
    const k = kit();
    const seen: string[] = [];
    const write = vi.spyOn(k.audit, 'write');
    const out = await perform(k, { kind: 'tag', subject, reason: 'tag drift' }, async () => {
      await ensureIntent('EC2.CreateTags');
      seen.push(`act after ${write.mock.calls.length} writes`);
      return { decision: 'acted' };
    });
    expect(out.decision).toBe('acted');
    expect(seen).toEqual(['act after 1 writes']);
    expect(write.mock.calls[0]?.[0]).toMatchObject({ decision: 'intended', reason: 'tag drift' });
    const [rec] = k.audit.all();
    expect(rec).toMatchObject({ action: 'instance.tag', decision: 'acted', reason: 'tag drift', subject });
  });

  it('does not act in a dry run: reported with what it would have done', async () => {
    const k = kit({ dryRun: true });
    const act = vi.fn();
    const out = await perform(k, { kind: 'tag', subject, reason: 'tag drift' }, act);
    expect(act).not.toHaveBeenCalled();
    expect(out.decision).toBe('reported');
    expect(k.audit.all()[0]?.reason).toBe('dry run: would tag the instance: tag drift');
  });

  it('runs the preview of a dry run (reads only) and reports what it found; no mutating call can leave', async () => {
    const k = kit({ dryRun: true });
    const act = vi.fn();
    const out = await perform(k, { kind: 'tag', subject, reason: 'tag drift' }, act, async () => ({
      decision: 'acted',
      reason: 'would tag 3 instances',
      details: { planned: 3 },
    }));
    expect(act).not.toHaveBeenCalled();
    expect(out).toMatchObject({ decision: 'reported', reason: 'would tag 3 instances' });
    expect(k.audit.all()[0]).toMatchObject({ decision: 'reported', details: { planned: 3 } });
    const err = await perform(
      k,
      { kind: 'tag', subject: { instanceId: 'i-0123456789abcdef1' }, reason: 'x' },
      act,
      async () => {
        await ensureIntent('EC2.CreateTags');
        return { decision: 'acted' };
      },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndeclaredCallError);
  });

  it('sends an irreversible action without `unattended` to the approval gate; report-only never acts', async () => {
    const k = kit();
    const act = vi.fn();
    const out = await perform(k, { kind: 'destroy', subject, reason: 'orphaned 9 days' }, act);
    expect(act).not.toHaveBeenCalled();
    expect(out.decision).toBe('reported');
    expect(k.audit.all()[0]?.reason).toMatch(/^needs approval to delete the volume: orphaned 9 days \(/);
  });

  function approving(settle = vi.fn(async () => {})): ApprovalGate & { settle: typeof settle } {
    const check = vi.fn(async () => ({
      approved: true as const,
      proposalId: 'fwp-1',
      by: ['arn:aws:iam::1:user/bob'],
      decisions: [
        {
          proposalId: 'fwp-1',
          fingerprint: 'f',
          decision: 'approve' as const,
          reason: 'checked the volume',
          approver: {
            arn: 'arn:aws:iam::1:user/bob',
            sessionArn: 'arn:aws:sts::1:assumed-role/fleetwarden-approver/bob',
            account: '1',
          },
          decidedAt: '2026-11-30T07:00:00.000Z',
          requestIds: ['req-assume', 'req-put'],
        },
      ],
      settle,
    }));
    return { check, settle };
  }

  it('asks the gate with the exact planned change, its facts and who would execute it', async () => {
    const gate = approving();
    const k = kit({ gate });
    await perform(
      k,
      { kind: 'destroy', subject, reason: 'orphaned', details: { ageDays: 9 }, facts: { volumeId: 'vol-1' } },
      async () => ({ decision: 'acted' }),
    );
    expect(gate.check).toHaveBeenCalledWith(
      expect.objectContaining({
        function: 'test-remediation',
        why: 'irreversible',
        reason: 'orphaned',
        changes: [
          {
            kind: 'destroy',
            action: 'volume.delete',
            subject,
            reason: 'orphaned',
            facts: { volumeId: 'vol-1' },
          },
        ],
        trigger: ctx.trigger,
        claimant: k.audit.all()[0]?.recordId,
      }),
    );
  });

  it('hands the gate the evidence the planner names (audit record ids behind the facts)', async () => {
    const gate = approving();
    const evidence = { auditRecordIds: ['rec-tag-1', 'rec-snap-1'], cloudTrailEventIds: ['ev-1'] };
    await perform(
      kit({ gate }),
      { kind: 'destroy', subject, reason: 'orphaned', facts: { volumeId: 'vol-1' }, evidence },
      async () => ({ decision: 'acted' }),
    );
    expect(gate.check).toHaveBeenCalledWith(expect.objectContaining({ evidence }));
  });

  it('acts on an irreversible action the gate approves, records the approval and settles it', async () => {
    const gate = approving();
    const k = kit({ gate, allowance: allowance(0) });
    const out = await perform(k, { kind: 'destroy', subject, reason: 'orphaned' }, async () => ({
      decision: 'acted',
    }));
    // a human decided: the budget's allowance does not apply to an approved proposal
    expect(out.decision).toBe('acted');
    expect(k.audit.all()[0]?.details).toMatchObject({
      approval: {
        proposalId: 'fwp-1',
        by: ['arn:aws:iam::1:user/bob'],
        decisions: [{ approver: 'arn:aws:iam::1:user/bob', requestIds: ['req-assume', 'req-put'] }],
      },
    });
    expect(gate.settle).toHaveBeenCalledWith('acted');
  });

  it('settles an approved execution as failed when the act throws, and rethrows', async () => {
    const gate = approving();
    const k = kit({ gate });
    const boom = new Error('DeleteVolume failed');
    const err = await perform(k, { kind: 'destroy', subject, reason: 'orphaned' }, async () => {
      throw boom;
    }).catch((e: unknown) => e);
    expect(err).toBe(boom);
    expect(gate.settle).toHaveBeenCalledWith('failed');
  });

  it('reports an action the gate does not approve, with the proposal id and the why', async () => {
    const gate: ApprovalGate = {
      check: async () => ({
        approved: false,
        reason: 'proposal fwp-2 waits for approval',
        proposalId: 'fwp-2',
      }),
    };
    const k = kit({ gate });
    const act = vi.fn();
    const out = await perform(k, { kind: 'destroy', subject, reason: 'orphaned' }, act);
    expect(act).not.toHaveBeenCalled();
    expect(out.decision).toBe('reported');
    expect(k.audit.all()[0]?.reason).toBe(
      'needs approval to delete the volume: orphaned (proposal fwp-2 waits for approval)',
    );
    expect(k.audit.all()[0]?.details).toMatchObject({ proposalId: 'fwp-2' });
  });

  it("records the gate's notes (a proposal made, voided, rejected) after the action's own record", async () => {
    const gate: ApprovalGate = {
      check: async () => ({
        approved: false,
        reason: 'proposal fwp-3 waits for approval',
        proposalId: 'fwp-3',
        notes: [
          {
            kind: 'note',
            audit: 'approval.void',
            decision: 'reported',
            subject,
            reason: 'facts changed: proposal fwp-2 is void, fwp-3 replaces it',
            details: { proposalId: 'fwp-2', supersededBy: 'fwp-3' },
          },
        ],
      }),
    };
    const k = kit({ gate });
    await perform(k, { kind: 'destroy', subject, reason: 'orphaned' }, vi.fn());
    expect(k.audit.all().map((r) => [r.action, r.decision])).toEqual([
      ['volume.delete', 'reported'],
      ['approval.void', 'reported'],
    ]);
  });

  it('lets an irreversible action declared `unattended` through without the gate', async () => {
    const gate: ApprovalGate = { check: vi.fn() };
    const k = kit({ gate });
    const out = await perform(k, { kind: 'remove', subject, reason: 'ghost' }, async () => ({
      decision: 'acted',
    }));
    expect(out.decision).toBe('acted');
    expect(gate.check).not.toHaveBeenCalled();
  });

  it('refuses an action once the run allowance of the blast-radius budget is spent', async () => {
    const k = kit({ allowance: allowance(1) });
    const act = vi.fn(async () => ({ decision: 'acted' as const }));
    await perform(k, { kind: 'remove', subject, reason: 'ghost 1' }, act);
    const second = await perform(
      k,
      { kind: 'remove', subject: { runnerName: 'r2' }, reason: 'ghost 2' },
      act,
    );
    expect(act).toHaveBeenCalledTimes(1);
    expect(second.decision).toBe('refused');
    expect(k.audit.all().find((r) => r.subject.runnerName === 'r2')?.reason).toMatch(/budget/);
  });

  it('refuses a mutating call the action kind did not declare, and the action fails', async () => {
    const k = kit();
    const err = await perform(k, { kind: 'tag', subject, reason: 'x' }, async () => {
      await ensureIntent('EC2.TerminateInstances');
      return { decision: 'acted' };
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UndeclaredCallError);
    expect(k.audit.all()[0]?.decision).toBe('failed');
  });

  it('refuses a planned kind the remediation did not declare', async () => {
    const k = kit();
    await expect(perform(k, { kind: 'nuke', subject, reason: 'x' }, vi.fn())).rejects.toThrow(
      /nuke is not an action test-remediation declares \(declared: tag, remove, destroy\)/,
    );
  });

  it('fails the action when the intent record cannot be written: the call is never made', async () => {
    const k = kit();
    k.audit.failNextWrites(1);
    const sent = vi.fn();
    const err = await perform(k, { kind: 'tag', subject, reason: 'x' }, async () => {
      await ensureIntent('EC2.CreateTags');
      sent();
      return { decision: 'acted' };
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuditWriteError);
    expect(sent).not.toHaveBeenCalled();
  });

  it('records a note (a decision that takes no action) as it is', async () => {
    const k = kit();
    await recordNote(k, {
      kind: 'note',
      audit: 'runner.ghost',
      decision: 'reported',
      subject,
      reason: 'seen',
    });
    expect(k.audit.all()[0]).toMatchObject({ action: 'runner.ghost', decision: 'reported', reason: 'seen' });
  });

  it('records a decision that failed (a malformed message, an unverifiable fact) and rethrows its error', async () => {
    for (const dryRun of [false, true]) {
      const k = kit({ dryRun });
      const error = new Error('not JSON');
      const err = await recordFailure(k, { audit: 'thing.malformed', subject }, error).catch(
        (e: unknown) => e,
      );
      expect(err).toBe(error);
      expect(k.audit.all()[0]).toMatchObject({
        action: 'thing.malformed',
        decision: 'failed',
        reason: 'Error: not JSON',
      });
    }
  });
});

describe('performUngated: perform for a remediation with no gated action', () => {
  it('acts, reports a dry run and spends the budget as perform does', async () => {
    const k = kit({ allowance: allowance(1) });
    const act = vi.fn(async () => ({ decision: 'acted' as const }));
    expect((await performUngated(k, { kind: 'tag', subject, reason: 'tag drift' }, act)).decision).toBe(
      'acted',
    );
    expect((await performUngated(k, { kind: 'remove', subject, reason: 'ghost 1' }, act)).decision).toBe(
      'acted',
    );
    const second = await performUngated(
      k,
      { kind: 'remove', subject: { runnerName: 'r2' }, reason: 'g2' },
      act,
    );
    expect(second.decision).toBe('refused');
    const dry = await performUngated(kit({ dryRun: true }), { kind: 'tag', subject, reason: 'x' }, act);
    expect(dry.decision).toBe('reported');
    expect(act).toHaveBeenCalledTimes(2);
  });

  it('never acts on a kind that needs approval: the action fails (UngatedPerformError), the gate is not asked', async () => {
    const gate: ApprovalGate = { check: vi.fn() };
    const k = kit({ gate });
    const act = vi.fn(async () => ({ decision: 'acted' as const }));
    const err = await performUngated(k, { kind: 'destroy', subject, reason: 'orphaned' }, act).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UngatedPerformError);
    expect(act).not.toHaveBeenCalled();
    expect(gate.check).not.toHaveBeenCalled();
    expect(k.audit.all()).toMatchObject([{ action: 'volume.delete', decision: 'failed' }]);
  });
});
