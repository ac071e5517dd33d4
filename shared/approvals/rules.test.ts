import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy, Decision, PlannedChange, Proposal } from './model';
import {
  canonicalJson,
  describePlanChange,
  fingerprint,
  isApproverSession,
  judge,
  matchesApprover,
  proposalId,
  proposalKey,
  subjectKey,
} from './rules';

const ACCT = '123456789012';
const APPROVER_ROLE = `arn:aws:iam::${ACCT}:role/fleetwarden/FleetwardenApprover`;
const session = (name: string, role = 'FleetwardenApprover') =>
  `arn:aws:sts::${ACCT}:assumed-role/${role}/${name}`;
const ALICE = `arn:aws:sts::${ACCT}:assumed-role/OnCall/alice`;
const BOB = `arn:aws:iam::${ACCT}:user/bob`;
const CAROL = `arn:aws:sts::${ACCT}:assumed-role/OnCall/carol`;
const MALLORY = `arn:aws:iam::${ACCT}:user/mallory`;

const change = (facts: Record<string, unknown> = { sizeGiB: 100, state: 'available' }): PlannedChange => ({
  kind: 'delete',
  action: 'volume.delete',
  subject: { instanceId: 'i-0123456789abcdef0' },
  reason: 'orphaned volume of a terminated fleet instance',
  facts,
});

const policy: ApprovalPolicy = {
  approvers: [`arn:aws:iam::${ACCT}:role/OnCall`, `arn:aws:iam::${ACCT}:user/bob`],
  approverRoleArn: APPROVER_ROLE,
  required: 1,
  distinctFromProposer: true,
  expirySeconds: 86_400,
};

const CREATED = '2026-11-30T08:00:00.000Z';
const EXPIRES = '2026-12-01T08:00:00.000Z';
const NOW = new Date('2026-11-30T09:00:00.000Z');

function proposal(over: Partial<Proposal> = {}): Proposal {
  const changes = [change()];
  return {
    id: 'fwp-abcdefghijkl',
    function: 'orphaned-volumes',
    key: 'orphaned-volumes#delete#{"instanceId":"i-0123456789abcdef0"}',
    why: 'irreversible',
    summary: 'delete 1 EBS volume',
    reason: 'orphaned volume',
    changes,
    blastRadius: { count: 1, what: 'EBS volume' },
    fingerprint: fingerprint(changes),
    evidence: { triggerId: 'run-1', auditRecordIds: [], cloudTrailEventIds: [] },
    proposedBy: { function: 'orphaned-volumes', trigger: { source: 'fleetwarden.schedule', id: 'run-1' } },
    createdAt: CREATED,
    expiresAt: EXPIRES,
    status: 'open',
    ...over,
  };
}

function decision(arn: string, over: Partial<Decision> = {}): Decision {
  return {
    proposalId: 'fwp-abcdefghijkl',
    fingerprint: fingerprint([change()]),
    decision: 'approve',
    reason: 'checked the volume, nobody uses it',
    approver: { arn, sessionArn: session(arn.split('/').at(-1) ?? 'x'), account: ACCT },
    decidedAt: '2026-11-30T08:30:00.000Z',
    requestIds: ['req-assume', 'req-put'],
    ...over,
  };
}

describe('canonicalJson / subjectKey / fingerprint', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: undefined, x: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[1,{"x":2,"z":1}]},"b":1}',
    );
  });

  it('keys a subject the same whatever the order of its fields', () => {
    expect(subjectKey({ runnerName: 'r1', instanceId: 'i-0123456789abcdef0' })).toBe(
      subjectKey({ instanceId: 'i-0123456789abcdef0', runnerName: 'r1' }),
    );
    expect(subjectKey({ instanceId: 'i-0123456789abcdef0' })).toBe('{"instanceId":"i-0123456789abcdef0"}');
  });

  it('fingerprints kind, subject and facts as sha256 hex, ignoring reason and key order', () => {
    const a = fingerprint([change({ sizeGiB: 100, state: 'available' })]);
    const reworded: PlannedChange = {
      ...change({ state: 'available', sizeGiB: 100 }),
      reason: 'worded otherwise',
    };
    const b = fingerprint([reworded]);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(a).toBe(b);
    const expected = createHash('sha256')
      .update('[["delete",{"instanceId":"i-0123456789abcdef0"},{"sizeGiB":100,"state":"available"}]]')
      .digest('hex');
    expect(a).toBe(expected);
  });

  it('changes the fingerprint when a fact, the kind, the subject or the batch changes', () => {
    const base = fingerprint([change()]);
    expect(fingerprint([change({ sizeGiB: 200, state: 'available' })])).not.toBe(base);
    expect(fingerprint([{ ...change(), kind: 'snapshot' }])).not.toBe(base);
    expect(fingerprint([{ ...change(), subject: { instanceId: 'i-0fedcba9876543210' } }])).not.toBe(base);
    expect(fingerprint([change(), change()])).not.toBe(base);
  });
});

