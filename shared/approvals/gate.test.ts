import { beforeEach, describe, expect, it } from 'vitest';
import type { ApprovalGate, ApprovalRequest, ApprovalVerdict } from '../kernel/approval';
import { ProposalNotifyError, ProposalStoreError } from './errors';
import { proposalGate } from './gate';
import type { ApprovalPolicy, Proposal } from './model';
import {
  ACCOUNT,
  ALICE,
  APPROVER_ROLE_ARN,
  aChange,
  aDecision,
  approverSession,
  BOB,
  MALLORY,
} from './testing/fixtures';
import { InMemoryDecisionStore } from './testing/in-memory-decision-store';
import { InMemoryProposalStore } from './testing/in-memory-proposal-store';
import { RecordingNotifier } from './testing/recording-notifier';

const policy: ApprovalPolicy = {
  approvers: [`arn:aws:iam::${ACCOUNT}:role/OnCall`, BOB],
  approverRoleArn: APPROVER_ROLE_ARN,
  required: 1,
  distinctFromProposer: true,
  expirySeconds: 86_400,
};

const T0 = Date.parse('2026-11-30T08:00:00.000Z');
const subject = { instanceId: 'i-0123456789abcdef0' };

function request(over: Partial<ApprovalRequest> = {}): ApprovalRequest {
  return {
    function: 'orphaned-volumes',
    why: 'irreversible',
    reason: 'orphaned volume vol-0abc of terminated fleet instance i-0123456789abcdef0',
    changes: [aChange()],
    trigger: { source: 'fleetwarden.schedule', id: 'sched-1' },
    triggerId: 'orphaned-volumes:trigger-1',
    evidence: { auditRecordIds: ['orphaned-volumes:attach-1'], cloudTrailEventIds: ['ev-terminate-1'] },
    claimant: 'orphaned-volumes:rec-1',
    ...over,
  };
}

const sizeChanged = () => [aChange({ facts: { volumeId: 'vol-0abc', sizeGiB: 200, state: 'available' } })];

