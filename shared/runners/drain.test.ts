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
  it('completes at once when no runner is registered for the instance', () => {
    const d = decideDrain({
      ...base,
      now: at(0),
      runners: { ok: true, items: [r({ name: 'other', labels: [] })] },
    });
    expect(d).toMatchObject({ kind: 'complete', deregister: [] });
    expect(d.reason).toMatch(/no runner/);
  });

  it('deregisters an idle runner first, then completes', () => {
    const d = decideDrain({ ...base, now: at(0), runners: { ok: true, items: [r()] } });
    expect(d).toMatchObject({ kind: 'complete', deregister: [expect.objectContaining({ id: 7 })] });
  });

  it('waits (heartbeat, retry later) while the runner is busy and the deadline is ahead', () => {
    const d = decideDrain({ ...base, now: at(10), runners: { ok: true, items: [r({ busy: true })] } });
    expect(d).toMatchObject({ kind: 'wait', busy: [expect.objectContaining({ id: 7 })] });
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
