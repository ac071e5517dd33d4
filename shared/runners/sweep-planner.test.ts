import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { InstanceInfo } from '../ec2/port';
import type { GitHubRunner } from '../github/port';
import {
  EXEMPT_TAG,
  FLEET_LABEL_PREFIX,
  INSTANCE_LABEL_PREFIX,
  instanceIdOf,
  REGION_LABEL_PREFIX,
} from './matching';
import {
  confirmTerminations,
  DEFAULT_SWEEP_CONFIG,
  planSweep,
  removalBudget,
  type SweepConfig,
  type SweepInput,
} from './sweep-planner';

const NOW = new Date('2026-11-24T12:00:00Z');
const min = 60_000;
const cfg: SweepConfig = {
  ...DEFAULT_SWEEP_CONFIG,
  gracePeriodMs: 5 * min,
  bootTimeoutMs: 15 * min,
  maxRemovalShare: 0.5,
};
const FLEET_TAG = { key: 'fleetwarden:fleet', value: 'runners' };
const FLEET_ID = 'fleet-a';
const ASG = 'runners-asg';

const iid = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
function instance(n: number, over: Partial<InstanceInfo> = {}): InstanceInfo {
  return {
    instanceId: iid(n),
    state: 'running',
    tags: { [FLEET_TAG.key]: FLEET_TAG.value, 'aws:autoscaling:groupName': ASG },
    autoScalingGroupName: ASG,
    launchTime: new Date(NOW.getTime() - 60 * min).toISOString(),
    ...over,
  };
}
function runner(n: number, over: Partial<GitHubRunner> = {}): GitHubRunner {
  return {
    id: 1000 + n,
    name: `ci-${iid(n)}`,
    os: 'Linux',
    status: 'online',
    busy: false,
    labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(n)}`, `${FLEET_LABEL_PREFIX}${FLEET_ID}`],
    ...over,
  };
}
function input(runners: GitHubRunner[], fleet: InstanceInfo[], described: InstanceInfo[] = []): SweepInput {
  return {
    now: NOW,
    runners: { ok: true, items: runners },
    fleet: { ok: true, items: fleet },
    described,
    fleetTag: FLEET_TAG,
    fleetId: FLEET_ID,
    autoScalingGroupNames: [ASG],
  };
}
const kinds = (p: ReturnType<typeof planSweep>) => p.actions.map((a) => a.kind);

describe('runner <-> instance matching convention', () => {
  it('prefers the fleetwarden-instance label, falls back to a name ending in the instance id', () => {
    expect(instanceIdOf({ name: 'anything', labels: [`${INSTANCE_LABEL_PREFIX}${iid(1)}`] })).toEqual({
      instanceId: iid(1),
      by: 'label',
    });
    expect(instanceIdOf({ name: `ci-${iid(2)}`, labels: [] })).toEqual({ instanceId: iid(2), by: 'name' });
    expect(instanceIdOf({ name: iid(3), labels: [] })).toEqual({ instanceId: iid(3), by: 'name' });
    expect(instanceIdOf({ name: 'laptop-of-bob', labels: ['self-hosted'] })).toBeUndefined();
  });
});

describe('sweep planner', () => {
  it('leaves healthy runners alone', () => {
    expect(
      planSweep(input([runner(1), runner(2, { busy: true })], [instance(1), instance(2)]), cfg).actions,
    ).toEqual([]);
  });

  it('deregisters an idle runner whose instance terminated longer ago than the grace period', () => {
    const gone = instance(2, {
      state: 'terminated',
      stateChangedAt: new Date(NOW.getTime() - 10 * min).toISOString(),
    });
    // GitHub marks a runner offline within minutes of its host going
    const plan = planSweep(
      input([runner(1), runner(2, { status: 'offline' }), runner(3)], [instance(1), instance(3)], [gone]),
      cfg,
    );
    expect(plan.refused).toBeUndefined();
    expect(plan.actions).toEqual([
      expect.objectContaining({ kind: 'deregister', runner: expect.objectContaining({ id: 1002 }) }),
    ]);
  });

  it('a scale-in never trips the breaker nor spends the last unit of the budget: ghosts of instances that left come first', () => {
    // runners 1-5 idle on instances their ASG is terminating (the drain's, which the sweep may
    // help with), runner 6 a ghost of a terminated instance (a spot interruption: only the sweep
    // removes it); 8 fleet instances with a runner at share 0.5: budget 4 per window
    const fleet = [1, 2, 3, 4, 5, 7, 8].map((n) => instance(n));
    const gone = instance(6, {
      state: 'terminated',
      stateChangedAt: new Date(NOW.getTime() - 10 * min).toISOString(),
    });
    const runners = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => runner(n, n === 6 ? { status: 'offline' } : {}));
    const terminating = new Set([1, 2, 3, 4, 5].map(iid));
    const plan = planSweep({ ...input(runners, fleet, [gone]), terminating, removalsInWindow: 0 }, cfg);
    expect(plan.refused).toBeUndefined();
    const removed = plan.actions.flatMap((a) => (a.kind === 'deregister' ? [a.instanceId] : []));
    // the ghost first, then two of the scale-in's runners: one unit stays for the next ghost
    expect(removed.sort()).toEqual([iid(1), iid(2), iid(6)]);
    expect(plan.deferred?.map((d) => [d.instanceId, d.why])).toEqual([
      [iid(3), 'drain-handoff'],
      [iid(4), 'drain-handoff'],
      [iid(5), 'drain-handoff'],
    ]);
    // the scale-in alone: 5 > the share's 4 (of 7 instances) does not open the circuit; the budget
    // (2: 4/7 of the 5 instances with a runner) gives one, one unit kept
    const alone = planSweep(
      { ...input(runners.slice(0, 5), fleet), terminating, removalsInWindow: 0 },
      { ...cfg, maxRemovalShare: 4 / 7 },
    );
    expect(alone.refused).toBeUndefined();
    expect(alone.actions.filter((a) => a.kind === 'deregister')).toHaveLength(1);
    expect(alone.deferred).toHaveLength(4);
  });

  it('waits out the grace period', () => {
    const gone = instance(2, {
      state: 'terminated',
      stateChangedAt: new Date(NOW.getTime() - 2 * min).toISOString(),
    });
    const plan = planSweep(input([runner(1), runner(2), runner(3)], [instance(1), instance(3)], [gone]), cfg);
    expect(kinds(plan)).toEqual(['skip']);
    expect(plan.actions[0]?.reason).toMatch(/grace/);
  });

  it('treats an OFFLINE labelled runner whose instance EC2 no longer knows as gone long ago', () => {
    const plan = planSweep(
      input([runner(1), runner(2, { status: 'offline' }), runner(3)], [instance(1), instance(3)], []),
      cfg,
    );
    expect(kinds(plan)).toEqual(['deregister']);
  });

  it('never removes an ONLINE runner whose instance EC2 does not describe (another region or account): reports it', () => {
    const plan = planSweep(input([runner(1), runner(2), runner(3)], [instance(1), instance(3)], []), cfg);
    expect(kinds(plan)).toEqual(['report']);
    expect(plan.actions[0]).toMatchObject({ finding: 'unverifiable-runner' });
    expect(plan.actions[0]?.reason).toMatch(/online/);
  });

  it("never touches a runner labelled with another region's instance, even offline", () => {
    const elsewhere = runner(2, {
      status: 'offline',
      labels: [
        'self-hosted',
        `${INSTANCE_LABEL_PREFIX}${iid(2)}`,
        `${REGION_LABEL_PREFIX}us-east-1`,
        `${FLEET_LABEL_PREFIX}${FLEET_ID}`,
      ],
    });
    const here = runner(4, {
      status: 'offline',
      labels: [
        'self-hosted',
        `${INSTANCE_LABEL_PREFIX}${iid(4)}`,
        `${REGION_LABEL_PREFIX}eu-west-1`,
        `${FLEET_LABEL_PREFIX}${FLEET_ID}`,
      ],
    });
    const plan = planSweep(
      {
        ...input([runner(1), elsewhere, runner(3), here], [instance(1), instance(3)], []),
        region: 'eu-west-1',
      },
      cfg,
    );
    expect(plan.actions).toEqual([
      expect.objectContaining({ kind: 'deregister', runner: expect.objectContaining({ id: here.id }) }),
    ]);
  });

  it('never takes an instance whose runner carries another region label for one that never registered', () => {
    const mislabelled = runner(2, {
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(2)}`, `${REGION_LABEL_PREFIX}us-east-1`],
    });
    const plan = planSweep(
      { ...input([runner(1), mislabelled], [instance(1), instance(2)]), region: 'eu-west-1' },
      { ...cfg, allowTerminate: true },
    );
    expect(plan.actions.filter((a) => a.kind === 'terminate' || a.kind === 'report')).toEqual([]);
  });

  it('opens the circuit when no runner matches any fleet instance while instances are past the boot timeout (label convention broken)', () => {
    const fleet = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => instance(n));
    const unlabelled = [1, 2, 3].map((n) => runner(n, { name: `runner-${n}`, labels: ['self-hosted'] }));
    const plan = planSweep(input(unlabelled, fleet), { ...cfg, allowTerminate: true, maxRemovalShare: 0.2 });
    expect(plan.refused).toMatch(/no runner matches/);
    expect(kinds(plan).filter((k) => k === 'terminate')).toEqual([]);
  });

  it('caps removals per run; the rest are deferred to the next run and listed', () => {
    const fleet = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => instance(n));
    const ghosts = [11, 12, 13, 14].map((n) => runner(n, { status: 'offline' }));
    const plan = planSweep(input([...fleet.map((_, k) => runner(k + 1)), ...ghosts], fleet), {
      ...cfg,
      maxRemovalsPerRun: 3,
    });
    expect(plan.refused).toBeUndefined();
    expect(kinds(plan).filter((k) => k === 'deregister')).toHaveLength(3);
    expect(plan.deferred).toEqual([{ kind: 'deregister', runnerId: ghosts[3]?.id, instanceId: iid(14) }]);
  });

  it("never touches a runner matched by name only when EC2 cannot confirm the instance is the fleet's", () => {
    const nameOnly = runner(2, { labels: ['self-hosted'] });
    const plan = planSweep(input([runner(1), nameOnly, runner(3)], [instance(1), instance(3)], []), cfg);
    expect(kinds(plan)).toEqual(['report']);
    expect(plan.actions[0]).toMatchObject({ finding: 'unverifiable-runner' });
  });

  it("ignores runners that are not the fleet's at all", () => {
    const plan = planSweep(
      input([runner(1), { ...runner(9), name: 'bobs-mac', labels: ['self-hosted', 'macOS'] }], [instance(1)]),
      cfg,
    );
    expect(plan.actions).toEqual([]);
  });

  it('never removes a busy runner on a leaving instance: it reports it instead', () => {
    const leaving = instance(2, {
      state: 'shutting-down',
      stateChangedAt: new Date(NOW.getTime() - 30 * min).toISOString(),
    });
    const plan = planSweep(
      input([runner(1), runner(2, { busy: true }), runner(3)], [instance(1), leaving, instance(3)]),
      cfg,
    );
    expect(plan.actions).toEqual([
      expect.objectContaining({ kind: 'report', finding: 'busy-on-leaving-instance' }),
    ]);
  });

  it('reports an instance that never registered within the boot timeout; terminates only when opted in', () => {
    const fleet = [
      instance(1),
      instance(2),
      instance(3),
      instance(4, { launchTime: new Date(NOW.getTime() - 5 * min).toISOString() }),
    ];
    const runners = [runner(1), runner(3)];
    const reported = planSweep(input(runners, fleet), cfg);
    expect(reported.actions).toEqual([
      expect.objectContaining({
        kind: 'report',
        finding: 'never-registered',
        subject: { instanceId: iid(2) },
      }),
    ]);
    const terminated = planSweep(input(runners, fleet), { ...cfg, allowTerminate: true });
    expect(kinds(terminated)).toEqual(['terminate']);
  });

  it('re-checks before terminating: an instance whose runner a second look finds is not terminated', () => {
    const fleet = [instance(1), instance(2), instance(3)];
    const plan = planSweep(input([runner(1), runner(3)], fleet), { ...cfg, allowTerminate: true });
    expect(kinds(plan)).toEqual(['terminate']);
    const seen = confirmTerminations(plan, { ok: true, items: [runner(1), runner(2, { busy: true })] });
    expect(kinds(seen)).toEqual(['keep']);
    expect(seen.actions[0]?.reason).toMatch(/second look/);
    const failed = confirmTerminations(plan, { ok: false, error: '502' });
    expect(kinds(failed)).toEqual(['report']);
    expect(confirmTerminations(plan, { ok: true, items: [runner(1)] }).actions).toEqual(plan.actions);
  });

  it('refuses to act when a listing failed, or came back empty', () => {
    const failed = planSweep(
      { ...input([runner(1)], [instance(1)]), runners: { ok: false, error: 'HTTP 502 on page 3' } },
      cfg,
    );
    expect(failed.refused).toMatch(/runner listing failed: HTTP 502 on page 3/);
    const emptyRunners = planSweep(input([], [instance(1), instance(2)]), { ...cfg, allowTerminate: true });
    expect(emptyRunners.refused).toMatch(/runner listing came back empty/);
    expect(emptyRunners.actions.filter((a) => a.kind === 'terminate')).toEqual([]);
    const emptyFleet = planSweep(input([runner(1), runner(2)], []), cfg);
    expect(emptyFleet.refused).toMatch(/instance listing came back empty/);
  });

  it('opens the circuit when a run would remove more than the allowed share of the fleet', () => {
    const fleet = [1, 2, 3, 4, 5, 6].map((n) => instance(n));
    // EC2 shows 4 more of the fleet's instances terminated: removals it confirms
    const gone = [7, 8, 9, 10].map((n) =>
      instance(n, { state: 'terminated', stateChangedAt: new Date(NOW.getTime() - 30 * min).toISOString() }),
    );
    const runners = [
      ...[1, 2, 3, 4, 5, 6].map((n) => runner(n)),
      ...[7, 8, 9, 10].map((n) => runner(n, { status: 'offline' })),
    ];
    const plan = planSweep(input(runners, fleet, gone), { ...cfg, maxRemovalShare: 0.2 });
    expect(plan.refused).toMatch(/4 removals .* 10 .*20%/);
    expect(kinds(plan).filter((k) => k === 'deregister')).toEqual([]);
    expect(plan.wouldRemove).toBe(4);
  });

  it('always allows a single removal, so a small fleet can still heal', () => {
    const plan = planSweep(input([runner(1), runner(2, { status: 'offline' })], [instance(1)]), {
      ...cfg,
      maxRemovalShare: 0.1,
    });
    expect(plan.refused).toBeUndefined();
    expect(kinds(plan)).toEqual(['deregister']);
  });
});