describe('proposalGate', () => {
  let clock: { now: number };
  let proposals: InMemoryProposalStore;
  let decisions: InMemoryDecisionStore;
  let notifier: RecordingNotifier;
  let gate: ApprovalGate;
  const make = (p: ApprovalPolicy = policy) =>
    proposalGate({ proposals, decisions, notifier }, p, () => new Date(clock.now));
  const minutes = (m: number) => {
    clock.now += m * 60_000;
  };
  const approve = async (id: string, arn = ALICE, over = {}) => {
    const p = (await proposals.get(id)) as Proposal;
    await decisions.decide(aDecision(p, arn, { decidedAt: new Date(clock.now).toISOString(), ...over }));
  };
  const refused = (v: ApprovalVerdict) => {
    if (v.approved) throw new Error('expected a refusal');
    return v;
  };
  const granted = (v: ApprovalVerdict) => {
    if (!v.approved) throw new Error(`expected an approval, got: ${v.reason}`);
    return v;
  };

  beforeEach(() => {
    clock = { now: T0 };
    proposals = new InMemoryProposalStore();
    decisions = new InMemoryDecisionStore({ principal: approverSession('alice') });
    notifier = new RecordingNotifier();
    gate = make();
  });

  describe('tampering', () => {
    it('never executes a stored proposal whose changes do not hash to its fingerprint: void, proposed afresh', async () => {
      const first = refused(await gate.check(request({ changes: sizeChanged() })));
      const stored = (await proposals.get(first.proposalId as string)) as Proposal;
      // a proposals-table writer shows the approver a smaller plan, keeping the fingerprint of the real one
      const planted = {
        ...stored,
        id: 'fwp-planted',
        changes: [aChange()],
        createdAt: new Date(clock.now + 1000).toISOString(),
      };
      await proposals.create(planted);
      await proposals.transition(stored.id, ['open'], 'void', 'hidden', new Date(clock.now).toISOString());
      minutes(1);
      await approve(planted.id);
      minutes(1);
      const v = refused(await gate.check(request({ changes: sizeChanged() })));
      expect(v.reason).not.toMatch(/approved/);
      expect((await proposals.get('fwp-planted'))?.status).toBe('void');
      expect((await proposals.get('fwp-planted'))?.statusReason).toMatch(/do not hash to its fingerprint/);
    });
  });

  describe('proposing', () => {
    it('makes an open proposal from the request, announces it and notes approval.proposed', async () => {
      const v = refused(
        await gate.check(request({ principal: BOB, blastRadius: { count: 1, of: 40, what: 'EBS volume' } })),
      );
      const [p] = proposals.all();
      expect(p).toMatchObject({
        id: v.proposalId,
        function: 'orphaned-volumes',
        key: 'orphaned-volumes#delete#{"instanceId":"i-0123456789abcdef0"}',
        why: 'irreversible',
        status: 'open',
        changes: [aChange()],
        blastRadius: { count: 1, of: 40, what: 'EBS volume' },
        evidence: {
          triggerId: 'orphaned-volumes:trigger-1',
          auditRecordIds: ['orphaned-volumes:attach-1'],
          cloudTrailEventIds: ['ev-terminate-1'],
        },
        proposedBy: { function: 'orphaned-volumes', trigger: request().trigger, principal: BOB },
        createdAt: '2026-11-30T08:00:00.000Z',
        expiresAt: '2026-12-01T08:00:00.000Z',
      });
      expect(p?.id).toMatch(/^fwp-[a-z2-7]{12}$/);
      expect(p?.summary).toContain('volume.delete');
      expect(notifier.sent.map((s) => s.id)).toEqual([p?.id]);
      expect(v.reason).toContain(`fleetwarden approve ${p?.id} --reason "…"`);
      expect(v.reason).toContain('expires 2026-12-01T08:00:00.000Z');
      expect(v.notes).toEqual([
        expect.objectContaining({ kind: 'note', audit: 'approval.proposed', decision: 'reported', subject }),
      ]);
      expect(v.notes?.[0]?.details).toMatchObject({ proposalId: p?.id, fingerprint: p?.fingerprint });
    });

    it('defaults the blast radius to the changes it would make', async () => {
      await gate.check(request());
      expect(proposals.all()[0]?.blastRadius).toEqual({ count: 1, what: 'volume.delete' });
    });

    it('waits while open: same proposal, not announced again, no note, says how to approve', async () => {
      const first = refused(await gate.check(request()));
      minutes(10);
      const v = refused(await gate.check(request({ claimant: 'orphaned-volumes:rec-2' })));
      expect(v.proposalId).toBe(first.proposalId);
      expect(v.reason).toMatch(
        new RegExp(
          `^proposal ${first.proposalId} waits for 1 approval\\(s\\) from .*OnCall.*expires 2026-12-01T08:00:00.000Z`,
        ),
      );
      expect(v.reason).toContain(`approve with: fleetwarden approve ${first.proposalId} --reason "…"`);
      expect(v.notes ?? []).toEqual([]);
      expect(proposals.all()).toHaveLength(1);
      expect(notifier.sent).toHaveLength(1);
    });

    it('at-least-once: two runs proposing the same plan at once make ONE proposal, announced once', async () => {
      const [a, b] = await Promise.all([
        gate.check(request()),
        gate.check(request({ claimant: 'orphaned-volumes:rec-dup' })),
      ]);
      expect(proposals.all()).toHaveLength(1);
      expect(refused(a).proposalId).toBe(refused(b).proposalId);
      expect(notifier.sent).toHaveLength(1);
      expect([...(refused(a).notes ?? []), ...(refused(b).notes ?? [])]).toHaveLength(1);
    });

    it('a later run that does not see the proposal yet (index lag) still makes no second one', async () => {
      await gate.check(request());
      minutes(1);
      const lagging = Object.assign(Object.create(proposals), { byKey: async () => [] });
      const v = refused(
        await proposalGate(
          { proposals: lagging, decisions, notifier },
          policy,
          () => new Date(clock.now),
        ).check(request()),
      );
      expect(proposals.all()).toHaveLength(1);
      expect(v.proposalId).toBe(proposals.all()[0]?.id);
      expect(notifier.sent).toHaveLength(1);
    });

    it("keys a refused run's batch by the function, noting it on the run's subject", async () => {
      const changes = [aChange(), aChange({ subject: { instanceId: 'i-0fedcba9876543210' } })];
      const v = refused(
        await gate.check(
          request({
            function: 'runner-sweep',
            why: 'breaker',
            changes,
            blastRadius: { count: 2, of: 3, what: 'runners' },
          }),
        ),
      );
      expect(proposals.all()[0]).toMatchObject({
        key: 'runner-sweep#run',
        why: 'breaker',
        blastRadius: { count: 2, of: 3 },
      });
      expect(v.notes?.[0]?.subject).toEqual({ runnerName: 'runner-sweep:run' });
    });
  });

  describe('approved', () => {
    it('acts once on an honoured approval: claims the execution and settles it as executed', async () => {
      const { proposalId } = refused(await gate.check(request()));
      minutes(5);
      await approve(proposalId ?? '');
      const v = granted(await gate.check(request({ claimant: 'orphaned-volumes:rec-2' })));
      expect(v).toMatchObject({ proposalId, by: [ALICE] });
      expect(v.decisions.map((d) => d.approver.arn)).toEqual([ALICE]);
      expect(await proposals.get(proposalId ?? '')).toMatchObject({
        status: 'approved',
        execution: { recordId: 'orphaned-volumes:rec-2' },
      });
      await v.settle('acted');
      expect(await proposals.get(proposalId ?? '')).toMatchObject({
        status: 'executed',
        execution: { outcome: 'acted' },
      });
      const after = refused(await gate.check(request({ claimant: 'orphaned-volumes:rec-3' })));
      expect(after.reason).toContain('already executed by record orphaned-volumes:rec-2');
      expect(proposals.all()).toHaveLength(1);
    });

    it('at-least-once: two runs with an approved proposal: only one claims it', async () => {
      const { proposalId } = refused(await gate.check(request()));
      await approve(proposalId ?? '');
      const [a, b] = await Promise.all([
        gate.check(request({ claimant: 'orphaned-volumes:rec-a' })),
        gate.check(request({ claimant: 'orphaned-volumes:rec-b' })),
      ]);
      expect([a.approved, b.approved].sort()).toEqual([false, true]);
      const loser = refused(a.approved ? b : a);
      expect(loser.reason).toMatch(/claimed by record orphaned-volumes:rec-[ab]/);
    });

    it('lets a retry of the claiming record claim again, and another record after a failed execution', async () => {
      const { proposalId } = refused(await gate.check(request()));
      await approve(proposalId ?? '');
      const first = granted(await gate.check(request({ claimant: 'rec-a' })));
      expect((await gate.check(request({ claimant: 'rec-a' }))).approved).toBe(true);
      await first.settle('failed');
      expect(await proposals.get(proposalId ?? '')).toMatchObject({
        status: 'approved',
        execution: { outcome: 'failed' },
      });
      expect((await gate.check(request({ claimant: 'rec-b' }))).approved).toBe(true);
    });

    it('needs `required` distinct approvers', async () => {
      gate = make({ ...policy, required: 2 });
      const { proposalId } = refused(await gate.check(request()));
      await approve(proposalId ?? '');
      expect(refused(await gate.check(request())).reason).toContain('waits for 1 more approval(s) (1 of 2)');
      minutes(1);
      await approve(proposalId ?? '', BOB);
      expect(granted(await gate.check(request())).by).toEqual([ALICE, BOB]);
    });
  });

  describe('decisions the fleet does not honour', () => {
    it('a decision by a non-approver is not honoured, and the reason says why', async () => {
      const { proposalId } = refused(await gate.check(request()));
      await approve(proposalId ?? '', MALLORY);
      const v = refused(await gate.check(request()));
      expect(v.reason).toContain(`ignored: ${MALLORY}: ${MALLORY} is not a configured approver`);
      expect((await proposals.get(proposalId ?? ''))?.status).toBe('open');
    });

    it('a decision written under a fleet function role is not honoured', async () => {
      const { proposalId } = refused(await gate.check(request()));
      const fnSession = `arn:aws:sts::${ACCOUNT}:assumed-role/orphaned-volumes-role/orphaned-volumes`;
      await approve(proposalId ?? '', ALICE, {
        approver: { arn: ALICE, sessionArn: fnSession, account: ACCOUNT },
      });
      const v = refused(await gate.check(request()));
      expect(v.reason).toContain(`not written under the Approver role (${APPROVER_ROLE_ARN})`);
    });

    it('a proposal marked approved in the table without an honoured decision is not executed', async () => {
      const { proposalId } = refused(await gate.check(request()));
      await proposals.transition(
        proposalId ?? '',
        ['open'],
        'approved',
        'forged',
        new Date(clock.now).toISOString(),
      );
      await approve(proposalId ?? '', MALLORY);
      const v = refused(await gate.check(request()));
      expect(v.reason).toContain('waits for 1 approval(s)');
      expect((await proposals.get(proposalId ?? ''))?.execution).toBeUndefined();
      expect(proposals.all()).toHaveLength(1);
    });

    it('the proposer approving its own proposal under the two-person rule', async () => {
      const { proposalId } = refused(await gate.check(request({ principal: BOB })));
      await approve(proposalId ?? '', BOB);
      const v = refused(await gate.check(request({ principal: BOB })));
      expect(v.reason).toContain('two-person rule');
    });
  });

  describe('facts changed', () => {
    it('voids an open proposal whose facts changed and makes a fresh one that supersedes it', async () => {
      const { proposalId: old } = refused(await gate.check(request()));
      minutes(30);
      const v = refused(await gate.check(request({ changes: sizeChanged() })));
      const fresh = v.proposalId ?? '';
      expect(fresh).not.toBe(old);
      expect(await proposals.get(old ?? '')).toMatchObject({
        status: 'void',
        statusAt: '2026-11-30T08:30:00.000Z',
      });
      expect((await proposals.get(old ?? ''))?.statusReason).toContain('sizeGiB: 100 -> 200');
      expect(await proposals.get(fresh)).toMatchObject({
        status: 'open',
        supersedes: old,
        createdAt: '2026-11-30T08:30:00.000Z',
      });
      expect(v.notes?.map((n) => n.audit)).toEqual(['approval.void', 'approval.proposed']);
      expect(notifier.sent.map((p) => p.id)).toEqual([old, fresh]);
    });

    it('does not carry an approval over to a changed plan', async () => {
      const { proposalId: old } = refused(await gate.check(request()));
      await approve(old ?? '');
      const v = refused(await gate.check(request({ changes: sizeChanged() })));
      expect((await proposals.get(old ?? ''))?.status).toBe('void');
      expect(v.proposalId).not.toBe(old);
      expect((await proposals.get(v.proposalId ?? ''))?.status).toBe('open');
    });

    it('does not void a proposal whose execution another record is carrying out (claimed, not settled)', async () => {
      const { proposalId } = refused(await gate.check(request()));
      await approve(proposalId ?? '');
      granted(await gate.check(request({ claimant: 'rec-acting' })));
      const v = refused(await gate.check(request({ claimant: 'rec-other', changes: sizeChanged() })));
      expect(v.reason).toContain('its execution is claimed by record rec-acting');
      expect((await proposals.get(proposalId ?? ''))?.status).toBe('approved');
      expect(proposals.all()).toHaveLength(1);
    });

    it('voids it once the claim is older than any run can last (the claiming run died), when the facts changed', async () => {
      const { proposalId } = refused(await gate.check(request()));
      await approve(proposalId ?? '');
      granted(await gate.check(request({ claimant: 'rec-died' })));
      minutes(16);
      const v = refused(await gate.check(request({ claimant: 'rec-other', changes: sizeChanged() })));
      expect(v.notes?.map((n) => n.audit)).toEqual(['approval.void', 'approval.proposed']);
      expect((await proposals.get(proposalId ?? ''))?.status).toBe('void');
    });

    it('an approval of the older plan written on the fresh proposal is not honoured', async () => {
      const { proposalId: old } = refused(await gate.check(request()));
      const { proposalId: fresh } = refused(await gate.check(request({ changes: sizeChanged() })));
      const stale = aDecision((await proposals.get(old ?? '')) as Proposal, ALICE, {
        proposalId: fresh ?? '',
      });
      await decisions.decide({ ...stale, decidedAt: new Date(clock.now).toISOString() });
      expect(refused(await gate.check(request({ changes: sizeChanged() }))).reason).toContain(
        'decided on another plan',
      );
    });
  });

  describe('rejected and expired', () => {
    it('rejects on an honoured rejection, notes it once, and makes no new proposal for the same plan', async () => {
      const { proposalId } = refused(await gate.check(request()));
      await approve(proposalId ?? '', BOB, { decision: 'reject', reason: 'volume belongs to the data team' });
      const v = refused(await gate.check(request()));
      expect(v.reason).toContain(`rejected by ${BOB}: volume belongs to the data team`);
      expect(v.notes?.map((n) => n.audit)).toEqual(['approval.rejected']);
      expect((await proposals.get(proposalId ?? ''))?.status).toBe('rejected');
      const again = refused(await gate.check(request()));
      expect(again.reason).toContain(`rejected by ${BOB}`);
      expect(again.notes ?? []).toEqual([]);
      expect(proposals.all()).toHaveLength(1);
    });

    it('proposes afresh after a rejection when the plan changed', async () => {
      const { proposalId } = refused(await gate.check(request()));
      await approve(proposalId ?? '', BOB, { decision: 'reject' });
      await gate.check(request());
      const v = refused(await gate.check(request({ changes: sizeChanged() })));
      expect(v.proposalId).not.toBe(proposalId);
      expect(v.notes?.map((n) => n.audit)).toEqual(['approval.proposed']);
    });

    it('expires an unapproved proposal past its expiry, notes it, and proposes afresh', async () => {
      const { proposalId } = refused(await gate.check(request()));
      minutes(24 * 60);
      const v = refused(await gate.check(request()));
      expect(await proposals.get(proposalId ?? '')).toMatchObject({ status: 'expired' });
      expect(v.notes?.map((n) => n.audit)).toEqual(['approval.expired', 'approval.proposed']);
      expect(v.proposalId).not.toBe(proposalId);
      expect(await proposals.get(v.proposalId ?? '')).toMatchObject({
        status: 'open',
        expiresAt: '2026-12-02T08:00:00.000Z',
      });
      expect(notifier.sent).toHaveLength(2);
    });
  });

  describe('failures are never swallowed', () => {
    it('a proposals table failure fails the check', async () => {
      proposals.failNext();
      await expect(gate.check(request())).rejects.toBeInstanceOf(ProposalStoreError);
    });

    it('a notification failure fails the check; the unannounced proposal is void and the retry announces a fresh one', async () => {
      notifier.failNext();
      await expect(gate.check(request())).rejects.toBeInstanceOf(ProposalNotifyError);
      const [unannounced] = proposals.all();
      expect(unannounced).toMatchObject({
        status: 'void',
        statusReason: expect.stringContaining('could not be announced'),
      });
      const v = refused(await gate.check(request()));
      expect(v.proposalId).not.toBe(unannounced?.id);
      expect(notifier.sent.map((p) => p.id)).toEqual([v.proposalId]);
    });
  });
});
