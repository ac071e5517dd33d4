import { describe, expect, it } from 'vitest';
import { ALICE, aChange, aDecision, aProposal, seeded } from '../approvals/testing/seed';
import { EXIT } from '../errors';
import { runCli } from '../program';
import { command } from './proposals';

const NOW = '2026-11-30T10:00:00.000Z';
const volume = aProposal({ createdAt: '2026-11-30T08:00:00.000Z', expiresAt: '2026-12-01T08:00:00.000Z' });
const sweep = aProposal({
  function: 'runner-sweep',
  why: 'breaker',
  key: 'runner-sweep#run',
  summary: 'deregister 7 offline runners',
  changes: [aChange({ kind: 'deregister', action: 'runner.deregister', subject: { runnerName: 'ci-7' } })],
  blastRadius: { count: 7, of: 10, what: 'runners' },
  createdAt: '2026-11-30T09:30:00.000Z',
  expiresAt: '2026-12-01T09:30:00.000Z',
});
const old = aProposal({
  summary: 'delete EBS volume vol-0old (8 GiB)',
  changes: [aChange({ facts: { volumeId: 'vol-0old', sizeGiB: 8 } })],
  createdAt: '2026-11-28T10:00:00.000Z',
  expiresAt: '2026-11-29T10:00:00.000Z',
});
const run = (t: Awaited<ReturnType<typeof seeded>>, ...args: string[]) =>
  runCli(['node', 'fleetwarden', 'proposals', ...args], t.deps, [command]);

describe('fleetwarden proposals', () => {
  it('lists proposals newest first with their status as judged now', async () => {
    const t = await seeded(
      NOW,
      [volume, sweep, old],
      [aDecision(sweep, ALICE, { decidedAt: '2026-11-30T09:40:00.000Z' })],
    );
    expect(await run(t)).toBe(EXIT.ok);
    expect(t.stdout()).toMatchInlineSnapshot(`
      "ID                STATUS    FUNCTION          SUMMARY                               BLAST RADIUS     AGE  EXPIRES
      fwp-c2pt2zr3xlz6  approved  runner-sweep      deregister 7 offline runners          7 of 10 runners  30m  in 23h30m
      fwp-d7n34i2zq6va  open      orphaned-volumes  delete EBS volume vol-0abc (100 GiB)  1 EBS volume     2h   in 22h
      fwp-nymkrvui7dqa  expired   orphaned-volumes  delete EBS volume vol-0old (8 GiB)    1 EBS volume     2d   -
      "
    `);
    expect(new Set(t.approvals.opened)).toEqual(
      new Set(['proposals:Fleetwarden-Proposals', 'decisions:Fleetwarden-Decisions']),
    );
  });

  it('filters by the judged status and by function', async () => {
    const t = await seeded(
      NOW,
      [volume, sweep, old],
      [aDecision(sweep, ALICE, { decidedAt: '2026-11-30T09:40:00.000Z' })],
    );
    await run(t, '--status', 'approved');
    expect(t.stdout()).toContain(sweep.id);
    expect(t.stdout()).not.toContain(volume.id);
    const u = await seeded(NOW, [volume, sweep, old]);
    await run(u, '--function', 'orphaned-volumes', '--status', 'expired');
    expect(u.stdout()).toContain(old.id);
    expect(u.stdout()).not.toContain(volume.id);
    expect(u.stdout()).not.toContain(sweep.id);
  });

  it('prints JSON for scripts, with the judgement', async () => {
    const t = await seeded(
      NOW,
      [volume, sweep],
      [aDecision(sweep, ALICE, { decidedAt: '2026-11-30T09:40:00.000Z' })],
    );
    await run(t, '--json');
    const parsed = JSON.parse(t.stdout());
    expect(parsed.proposals.map((p: { id: string; status: string }) => [p.id, p.status])).toEqual([
      [sweep.id, 'approved'],
      [volume.id, 'open'],
    ]);
    expect(parsed.proposals[0]).toMatchObject({
      function: 'runner-sweep',
      statusReason: `approved by ${ALICE}`,
      blastRadius: { count: 7, of: 10, what: 'runners' },
      createdAt: sweep.createdAt,
      expiresAt: sweep.expiresAt,
    });
  });

  it('says so when nothing matches, and refuses an unknown --status (exit 2)', async () => {
    const t = await seeded(NOW, []);
    expect(await run(t)).toBe(EXIT.ok);
    expect(t.stdout()).toBe('no proposals\n');
    const u = await seeded(NOW, []);
    expect(await run(u, '--status', 'pending')).toBe(EXIT.usage);
    expect(u.stderr()).toContain(
      '--status "pending" is not one of open, approved, rejected, expired, void, executed',
    );
  });
});
