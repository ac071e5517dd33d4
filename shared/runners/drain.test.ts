import { describe, expect, it } from 'vitest';
import type { GitHubRunner } from '../github/port';
import { decideDrain } from './drain';
import { INSTANCE_LABEL_PREFIX } from './matching';

const START = new Date('2026-11-24T12:00:00Z');
const at = (min: number) => new Date(START.getTime() + min * 60_000);
const I = 'i-0123456789abcdef0';
const r = (over: Partial<GitHubRunner> = {}): GitHubRunner => ({
  id: 7,
  name: `ci-${I}`,
  os: 'Linux',
  status: 'online',
  busy: false,
  labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${I}`],
  ...over,
});
const base = { instanceId: I, startedAt: START, deadlineMs: 30 * 60_000 };

describe('drain decision for a terminating runner instance', () => {
  it('never completes on absence from one listing (offset pages over a live list skip runners): asks to confirm', () => {
    const d = decideDrain({
      ...base,
      now: at(0),
      runners: { ok: true, items: [r({ id: 8, name: 'other', labels: [] })] },
    });
    expect(d).toMatchObject({ kind: 'confirm' });
  });

  it('completes without deregistering when the confirmation finds no runner either', () => {
    const d = decideDrain({
      ...base,
      now: at(0),
      runners: { ok: true, items: [] },
      confirmation: { ok: true, items: [r({ id: 8, name: 'other', labels: [] })] },
    });
    expect(d).toMatchObject({ kind: 'complete', deregister: [] });
    expect(d.reason).toMatch(/no runner .*confirmed/);
  });

  it('holds the instance when the confirmation finds the busy runner the listing skipped', () => {
    const d = decideDrain({
      ...base,
      now: at(0),
      runners: { ok: true, items: [] },
      confirmation: { ok: true, items: [r({ busy: true })] },
    });
    expect(d).toMatchObject({ kind: 'wait', busy: [expect.objectContaining({ id: 7 })] });
  });

  it('a failed confirmation is not an absence: waits', () => {
    const d = decideDrain({
      ...base,
      now: at(0),
      runners: { ok: true, items: [] },
      confirmation: { ok: false, error: '502' },
    });
    expect(d).toMatchObject({ kind: 'wait' });
  });

  it('deregisters an idle runner first, then completes', () => {
    const d = decideDrain({ ...base, now: at(0), runners: { ok: true, items: [r()] } });
    expect(d).toMatchObject({ kind: 'complete', deregister: [expect.objectContaining({ id: 7 })] });
  });

  it('waits (heartbeat, retry later) while the runner is busy and the deadline is ahead', () => {
    const d = decideDrain({ ...base, now: at(10), runners: { ok: true, items: [r({ busy: true })] } });
    expect(d).toMatchObject({ kind: 'wait', busy: [expect.objectContaining({ id: 7 })] });
  });

  it('a busy runner holds the instance; the idle runners beside it are deregistered meanwhile', () => {
    const d = decideDrain({
      ...base,
      now: at(10),
      runners: { ok: true, items: [r({ busy: true }), r({ id: 8, name: 'agent-b' })] },
    });
    expect(d).toMatchObject({
      kind: 'wait',
      busy: [expect.objectContaining({ id: 7 })],
      deregister: [expect.objectContaining({ id: 8 })],
    });
  });

  it('completes at the deadline even if still busy, and says so (the alarm fires)', () => {
    const d = decideDrain({ ...base, now: at(30), runners: { ok: true, items: [r({ busy: true })] } });
    expect(d).toMatchObject({ kind: 'deadline', busy: [expect.objectContaining({ id: 7 })] });
  });

  it('does not judge from a failed listing: waits, and at the deadline completes without deregistering', () => {
    expect(decideDrain({ ...base, now: at(1), runners: { ok: false, error: '502' } })).toMatchObject({
      kind: 'wait',
    });
    expect(decideDrain({ ...base, now: at(31), runners: { ok: false, error: '502' } })).toMatchObject({
      kind: 'deadline',
      deregister: [],
    });
  });
});