describe('sweep planner: blast radius (issue 10)', () => {
  const left = (minutes: number) => new Date(NOW.getTime() - minutes * min).toISOString();
  const never = (n: number, over: Partial<InstanceInfo> = {}) => instance(n, over);

  it('never terminates a fleet-tagged instance outside the configured ASGs (anyone can set the tag)', () => {
    const spoofed = never(2, { tags: { [FLEET_TAG.key]: FLEET_TAG.value } });
    delete spoofed.autoScalingGroupName;
    const plan = planSweep(input([runner(1), runner(3)], [instance(1), spoofed, instance(3)]), {
      ...cfg,
      allowTerminate: true,
    });
    expect(kinds(plan)).toEqual(['report']);
    expect(plan.actions[0]?.reason).toMatch(/not in one of the configured Auto Scaling groups/);
  });

  it(`never terminates an instance tagged ${EXEMPT_TAG}=true: it is reported`, () => {
    const exempt = never(2, {
      tags: { [FLEET_TAG.key]: FLEET_TAG.value, 'aws:autoscaling:groupName': ASG, [EXEMPT_TAG]: 'True' },
    });
    const plan = planSweep(input([runner(1), runner(3)], [instance(1), exempt, instance(3)]), {
      ...cfg,
      allowTerminate: true,
    });
    expect(kinds(plan)).toEqual(['report']);
    expect(plan.actions[0]?.reason).toMatch(/fleetwarden:exempt/);
  });

  it("two fleets sharing one GitHub org: each removes only its own offline ghosts, never the other's", () => {
    const labelled = (n: number, fleet: string) =>
      runner(n, {
        status: 'offline',
        labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(n)}`, `${FLEET_LABEL_PREFIX}${fleet}`],
      });
    // fleet A's instances 1-4 (ghost 5); fleet B (another account) has 11-14 (ghost 15): neither
    // account's EC2 describes the other's instances
    const runners = [
      ...[1, 2, 3, 4].map((n) => runner(n)),
      labelled(5, 'fleet-a'),
      ...[11, 12, 13, 14].map((n) => labelled(n, 'fleet-b')),
      labelled(15, 'fleet-b'),
    ];
    const a = planSweep(
      input(
        runners,
        [1, 2, 3, 4].map((n) => instance(n)),
      ),
      cfg,
    );
    const b = planSweep(
      {
        ...input(
          runners,
          [11, 12, 13, 14].map((n) => instance(n)),
        ),
        fleetId: 'fleet-b',
      },
      cfg,
    );
    const removed = (p: ReturnType<typeof planSweep>) =>
      p.actions.flatMap((x) => (x.kind === 'deregister' ? [x.runner.id] : []));
    expect(removed(a)).toEqual([1005]);
    expect(removed(b)).toEqual([1015]);
  });

  it("never touches another fleet's runner, even one naming an instance EC2 here shows this fleet's and gone", () => {
    // fleet B's idle offline runner claims (label and ci-<id> name) instance 2, which EC2 here
    // describes with this fleet's tag and ASG, terminated 30 min ago: its fleet label still says B's
    const foreign = runner(2, {
      status: 'offline',
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(2)}`, `${FLEET_LABEL_PREFIX}fleet-b`],
    });
    const gone = [instance(2, { state: 'terminated', stateChangedAt: left(30) })];
    const plan = planSweep(input([runner(1), foreign, runner(3)], [instance(1), instance(3)], gone), cfg);
    expect(plan.actions).toEqual([]);
    // stopped in place (listed with the fleet): still B's runner, not judged here
    const stopped = instance(2, { state: 'stopped', stateChangedAt: left(30) });
    const plan2 = planSweep(input([runner(1), foreign], [instance(1), stopped]), cfg);
    expect(plan2.actions).toEqual([]);
  });

  it("a pool with labels never touches a runner without all of them: pool A never removes pool B's runner in one org", () => {
    // both pools' runners carry the fleet's label (one fleet id, one organisation); pool B's idle
    // offline runner claims instance 2, which EC2 no longer describes (gone long ago)
    const b = (n: number, over: Partial<GitHubRunner> = {}) =>
      runner(n, { ...over, labels: [...runner(n).labels, 'gpu'], status: 'offline' });
    const a = (n: number, over: Partial<GitHubRunner> = {}) =>
      runner(n, { ...over, labels: [...runner(n).labels, 'linux'] });
    const runners = [a(1), b(2), a(3, { status: 'offline' }), a(4)];
    const gone = new Map([
      [iid(2), new Date(NOW.getTime() - 120 * min)],
      [iid(3), new Date(NOW.getTime() - 120 * min)],
    ]);
    const poolA = planSweep(
      { ...input(runners, [instance(1), instance(4)]), goneSince: gone, labels: ['linux'] },
      cfg,
    );
    const touched = poolA.actions.flatMap((x) => ('runner' in x ? [x.runner.id] : []));
    expect(touched).toEqual([1003]);
    // without the pool's labels the same sweep takes pool B's ghost too (what the labels prevent)
    const unlabelled = planSweep({ ...input(runners, [instance(1), instance(4)]), goneSince: gone }, cfg);
    expect(unlabelled.actions.flatMap((x) => ('runner' in x ? [x.runner.id] : []))).toContain(1002);
  });

  it('a runner with no fleet label is removed only when EC2 here describes its instance with the fleet tag', () => {
    const unclaimed = runner(2, {
      status: 'offline',
      labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(2)}`],
    });
    const plan = planSweep(input([runner(1), unclaimed, runner(3)], [instance(1), instance(3)], []), cfg);
    expect(kinds(plan)).toEqual(['report']);
    expect(plan.actions[0]).toMatchObject({ finding: 'unverifiable-runner' });
    const confirmed = planSweep(
      input(
        [runner(1), unclaimed, runner(3)],
        [instance(1), instance(3)],
        [instance(2, { state: 'terminated', stateChangedAt: left(30) })],
      ),
      cfg,
    );
    expect(kinds(confirmed)).toEqual(['deregister']);
  });

  it('a grace period over 1 h: a ghost EC2 forgot is removed once its first sighting (persisted) is old enough', () => {
    const long = { ...cfg, gracePeriodMs: 120 * min };
    const ghost = runner(2, { status: 'offline' });
    const runners = [runner(1), ghost, runner(3)];
    const fleet = [instance(1), instance(3)];
    const firstRun = planSweep({ ...input(runners, fleet), goneSince: new Map([[iid(2), NOW]]) }, long);
    expect(kinds(firstRun)).toEqual(['skip']);
    expect(firstRun.actions[0]?.reason).toMatch(/at least 3600 s ago/);
    const later = planSweep(
      { ...input(runners, fleet), goneSince: new Map([[iid(2), new Date(NOW.getTime() - 61 * min)]]) },
      long,
    );
    expect(kinds(later)).toEqual(['deregister']);
  });

  it('an unknown state-transition time extends the grace period (from the first sighting), never skips it', () => {
    const stopped = instance(2, { state: 'stopped' }); // StateTransitionReason gave no readable time
    const runners = [runner(1), runner(2, { status: 'offline' }), runner(3)];
    const fleet = [instance(1), stopped, instance(3)];
    const first = planSweep({ ...input(runners, fleet), leavingSince: new Map([[iid(2), NOW]]) }, cfg);
    expect(kinds(first)).toEqual(['skip']);
    expect(kinds(planSweep(input(runners, fleet), cfg))).toEqual(['skip']);
    const later = planSweep(
      { ...input(runners, fleet), leavingSince: new Map([[iid(2), new Date(NOW.getTime() - 6 * min)]]) },
      cfg,
    );
    expect(kinds(later)).toEqual(['deregister']);
  });

  it('an ONLINE runner on a STOPPED instance is a contradiction to report, not a removal', () => {
    const stopped = instance(2, { state: 'stopped', stateChangedAt: left(30) });
    const plan = planSweep(
      input([runner(1), runner(2), runner(3)], [instance(1), stopped, instance(3)]),
      cfg,
    );
    expect(plan.actions).toEqual([
      expect.objectContaining({ kind: 'report', finding: 'online-on-leaving-instance' }),
    ]);
  });

  it('reports an offline-but-busy runner on a running instance', () => {
    const plan = planSweep(
      input([runner(1), runner(2, { status: 'offline', busy: true })], [instance(1), instance(2)]),
      cfg,
    );
    expect(plan.actions).toEqual([expect.objectContaining({ kind: 'report', finding: 'offline-busy' })]);
  });

  it("another account's unlabelled runners in the same org do not enlarge the rolling budget", () => {
    const fleet = [1, 2, 3, 4, 5].map((n) => instance(n));
    const theirs = [21, 22, 23, 24, 25, 26, 27, 28, 29, 30].map((n) =>
      runner(n, { labels: ['self-hosted', `${INSTANCE_LABEL_PREFIX}${iid(n)}`] }),
    );
    const runners = [...fleet.map((_, k) => runner(k + 1)), runner(6, { status: 'offline' }), ...theirs];
    const plan = planSweep(
      { ...input(runners, fleet), removalsInWindow: 1 },
      { ...cfg, maxRemovalShare: 0.2 },
    );
    // the base is what EC2 describes: runner 6's instance is not described, so it is not counted
    expect(plan.fleetRunners).toBe(5);
    expect(plan.refusedBy).toBe('budget');
  });

  it('rolling budget: refuses removals beyond max(1, floor(share x fleet runners)) in the window', () => {
    const fleet = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => instance(n));
    const runners = [...fleet.map((_, k) => runner(k + 1)), runner(11, { status: 'offline' })];
    const share = { ...cfg, maxRemovalShare: 0.2 };
    const within = planSweep({ ...input(runners, fleet), removalsInWindow: 1 }, share);
    expect(within.refused).toBeUndefined();
    expect(kinds(within)).toEqual(['deregister']);
    const spent = planSweep({ ...input(runners, fleet), removalsInWindow: 2 }, share);
    expect(spent.refusedBy).toBe('budget');
    expect(spent.refused).toMatch(/removal budget/);
    expect(kinds(spent)).toEqual([]);
  });

  it('rolling budget: removes the oldest ghosts up to what the window has left, defers the rest, says the budget is spent', () => {
    // multi-account seed 13: ghosts 9 and 16 waited a whole window behind an all-or-nothing refusal
    // ("2 more would exceed"); 10 fleet runners at 30%: budget 3, 1 spent, 2 left for 3 ghosts
    const fleet = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => instance(n));
    const left = (n: number, ago: number) =>
      instance(n, { state: 'terminated', stateChangedAt: new Date(NOW.getTime() - ago * min).toISOString() });
    const ghosts = [11, 12, 13].map((n) => runner(n, { status: 'offline' }));
    const w = {
      ...input([...fleet.map((_, k) => runner(k + 1)), ...ghosts], fleet, [
        left(11, 10),
        left(12, 40),
        left(13, 20),
      ]),
      removalsInWindow: 1,
    };
    const plan = planSweep(w, { ...cfg, maxRemovalShare: 0.3 });
    expect(plan.refused).toBeUndefined();
    const removed = plan.actions.flatMap((a) => (a.kind === 'deregister' ? [a.instanceId] : []));
    expect(removed.sort()).toEqual([iid(12), iid(13)]);
    expect(plan.deferred?.map((d) => [d.instanceId, d.why])).toEqual([[iid(11), 'budget']]);
    expect(plan.budgetSpent).toMatch(
      /removal budget spent: 1 removals .* 3 more .* 3 allowed.*2 removed, 1 deferred/,
    );
    // nothing left in the window: refused all-or-nothing as before (a proposal for a human)
    const none = planSweep({ ...w, removalsInWindow: 3 }, { ...cfg, maxRemovalShare: 0.3 });
    expect(none.refusedBy).toBe('budget');
    expect(kinds(none).filter((k) => k === 'deregister')).toEqual([]);
  });

  it('rolling budget: a removal made only once a human approves it (approvedOnly) is not judged against the window', () => {
    const fleet = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => instance(n));
    const runners = [...fleet.map((_, k) => runner(k + 1)), runner(11, { status: 'offline' })];
    const w = { ...input(runners, [...fleet, instance(12)]), removalsInWindow: 1 };
    const share = { ...cfg, maxRemovalShare: 0.2, allowTerminate: true };
    // the termination (proposed every run, never made without an approval) takes the window's last unit
    const counted = planSweep(w, share);
    expect(kinds(counted)).toEqual(['terminate']);
    expect(counted.deferred).toEqual([
      expect.objectContaining({ kind: 'deregister', why: 'unconfirmed-budget' }),
    ]);
    const approvedOnly = planSweep(w, { ...share, approvedOnly: ['terminate'] });
    expect(kinds(approvedOnly).sort()).toEqual(['deregister', 'terminate']);
    expect(approvedOnly.deferred).toBeUndefined();
    // the breaker's share still counts it: a ghost and the termination, 2 of 12 at 10% (1), refused
    const gone = instance(2, {
      state: 'terminated',
      stateChangedAt: new Date(NOW.getTime() - 10 * min).toISOString(),
    });
    const fleetOk = [...fleet.filter((i) => i.instanceId !== iid(2)), instance(12)];
    const ghosts = runners.map((r) => (r.id === 1002 ? { ...r, status: 'offline' as const } : r));
    const both = { ...input(ghosts, fleetOk, [gone]), removalsInWindow: 0 };
    const byShare = { ...share, maxRemovalShare: 0.1, approvedOnly: ['terminate' as const] };
    expect(planSweep(both, byShare).refusedBy).toBe('breaker');
    expect(planSweep(both, { ...byShare, allowTerminate: false }).refused).toBeUndefined();
  });
});

// ---- properties ------------------------------------------------------------------------------------

const arbWorld = fc
  .record({
    seed: fc.array(
      fc.record({
        hasRunner: fc.boolean(),
        labelled: fc.boolean(),
        busy: fc.boolean(),
        online: fc.boolean(),
        state: fc.constantFrom(
          'running',
          'running',
          'pending',
          'shutting-down',
          'stopped',
          'terminated',
          'unknown',
        ),
        leftMinAgo: fc.integer({ min: 0, max: 120 }),
        launchedMinAgo: fc.integer({ min: 0, max: 120 }),
        terminating: fc.boolean(),
        skippedByChurn: fc.boolean(),
      }),
      { minLength: 1, maxLength: 30 },
    ),
    share: fc.double({ min: 0.05, max: 1, noNaN: true }),
    allowTerminate: fc.boolean(),
  })
  .map(({ seed, share, allowTerminate }) => {
    const runners: GitHubRunner[] = [];
    const fleet: InstanceInfo[] = [];
    const described: InstanceInfo[] = [];
    const terminating = new Set<string>();
    const skipped = new Set<number>();
    seed.forEach((s, i) => {
      const n = i + 1;
      const info = instance(n, {
        state: s.state === 'unknown' ? 'terminated' : (s.state as InstanceInfo['state']),
        launchTime: new Date(NOW.getTime() - s.launchedMinAgo * min).toISOString(),
        ...(['running', 'pending', 'unknown'].includes(s.state)
          ? {}
          : { stateChangedAt: new Date(NOW.getTime() - s.leftMinAgo * min).toISOString() }),
      });
      if (s.state === 'terminated') described.push(info);
      else if (s.state !== 'unknown') fleet.push(info);
      if (s.terminating && s.state === 'running') terminating.add(iid(n));
      if (s.hasRunner && s.skippedByChurn) skipped.add(runner(n).id);
      if (s.hasRunner) {
        runners.push(
          runner(n, {
            busy: s.busy,
            status: s.online ? 'online' : 'offline',
            ...(s.labelled ? {} : { labels: ['self-hosted'] }),
          }),
        );
      }
    });
    return {
      runners,
      fleet,
      described,
      terminating,
      skipped,
      config: { ...cfg, maxRemovalShare: share, allowTerminate },
    };
  });

describe('sweep planner properties', () => {
  it('never terminates an instance that has a runner', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const plan = planSweep(
          { ...input(w.runners, w.fleet, w.described), terminating: w.terminating },
          w.config,
        );
        const withRunner = new Set(w.runners.flatMap((r) => instanceIdOf(r)?.instanceId ?? []));
        for (const a of plan.actions)
          if (a.kind === 'terminate') expect(withRunner.has(a.instanceId)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('a runner skipped by a page shift during churn never leads to a removal (after the re-check)', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        // the first listing missed some runners (a concurrent delete shifted pages); the re-check
        // (name lookups + a second listing) sees them
        const partial = w.runners.filter((r) => !w.skipped.has(r.id));
        if (partial.length === 0) return;
        const plan = confirmTerminations(
          planSweep({ ...input(partial, w.fleet, w.described), terminating: w.terminating }, w.config),
          { ok: true, items: w.runners },
        );
        const withRunner = new Set(w.runners.flatMap((r) => instanceIdOf(r)?.instanceId ?? []));
        for (const a of plan.actions) {
          if (a.kind === 'terminate') expect(withRunner.has(a.instanceId)).toBe(false);
          if (a.kind === 'deregister') expect(w.skipped.has(a.runner.id)).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never deregisters an online runner whose instance EC2 does not describe', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const plan = planSweep(input(w.runners, w.fleet, w.described), w.config);
        const known = new Set([...w.fleet, ...w.described].map((i) => i.instanceId));
        for (const a of plan.actions) {
          if (a.kind === 'deregister' && !known.has(a.instanceId)) expect(a.runner.status).toBe('offline');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never deregisters an online runner whose instance EC2 shows leaving', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const plan = planSweep(input(w.runners, w.fleet, w.described), w.config);
        const known = new Map([...w.fleet, ...w.described].map((i) => [i.instanceId, i]));
        for (const a of plan.actions) {
          const state = known.get(a.kind === 'deregister' ? a.instanceId : '')?.state;
          if (a.kind === 'deregister' && state !== undefined && state !== 'running')
            expect(a.runner.status).toBe('offline');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never deregisters a busy runner', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const plan = planSweep(input(w.runners, w.fleet, w.described), w.config);
        for (const a of plan.actions) if (a.kind === 'deregister') expect(a.runner.busy).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never removes anything when a listing failed', () => {
    fc.assert(
      fc.property(arbWorld, fc.constantFrom('runners', 'fleet'), (w, which) => {
        const base = input(w.runners, w.fleet, w.described);
        const plan = planSweep({ ...base, [which]: { ok: false, error: 'boom' } }, w.config);
        expect(plan.refused).toBeDefined();
        expect(plan.actions.some((a) => a.kind === 'deregister' || a.kind === 'terminate')).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps removals within the allowed share (or a single one), else refuses them all', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const plan = planSweep(input(w.runners, w.fleet, w.described), w.config);
        const removals = plan.actions.filter((a) => a.kind === 'deregister' || a.kind === 'terminate').length;
        expect(removals <= Math.max(1, Math.floor(w.config.maxRemovalShare * plan.fleetSize))).toBe(true);
        if (plan.refused) expect(removals).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('with a rolling budget, removals already made plus this run never exceed max(1, floor(share x fleet runners))', () => {
    fc.assert(
      fc.property(arbWorld, fc.integer({ min: 0, max: 10 }), (w, used) => {
        const plan = planSweep(
          { ...input(w.runners, w.fleet, w.described), removalsInWindow: used },
          w.config,
        );
        const removals = plan.actions.filter((a) => a.kind === 'deregister' || a.kind === 'terminate').length;
        if (removals === 0) return;
        const budget = Math.max(1, Math.floor(w.config.maxRemovalShare * (plan.fleetRunners ?? 0)));
        expect(used + removals).toBeLessThanOrEqual(budget);
      }),
      { numRuns: 300 },
    );
  });

  it('is idempotent: after applying a plan, planning again removes nothing new', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const first = planSweep(input(w.runners, w.fleet, w.described), w.config);
        if (first.refused) return;
        const removedRunners = new Set(
          first.actions.flatMap((a) => (a.kind === 'deregister' ? [a.runner.id] : [])),
        );
        const terminated = new Set(
          first.actions.flatMap((a) => (a.kind === 'terminate' ? [a.instanceId] : [])),
        );
        const runners = w.runners.filter((r) => !removedRunners.has(r.id));
        const fleet = w.fleet.filter((i) => !terminated.has(i.instanceId));
        const described = [
          ...w.described,
          ...w.fleet
            .filter((i) => terminated.has(i.instanceId))
            .map((i) => ({ ...i, state: 'terminated' as const, stateChangedAt: NOW.toISOString() })),
        ];
        if (runners.length === 0 || fleet.length === 0) return;
        const second = planSweep(input(runners, fleet, described), w.config);
        const again = second.actions.filter(
          (a) =>
            (a.kind === 'deregister' && removedRunners.has(a.runner.id)) ||
            (a.kind === 'terminate' && terminated.has(a.instanceId)),
        );
        expect(again).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('only ever deregisters runners whose ownership is explicit (label) or confirmed by EC2 tags', () => {
    fc.assert(
      fc.property(arbWorld, (w) => {
        const plan = planSweep(input(w.runners, w.fleet, w.described), w.config);
        const known = new Map([...w.fleet, ...w.described].map((i) => [i.instanceId, i]));
        for (const a of plan.actions) {
          if (a.kind !== 'deregister') continue;
          const m = instanceIdOf(a.runner);
          expect(m).toBeDefined();
          if (m?.by === 'name') expect(known.get(m.instanceId)?.tags[FLEET_TAG.key]).toBe(FLEET_TAG.value);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('warm pools: a stopped instance Auto Scaling shows Warmed:* comes back', () => {
  const stoppedLongAgo = (n: number) =>
    instance(n, { state: 'stopped', stateChangedAt: new Date(NOW.getTime() - 120 * min).toISOString() });
  const fleet = () => [instance(1), stoppedLongAgo(2), stoppedLongAgo(3), instance(4)];
  const runners = () => [
    runner(1),
    runner(2, { status: 'offline' }),
    runner(3, { status: 'offline', busy: true }),
    runner(4),
  ];

  it('neither deregisters its runner nor reports its instance as leaving: skipped, saying why', () => {
    const warmPool = {
      ok: true as const,
      items: [
        [iid(2), 'Warmed:Stopped'] as [string, string],
        [iid(3), 'Warmed:Hibernated'] as [string, string],
      ],
    };
    const plan = planSweep({ ...input(runners(), fleet()), warmPool }, cfg);
    expect(plan.actions.map((a) => [a.kind, 'instanceId' in a ? a.instanceId : undefined])).toEqual([
      ['skip', iid(2)],
      ['skip', iid(3)],
    ]);
    expect(plan.actions[0]?.reason).toMatch(/warm pool \(Warmed:Stopped\).*comes back/);
    expect(plan.wouldRemove).toBe(0);
  });

  it('a stopped instance NOT in the warm pool still left: its idle runner is deregistered', () => {
    const warmPool = { ok: true as const, items: [[iid(3), 'Warmed:Stopped'] as [string, string]] };
    const plan = planSweep({ ...input(runners(), fleet()), warmPool }, cfg);
    expect(plan.actions.map((a) => a.kind)).toEqual(['deregister', 'skip']);
  });

  it('when the warm pool could not be read, no stopped instance is taken for a departure this run', () => {
    const fl = [
      ...fleet(),
      instance(5, { state: 'terminated', stateChangedAt: new Date(NOW.getTime() - 30 * min).toISOString() }),
    ];
    const rs = [...runners(), runner(5, { status: 'offline' })];
    const plan = planSweep(
      { ...input(rs, fl), warmPool: { ok: false, error: 'DescribeWarmPool ci failed: ValidationError' } },
      { ...cfg, maxRemovalShare: 1 },
    );
    expect(plan.actions.map((a) => [a.kind, 'instanceId' in a ? a.instanceId : undefined])).toEqual([
      ['skip', iid(2)],
      ['skip', iid(3)],
      ['deregister', iid(5)],
    ]);
    expect(plan.actions[0]?.reason).toMatch(/warm pool could not be read \(DescribeWarmPool ci failed/);
  });

  it('a Warmed:Running instance without a runner is not taken for one that never registered', () => {
    const warmPool = { ok: true as const, items: [[iid(2), 'Warmed:Running'] as [string, string]] };
    const plan = planSweep(
      { ...input([runner(1)], [instance(1), instance(2)]), warmPool },
      { ...cfg, allowTerminate: true },
    );
    expect(plan.actions).toEqual([]);
  });

  it('with the warm pool unread, a never-registered instance is reported, never terminated', () => {
    const plan = planSweep(
      { ...input([runner(1)], [instance(1), instance(2)]), warmPool: { ok: false, error: 'Throttling' } },
      { ...cfg, allowTerminate: true },
    );
    expect(plan.actions).toEqual([
      expect.objectContaining({
        kind: 'report',
        finding: 'never-registered',
        reason: expect.stringMatching(/warm pool could not be read/),
      }),
    ]);
  });
});

describe('sweep planner: review fixes (issue 10 follow-up)', () => {
  const left = (minutes: number) => new Date(NOW.getTime() - minutes * min).toISOString();
  const share = { ...cfg, maxRemovalShare: 0.2 };
  /** Runners anyone with a registration token can add: this fleet's labels, instances EC2 never saw. */
  const attackers = (count: number, status: 'online' | 'offline') =>
    Array.from({ length: count }, (_, k) => runner(500 + k, { status }));
  const removed = (p: ReturnType<typeof planSweep>) =>
    p.actions.flatMap((a) => (a.kind === 'deregister' ? [a.instanceId] : []));

  it('registering runners does not inflate the breaker share or the budget: 40 fake runners, 8 of 10 misreported', () => {
    const fleet = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) =>
      n <= 8 ? instance(n, { state: 'shutting-down', stateChangedAt: left(30) }) : instance(n),
    );
    // the real runners went offline too (a GitHub blip): only the breaker stands in the way
    const real = fleet.map((_, k) => runner(k + 1, { status: 'offline' }));
    const without = planSweep({ ...input(real, fleet), removalsInWindow: 0 }, share);
    expect(without.refused).toBeDefined();
    const withAttack = planSweep(
      { ...input([...real, ...attackers(40, 'online')], fleet), removalsInWindow: 0 },
      share,
    );
    expect(removed(withAttack)).toEqual([]);
    expect(withAttack.refusedBy).toBe('breaker');
    expect(withAttack.fleetSize).toBe(10);
    expect(withAttack.fleetRunners).toBe(10);
  });

  it('many runners naming one real instance count it once', () => {
    const fleet = [1, 2, 3, 4, 5].map((n) => instance(n));
    const copies = Array.from({ length: 30 }, (_, k) => runner(1, { id: 9000 + k, name: `x-${k}` }));
    const plan = planSweep({ ...input([...fleet.map((_, k) => runner(k + 1)), ...copies], fleet) }, share);
    expect(plan.fleetRunners).toBe(5);
  });

  it('fake offline runners with no EC2 instance neither trip the breaker nor take the real removals', () => {
    const fleet = [1, 2, 4, 5, 6, 7, 8, 9, 10].map((n) => instance(n));
    const gone = instance(3, { state: 'terminated', stateChangedAt: left(30) });
    const runners = [
      ...[1, 2, 4, 5, 6, 7, 8, 9, 10].map((n) => runner(n)),
      runner(3, { status: 'offline' }),
      ...attackers(40, 'offline'),
    ];
    const plan = planSweep({ ...input(runners, fleet, [gone]), removalsInWindow: 0 }, share);
    expect(plan.refused).toBeUndefined();
    expect(removed(plan)[0]).toBe(iid(3));
    // budget 2 (20% of 10): the unconfirmed ghosts get at most half of it
    expect(removed(plan)).toHaveLength(2);
    // a later run in the same window: the ghosts spent their half, the real removal still fits
    const later = planSweep(
      { ...input(runners, fleet, [gone]), removalsInWindow: 1, unconfirmedRemovalsInWindow: 1 },
      share,
    );
    expect(later.refused).toBeUndefined();
    expect(removed(later)).toEqual([iid(3)]);
  });

  it('an ONLINE runner on a terminated or shutting-down instance is a contradiction to report, not a removal', () => {
    for (const state of ['terminated', 'shutting-down', 'stopping'] as const) {
      const leaving = instance(2, { state, stateChangedAt: left(30) });
      const plan = planSweep(
        input(
          [runner(1), runner(2), runner(3)],
          state === 'terminated' ? [instance(1), instance(3)] : [instance(1), leaving, instance(3)],
          state === 'terminated' ? [leaving] : [],
        ),
        cfg,
      );
      expect(plan.actions).toEqual([
        expect.objectContaining({ kind: 'report', finding: 'online-on-leaving-instance' }),
      ]);
    }
  });

  it("another team's instance carrying the fleet tag outside the configured ASGs: its runner is never deregistered", () => {
    const theirs = (state: InstanceInfo['state'], group?: string) =>
      instance(2, {
        state,
        stateChangedAt: left(30),
        tags: { [FLEET_TAG.key]: FLEET_TAG.value, ...(group ? { 'aws:autoscaling:groupName': group } : {}) },
        ...(group ? { autoScalingGroupName: group } : {}),
      });
    const nameMatched = runner(2, { status: 'offline', labels: ['self-hosted'] });
    for (const [state, group] of [
      ['stopped', 'other-team-asg'],
      ['stopped', undefined],
      ['terminated', 'other-team-asg'],
    ] as const) {
      const info = theirs(state, group);
      const plan = planSweep(
        input(
          [runner(1), nameMatched, runner(3)],
          state === 'terminated' ? [instance(1), instance(3)] : [instance(1), info, instance(3)],
          state === 'terminated' ? [info] : [],
        ),
        cfg,
      );
      expect(removed(plan)).toEqual([]);
    }
  });
});

describe('removalBudget: the rolling budget the planner judges by (and the kernel reserves)', () => {
  it('is max(1, floor(share x the fleet instances EC2 describes with a runner))', () => {
    expect(removalBudget(0.2, 10)).toBe(2);
    expect(removalBudget(0.2, 14)).toBe(2);
    expect(removalBudget(0.2, 0)).toBe(1);
    expect(removalBudget(0.5, 7)).toBe(3);
  });
});

describe('sweep planner: a refused run says what it would have removed (issue 12 proposals)', () => {
  const left = (minutes: number, at = NOW) => new Date(at.getTime() - minutes * min).toISOString();
  const share = { ...cfg, maxRemovalShare: 0.2 };
  /** 10 fleet instances, 4 of them terminated 30 min before `at` with their runners offline. */
  function massTermination(at = NOW) {
    const fleet = [1, 2, 3, 4, 5, 6].map((n) => instance(n));
    const gone = [7, 8, 9, 10].map((n) =>
      instance(n, { state: 'terminated', stateChangedAt: left(30, NOW) }),
    );
    const runners = [
      ...[1, 2, 3, 4, 5, 6].map((n) => runner(n)),
      ...[7, 8, 9, 10].map((n) => runner(n, { status: 'offline' })),
    ];
    return { ...input(runners, fleet, gone), now: at };
  }

  it('a breaker refusal lists the removals it refused, each with stable facts (no ages)', () => {
    const plan = planSweep(massTermination(), share);
    expect(plan.refusedBy).toBe('breaker');
    expect(plan.wouldHave?.map((a) => [a.kind, a.instanceId])).toEqual(
      [7, 8, 9, 10].map((n) => ['deregister', iid(n)]),
    );
    expect(plan.wouldHave?.[0]?.facts).toEqual({
      runnerId: 1007,
      runnerName: `ci-${iid(7)}`,
      instanceId: iid(7),
      ghost: 'instance terminated',
    });
    // 40 min later nothing changed but the clock: the same facts
    const later = planSweep(massTermination(new Date(NOW.getTime() + 40 * min)), share);
    expect(later.wouldHave?.map((a) => a.facts)).toEqual(plan.wouldHave?.map((a) => a.facts));
    expect(plan.actions.filter((a) => a.kind === 'deregister')).toEqual([]);
  });

  it('a stopped instance is a different fact than a terminated one; a never-registered one names its group and launch', () => {
    const fleet = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) =>
      n <= 3 ? instance(n, { state: 'stopped', stateChangedAt: left(30) }) : instance(n),
    );
    const runners = [...fleet.map((_, k) => runner(k + 1, { status: k < 3 ? 'offline' : 'online' }))];
    const lonely = instance(11);
    const plan = planSweep(input(runners, [...fleet, lonely]), { ...share, allowTerminate: true });
    expect(plan.refusedBy).toBe('breaker');
    expect(plan.wouldHave?.map((a) => a.facts)).toEqual([
      ...[1, 2, 3].map((n) => ({
        runnerId: 1000 + n,
        runnerName: `ci-${iid(n)}`,
        instanceId: iid(n),
        ghost: 'instance stopped',
      })),
      {
        instanceId: iid(11),
        autoScalingGroupName: ASG,
        launchTime: lonely.launchTime,
        ghost: 'never registered a runner',
      },
    ]);
  });

  it('a rolling-budget refusal lists them too, at most maxRemovalsPerRun', () => {
    // budget 5 (half of the 10 with a runner), all spent: a window with units left removes up to them
    const plan = planSweep({ ...massTermination(), removalsInWindow: 5 }, { ...cfg, maxRemovalsPerRun: 3 });
    expect(plan.refusedBy).toBe('budget');
    expect(plan.wouldHave?.map((a) => a.instanceId)).toEqual([7, 8, 9].map(iid));
  });

  it('inputs not fit to judge from propose nothing: a failed or empty listing, a broken label convention', () => {
    const failed = planSweep({ ...massTermination(), runners: { ok: false, error: '502' } }, share);
    expect(failed.refused).toBeDefined();
    expect(failed.wouldHave).toBeUndefined();
    expect(planSweep(input([], [instance(1)]), share).wouldHave).toBeUndefined();
    expect(planSweep(input([runner(1)], []), share).wouldHave).toBeUndefined();
    const fleet = [1, 2, 3, 4].map((n) => instance(n));
    const unlabelled = [1, 2].map((n) => runner(n, { name: `runner-${n}`, labels: ['self-hosted'] }));
    const broken = planSweep(input(unlabelled, fleet), { ...share, allowTerminate: true });
    expect(broken.refused).toMatch(/no runner matches/);
    expect(broken.wouldHave).toBeUndefined();
  });

  it('a run that is not refused proposes nothing (its removals are in actions)', () => {
    const plan = planSweep(input([runner(1), runner(2, { status: 'offline' })], [instance(1)]), share);
    expect(plan.refused).toBeUndefined();
    expect(plan.wouldHave).toBeUndefined();
  });

  it('the re-check before terminating also withdraws refused terminations a second look contradicts', () => {
    const fleet = [1, 2, 3, 4, 5, 6].map((n) => instance(n));
    const plan = planSweep(input([runner(1), runner(2)], fleet), { ...share, allowTerminate: true });
    expect(plan.refusedBy).toBe('breaker');
    expect(plan.wouldHave?.map((a) => a.instanceId)).toEqual([3, 4, 5, 6].map(iid));
    const seen = confirmTerminations(plan, { ok: true, items: [runner(1), runner(2), runner(4)] });
    expect(seen.wouldHave?.map((a) => a.instanceId)).toEqual([3, 5, 6].map(iid));
    expect(confirmTerminations(plan, { ok: false, error: '502' }).wouldHave).toEqual([]);
  });
});