describe('proposalKey / proposalId', () => {
  it('keys an irreversible action by function, kind and subject', () => {
    expect(proposalKey({ function: 'orphaned-volumes', why: 'irreversible', changes: [change()] })).toBe(
      'orphaned-volumes#delete#{"instanceId":"i-0123456789abcdef0"}',
    );
  });

  it("keys a refused run's batch by the function alone", () => {
    expect(proposalKey({ function: 'runner-sweep', why: 'breaker', changes: [change(), change()] })).toBe(
      'runner-sweep#run',
    );
    expect(proposalKey({ function: 'runner-sweep', why: 'budget', changes: [change()] })).toBe(
      'runner-sweep#run',
    );
  });

  it('derives "fwp-" + 12 lower-case base32 chars of sha256(key|fingerprint|createdAt)', () => {
    const id = proposalId('k', 'f', CREATED);
    expect(id).toMatch(/^fwp-[a-z2-7]{12}$/);
    expect(proposalId('k', 'f', CREATED)).toBe(id);
    expect(proposalId('k', 'f', '2026-11-30T08:00:01.000Z')).not.toBe(id);
    expect(proposalId('k', 'g', CREATED)).not.toBe(id);
    // base32 (RFC 4648) of the digest's first bytes
    const digest = createHash('sha256').update(`k|f|${CREATED}`).digest();
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    const bits = [...digest.subarray(0, 8)].map((b) => b.toString(2).padStart(8, '0')).join('');
    const expected = Array.from(
      { length: 12 },
      (_, i) => alphabet[Number.parseInt(bits.slice(i * 5, i * 5 + 5), 2)],
    );
    expect(id).toBe(`fwp-${expected.join('')}`);
  });
});

describe('matchesApprover', () => {
  it('matches an exact ARN and a `*` glob', () => {
    expect(matchesApprover(BOB, [BOB])).toBe(true);
    expect(matchesApprover(BOB, [`arn:aws:iam::${ACCT}:user/*`])).toBe(true);
    expect(matchesApprover(MALLORY, [BOB])).toBe(false);
    expect(matchesApprover(`${BOB}x`, [BOB])).toBe(false);
  });

  it('matches an assumed-role session by its IAM role ARN, and by the session ARN itself', () => {
    expect(matchesApprover(ALICE, [`arn:aws:iam::${ACCT}:role/OnCall`])).toBe(true);
    expect(matchesApprover(ALICE, [ALICE])).toBe(true);
    expect(matchesApprover(ALICE, [`arn:aws:sts::${ACCT}:assumed-role/OnCall/*`])).toBe(true);
    expect(matchesApprover(ALICE, [`arn:aws:iam::${ACCT}:role/OnCallers`])).toBe(false);
    expect(matchesApprover(ALICE, [`arn:aws:iam::999999999999:role/OnCall`])).toBe(false);
  });

  it('matches an SSO session by its role configured with its path (a session ARN shows no path)', () => {
    const sso = `arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/alice@example.com`;
    const path = `arn:aws:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/`;
    expect(matchesApprover(sso, [`${path}AWSReservedSSO_OnCall_0123456789abcdef`])).toBe(true);
    expect(matchesApprover(sso, [`${path}AWSReservedSSO_OnCall_*`])).toBe(true);
    expect(matchesApprover(sso, [`${path}AWSReservedSSO_Admin_*`])).toBe(false);
    // a bare `*` name under a path would be any role of the account once the path is dropped: no match
    expect(matchesApprover(sso, [`arn:aws:iam::${ACCT}:role/aws-reserved/*`])).toBe(false);
    expect(matchesApprover(BOB, [`arn:aws:iam::${ACCT}:user/team/bob`])).toBe(false);
  });

  it('treats every other character literally (no regex injection)', () => {
    expect(
      matchesApprover('arn:aws:iam::123456789012:user/bobby', ['arn:aws:iam::123456789012:user/bob.y']),
    ).toBe(false);
    expect(matchesApprover(BOB, ['.*'])).toBe(false);
    expect(matchesApprover(BOB, [])).toBe(false);
  });
});

