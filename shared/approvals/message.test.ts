import { describe, expect, it } from 'vitest';
import { proposalMessage } from './message';
import { aChange, aProposal } from './testing/fixtures';

describe('proposalMessage', () => {
  it('subject: "fleetwarden: approve? <summary>", fewer than 100 chars', () => {
    expect(proposalMessage(aProposal({ summary: 'delete EBS volume vol-0abc (100 GiB)' })).subject).toBe(
      'fleetwarden: approve? delete EBS volume vol-0abc (100 GiB)',
    );
    const long = proposalMessage(aProposal({ summary: `delete ${'vol-0abc '.repeat(30)}` })).subject;
    expect(long.length).toBeLessThan(100); // SNS: "less than 100 characters long"
    expect(long.endsWith('…')).toBe(true);
  });

  it('keeps the subject on one line (SNS refuses line breaks in a subject)', () => {
    expect(proposalMessage(aProposal({ summary: 'two\nlines\r\n' })).subject).toBe(
      'fleetwarden: approve? two lines',
    );
  });

  it('body: what, why, blast radius, evidence ids, expiry and the exact commands', () => {
    const p = aProposal({
      blastRadius: { count: 1, of: 40, what: 'EBS volume' },
      proposedBy: { ...aProposal().proposedBy, principal: 'arn:aws:iam::123456789012:user/bob' },
      supersedes: 'fwp-older0000000',
    });
    const { body } = proposalMessage(p);
    expect(body).toContain(`Proposal ${p.id} (orphaned-volumes) waits for a human decision.`);
    expect(body).toContain('What: delete EBS volume vol-0abc (100 GiB)');
    expect(body).toContain(`- volume.delete i-0123456789abcdef0: ${aChange().reason}`);
    expect(body).toContain(
      'Why: orphaned volume of a terminated fleet instance (irreversible: it cannot be undone)',
    );
    expect(body).toContain('Blast radius: 1 of 40 EBS volume');
    expect(body).toContain(
      'Evidence: trigger sched-1; audit records orphaned-volumes:abc; CloudTrail events ev-1',
    );
    expect(body).toContain(
      'Proposed by: orphaned-volumes, trigger fleetwarden.schedule sched-1, principal arn:aws:iam::123456789012:user/bob',
    );
    expect(body).toContain('Expires: 2026-12-01T08:00:00.000Z (24 h after it was made)');
    expect(body).toContain('Replaces: fwp-older0000000 (its facts changed)');
    expect(body).toContain(`fleetwarden show ${p.id}`);
    expect(body).toContain(`fleetwarden approve ${p.id} --reason "…"`);
    expect(body).toContain(`fleetwarden reject ${p.id} --reason "…"`);
  });

  it('lists at most 10 changes of a batch, then how many more, and keeps lines short for a phone', () => {
    const changes = Array.from({ length: 14 }, (_, i) =>
      aChange({
        action: 'runner.deregister',
        subject: { runnerName: `runner-${i}` },
        reason: 'offline '.repeat(i * 5),
      }),
    );
    const { body } = proposalMessage(
      aProposal({ changes, why: 'breaker', blastRadius: { count: 14, of: 15, what: 'runners' } }),
    );
    expect(body.match(/^- runner\.deregister/gm)).toHaveLength(10);
    expect(body).toContain('… and 4 more (fleetwarden show');
    expect(body).toContain('(the circuit breaker refused the run)');
    expect(body).toContain('Blast radius: 14 of 15 runners');
    for (const line of body.split('\n').filter((l) => l.startsWith('- ')))
      expect(line.length).toBeLessThanOrEqual(160);
  });
});
