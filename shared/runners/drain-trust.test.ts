import { describe, expect, it } from 'vitest';
import {
  drainStartedAt,
  judgeSpotView,
  judgeView,
  refuseTime,
  retryDelaySeconds,
  screenClaim,
} from './drain-trust';

const NOW = new Date('2026-11-24T12:00:00Z');
const groups = new Set(['ci-runners']);
const claim = {
  instanceId: 'i-0123456789abcdef0',
  autoScalingGroupName: 'ci-runners',
  lifecycleHookName: 'fleetwarden-drain',
};
const hook = { heartbeatTimeoutSeconds: 300, globalTimeoutSeconds: 30_000 };

describe('drain trust: what a message may claim', () => {
  it('refuses a time that is not a date or lies beyond the skew; accepts a few minutes ahead', () => {
    expect(refuseTime('2026-13-45T99:00:00Z', NOW)?.reason).toMatch(/not a valid time/);
    expect(refuseTime(new Date(NOW.getTime() + 6 * 60_000).toISOString(), NOW)?.reason).toMatch(/future/);
    expect(refuseTime(new Date(NOW.getTime() + 60_000).toISOString(), NOW)).toBeUndefined();
  });

  it('ignores another hook (skipped) and refuses another group (refused)', () => {
    expect(
      screenClaim({ ...claim, lifecycleHookName: 'lb-drain' }, 'fleetwarden-drain', groups)?.decision,
    ).toBe('skipped');
    expect(
      screenClaim({ ...claim, autoScalingGroupName: 'web' }, 'fleetwarden-drain', groups)?.decision,
    ).toBe('refused');
    expect(screenClaim(claim, 'fleetwarden-drain', groups)).toBeUndefined();
  });
});

describe('drain trust: what Auto Scaling reports', () => {
  const view = (lifecycleState: string, extra = {}) => ({
    autoScalingGroupName: 'ci-runners',
    lifecycleState,
    hook,
    ...extra,
  });

  it('Warmed:Pending:Wait is acted on only when shown leaving: refused on a launch into the warm pool', () => {
    // a launch into the warm pool waits there too, on a launch hook: never the fleet's terminate action
    expect(judgeView(view('Warmed:Pending:Wait', { activity: 'launch' }), claim, groups)).toMatchObject({
      kind: 'stop',
      decision: 'refused',
      reason: expect.stringMatching(/launch/),
    });
    expect(
      judgeView(
        view('Warmed:Pending:Wait', { activity: 'launch' }),
        { ...claim, destination: 'WarmPool' },
        groups,
      ),
    ).toMatchObject({ kind: 'stop', decision: 'refused' });
    // no in-progress activity names it: only the terminate event's own word (Destination WarmPool) acts
    expect(judgeView(view('Warmed:Pending:Wait'), claim, groups)).toMatchObject({
      kind: 'stop',
      decision: 'refused',
      reason: expect.stringMatching(/not shown leaving/),
    });
    expect(
      judgeView(view('Warmed:Pending:Wait'), { ...claim, destination: 'WarmPool' }, groups),
    ).toMatchObject({
      kind: 'act',
      warmPool: true,
    });
  });

  it('acts only on Terminating:Wait / Warmed:Pending:Wait with the hook present', () => {
    expect(judgeView(view('Terminating:Wait'), claim, groups)).toMatchObject({
      kind: 'act',
      warmPool: false,
    });
    expect(judgeView(view('Warmed:Pending:Wait', { activity: 'leave' }), claim, groups)).toMatchObject({
      kind: 'act',
      warmPool: true,
    });
    // plain Terminating: looked at again a few times (Auto Scaling's view may lag the hook), then refused
    expect(judgeView(view('Terminating'), claim, groups, 0)).toMatchObject({
      decision: 'skipped',
      lookAgain: true,
    });
    expect(judgeView(view('Terminating'), claim, groups, 3)).toMatchObject({
      kind: 'stop',
      decision: 'refused',
    });
    expect(judgeView(view('Terminating:Proceed'), claim, groups)).toMatchObject({
      kind: 'stop',
      decision: 'skipped',
    });
    expect(judgeView({ ...view('Terminating:Wait'), hook: undefined }, claim, groups)).toMatchObject({
      kind: 'stop',
      decision: 'refused',
    });
  });

  it('a Destination of WarmPool is honoured even while the state reads Terminating:Wait (keep the runner: the safe side)', () => {
    expect(judgeView(view('Terminating:Wait'), { ...claim, destination: 'WarmPool' }, groups)).toMatchObject({
      kind: 'act',
      warmPool: true,
    });
  });

  it("starts the deadline clock at the group's activity, else the first look, never earlier than the global timeout allows", () => {
    const g = { globalSeconds: 3600 };
    const started = new Date(NOW.getTime() - 10 * 60_000);
    const firstLook = new Date(NOW.getTime() - 5 * 60_000);
    expect(drainStartedAt({ ...g, startedAt: started }, firstLook, NOW)).toEqual(started);
    expect(drainStartedAt(g, firstLook, NOW)).toEqual(firstLook);
    expect(drainStartedAt(g, undefined, NOW)).toEqual(NOW);
    // an action cannot have waited longer than its global timeout: a claim of 5 h is clamped to 1 h
    expect(drainStartedAt(g, new Date(NOW.getTime() - 5 * 3_600_000), NOW)).toEqual(
      new Date(NOW.getTime() - 3_600_000),
    );
  });

  it("looks again within a third of the hook's heartbeat timeout", () => {
    expect(retryDelaySeconds(100, 300)).toBe(100);
    expect(retryDelaySeconds(100, 60)).toBe(20);
  });

  it('a spot warning counts only for an instance of a configured group', () => {
    expect(judgeSpotView(undefined, claim.instanceId, groups)?.decision).toBe('refused');
    expect(
      judgeSpotView(view('InService', { autoScalingGroupName: 'web' }), claim.instanceId, groups)?.decision,
    ).toBe('refused');
    expect(judgeSpotView(view('InService'), claim.instanceId, groups)).toBeUndefined();
  });
});