describe('isApproverSession', () => {
  it('accepts a session of the Approver role (path dropped, as STS shows it)', () => {
    expect(isApproverSession(session('alice'), APPROVER_ROLE)).toBe(true);
  });

  it("refuses another role's session, another account, the role itself, and an empty session name", () => {
    expect(isApproverSession(session('alice', 'runner-sweep-role'), APPROVER_ROLE)).toBe(false);
    expect(
      isApproverSession(`arn:aws:sts::999999999999:assumed-role/FleetwardenApprover/alice`, APPROVER_ROLE),
    ).toBe(false);
    expect(isApproverSession(APPROVER_ROLE, APPROVER_ROLE)).toBe(false);
    expect(isApproverSession(`arn:aws:sts::${ACCT}:assumed-role/FleetwardenApprover/`, APPROVER_ROLE)).toBe(
      false,
    );
    expect(isApproverSession(`arn:aws:sts::${ACCT}:assumed-role/FleetwardenApproverX/a`, APPROVER_ROLE)).toBe(
      false,
    );
  });
});

describe('judge', () => {
  it('is open while no decision is there, saying how many approvals from whom, and until when', () => {
    const j = judge(proposal(), [], policy, NOW);
    expect(j.state).toBe('open');
    expect(j.reason).toContain('waits for 1 approval(s)');
    expect(j.reason).toContain(`arn:aws:iam::${ACCT}:role/OnCall`);
    expect(j.reason).toContain(EXPIRES);
  });

  it('approves with one honoured approval from a configured approver under the Approver role', () => {
    const d = decision(ALICE);
    const j = judge(proposal(), [d], policy, NOW);
    expect(j).toMatchObject({ state: 'approved', honoured: [d], ignored: [] });
    expect(j.reason).toBe(`approved by ${ALICE}`);
  });

  it('needs `required` distinct approvers', () => {
    const two = { ...policy, required: 2 };
    expect(judge(proposal(), [decision(ALICE)], two, NOW)).toMatchObject({ state: 'open' });
    expect(judge(proposal(), [decision(ALICE)], two, NOW).reason).toContain('1 more approval(s) (1 of 2)');
    expect(judge(proposal(), [decision(ALICE), decision(BOB)], two, NOW).state).toBe('approved');
  });

  it('ignores a second vote of the same approver (duplicate)', () => {
    const two = { ...policy, required: 2 };
    const again = decision(ALICE, { decidedAt: '2026-11-30T08:40:00.000Z' });
    const j = judge(proposal(), [decision(ALICE), again], two, NOW);
    expect(j.state).toBe('open');
    expect(j.ignored).toEqual([{ decision: again, why: expect.stringContaining('duplicate vote') }]);
  });

  it('rejects on any honoured rejection, even with enough approvals', () => {
    const no = decision(CAROL, { decision: 'reject', reason: 'freeze until Monday' });
    const j = judge(proposal(), [decision(BOB), no], policy, NOW);
    expect(j.state).toBe('rejected');
    expect(j.reason).toBe(`rejected by ${CAROL}: freeze until Monday`);
  });

  it('expires past expiresAt without approval', () => {
    const j = judge(proposal(), [], policy, new Date(EXPIRES));
    expect(j.state).toBe('expired');
    expect(j.reason).toContain(`expired at ${EXPIRES}`);
  });

  it('expires an approved proposal not executed by its expiry: an approval never outlives it', () => {
    const j = judge(proposal(), [decision(ALICE)], policy, new Date('2026-12-02T00:00:00Z'));
    expect(j.state).toBe('expired');
    expect(judge(proposal({ status: 'approved' }), [decision(ALICE)], policy, new Date(EXPIRES)).state).toBe(
      'expired',
    );
  });

  it('ignores a decision dated before the proposal was made (written ahead of a predictable id)', () => {
    const early = decision(ALICE, { decidedAt: '2026-11-30T07:59:59.000Z' });
    const j = judge(proposal(), [early], policy, NOW);
    expect(j.state).toBe('open');
    expect(j.ignored[0]?.why).toMatch(/before the proposal was made/);
  });

  it('reports a final stored status as it is', () => {
    const j = judge(
      proposal({ status: 'void', statusReason: 'facts changed: sizeGiB' }),
      [decision(ALICE)],
      policy,
      NOW,
    );
    expect(j.state).toBe('void');
    expect(j.reason).toBe('void: facts changed: sizeGiB');
  });

  describe('forged and stale decisions are ignored, each with its why', () => {
    it('a decision for an older plan (other fingerprint)', () => {
      const stale = decision(ALICE, { fingerprint: fingerprint([change({ sizeGiB: 8 })]) });
      const j = judge(proposal(), [stale], policy, NOW);
      expect(j.state).toBe('open');
      expect(j.ignored[0]?.why).toMatch(
        /^decided on another plan \(fingerprint [0-9a-f]{12}…, the proposal's is/,
      );
    });

    it('a decision dated at or after the expiry', () => {
      const late = decision(ALICE, { decidedAt: EXPIRES });
      const j = judge(proposal(), [late], policy, new Date('2026-12-02T00:00:00Z'));
      expect(j.state).toBe('expired');
      expect(j.ignored[0]?.why).toBe(`decided at ${EXPIRES}, at or after the expiry (${EXPIRES})`);
    });

    it('a decision with an unreadable time', () => {
      const j = judge(proposal(), [decision(ALICE, { decidedAt: 'yesterday' })], policy, NOW);
      expect(j.ignored[0]?.why).toContain('not a time');
    });

    it("a decision written under another role's session (a fleet function role)", () => {
      const forged = decision(ALICE, {
        approver: {
          arn: ALICE,
          sessionArn: session('orphaned-volumes', 'orphaned-volumes-role'),
          account: ACCT,
        },
      });
      const j = judge(proposal(), [forged], policy, NOW);
      expect(j.state).toBe('open');
      expect(j.ignored[0]?.why).toBe(
        `not written under the Approver role (${APPROVER_ROLE}): session ${session('orphaned-volumes', 'orphaned-volumes-role')}`,
      );
    });

    it('a decision by an identity that is not a configured approver', () => {
      const j = judge(proposal(), [decision(MALLORY)], policy, NOW);
      expect(j.state).toBe('open');
      expect(j.ignored[0]?.why).toBe(`${MALLORY} is not a configured approver`);
    });

    it('a rejection by a non-approver does not reject', () => {
      const j = judge(proposal(), [decision(MALLORY, { decision: 'reject' }), decision(BOB)], policy, NOW);
      expect(j.state).toBe('approved');
      expect(j.ignored).toHaveLength(1);
    });

    it('an approval by the proposer under the two-person rule (allowed without it)', () => {
      const p = proposal({ proposedBy: { ...proposal().proposedBy, principal: BOB } });
      const j = judge(p, [decision(BOB)], policy, NOW);
      expect(j.state).toBe('open');
      expect(j.ignored[0]?.why).toBe(
        `${BOB} proposed it (two-person rule: the approver must be someone else)`,
      );
      expect(judge(p, [decision(BOB)], { ...policy, distinctFromProposer: false }, NOW).state).toBe(
        'approved',
      );
    });

    it('a decision about another proposal', () => {
      const j = judge(proposal(), [decision(ALICE, { proposalId: 'fwp-other0000000' })], policy, NOW);
      expect(j.ignored[0]?.why).toBe('about another proposal (fwp-other0000000)');
    });
  });
});

describe('describePlanChange', () => {
  it('names the facts of one change that differ, with both values', () => {
    expect(
      describePlanChange(
        [change({ sizeGiB: 100, state: 'available' })],
        [change({ sizeGiB: 200, state: 'available', tag: 'x' })],
      ),
    ).toBe('sizeGiB: 100 -> 200, tag: absent -> x');
  });

  it('says what a batch gained, lost or changed', () => {
    const other = { ...change(), subject: { instanceId: 'i-0fedcba9876543210' } };
    const s = describePlanChange([change(), other], [change({ sizeGiB: 1 })]);
    expect(s).toContain('the planned changes differ (2 -> 1)');
    expect(s).toContain('removed delete {"instanceId":"i-0fedcba9876543210"}');
    expect(s).toContain('facts changed for delete {"instanceId":"i-0123456789abcdef0"}');
  });
});
