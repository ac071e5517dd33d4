import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { simulateCommandWith } from '../../cli/commands/simulate';
import { runCli } from '../../cli/program';
import type { Invariant } from '../../cli/simulate/invariants';
import { fromDefinition, type HandlerOverrides, type Invoke } from '../../cli/simulate/world';
import { testDeps } from '../../cli/test-deps';
import { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { DRAIN_SPOKE_LOOK_SOURCE } from '../../shared/runners/lifecycle-event';
import { runnerDrain } from './definition';
import { longJob, simulation, WARM_LAUNCH } from './simulation';

/**
 * runner-drain in the full simulator when Auto Scaling's lifecycle event is lost (EventBridge
 * delivers them best-effort): the scheduled look finds the instance held by the fleet's hook and
 * drains it; with the look disabled, the hook expires with the runner still registered.
 */
const ENTRY = 'functions/runner-drain/index.ts';
const HELD = 'no fleet hook expired with its runner registered before the drain deadline';
const SMALL = ['--instances', '9', '--duration', '20', '--settle', '15'];

async function run(flags: string[], overrides: HandlerOverrides = {}) {
  const out = mkdtempSync(join(tmpdir(), 'fw-sim-drain-'));
  const t = testDeps();
  const code = await runCli(['node', 'fleetwarden', 'simulate', '--out', out, ...SMALL, ...flags], t.deps, [
    simulateCommandWith(overrides),
  ]);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    invariants: Invariant[];
  };
  const invariant = (name: string) => summary.invariants.find((i) => i.name === name) as Invariant;
  return { code, stdout: t.stdout(), invariant, summary };
}

/** runner-drain as deployed, except that it drops its scheduled look (the look "disabled"). */
const withoutTheLook: HandlerOverrides = {
  [ENTRY]: (w, env) => {
    const real = fromDefinition(runnerDrain, w, env) as Invoke;
    return async (event, context) => {
      const records = (event as SQSEvent).Records.filter(
        (r) => (JSON.parse(r.body) as { source?: string }).source !== 'aws.events',
      );
      return records.length > 0 ? real({ Records: records }, context) : { batchItemFailures: [] };
    };
  },
};

describe('runner-drain in the full simulator: a lost terminate lifecycle event', () => {
  it('declares the fault as a CLI flag', () => {
    expect(simulation.faults.map((f) => f.flag)).toContain('lost-lifecycle-events');
  });

  it('the scheduled look finds the instance held by the hook and drains it: the invariant holds', async () => {
    const r = await run(['--lost-lifecycle-events']);
    expect(r.invariant(HELD)).toMatchObject({ ok: true, details: [] });
    expect(r.invariant(HELD).checked).toBeGreaterThan(0);
    expect(r.code).toBe(0);
  });

  it(`${HELD}: with the look disabled, the hook of the instance whose event was lost expires held`, async () => {
    const r = await run(['--lost-lifecycle-events'], withoutTheLook);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAIL ${HELD} \\(\\d+ violations? in \\d+ checked\\)`));
    expect(r.invariant(HELD).details).toContainEqual(
      expect.stringMatching(
        /^hook token-i-[\w-]+ of i-\w+ expired at t\+\d+s, \d+ s into a 1800 s drain deadline, runner \d+ still registered$/,
      ),
    );
  });
});

/**
 * runner-drain as deployed, except that it never drains an instance its look adopted on its way
 * back to the warm pool (the look as it was: Terminating:Wait only).
 */
const withoutWarmPoolAdoption: HandlerOverrides = {
  [ENTRY]: (w, env) => {
    const real = fromDefinition(runnerDrain, w, env) as Invoke;
    return async (event, context) => {
      const records = [];
      for (const r of (event as SQSEvent).Records) {
        const b = JSON.parse(r.body) as { source?: string; detail?: { EC2InstanceId?: string } };
        const id = b.source === 'fleetwarden.drain-look' ? b.detail?.EC2InstanceId : undefined;
        const v = id ? await w.lifecycleActions.inspect(id) : undefined;
        if (v?.lifecycleState !== 'Warmed:Pending:Wait') records.push(r);
      }
      return records.length > 0 ? real({ Records: records }, context) : { batchItemFailures: [] };
    };
  },
};

describe('runner-drain in the full simulator: a lost terminate lifecycle event back into the warm pool', () => {
  const WARM = ['--lost-lifecycle-events', '--warm-pool-scale-in'];

  it('the look finds the instance the hook holds in Warmed:Pending:Wait and holds its busy runner', async () => {
    const r = await run(WARM);
    expect(r.invariant(HELD)).toMatchObject({ ok: true, details: [] });
    expect(r.code).toBe(0);
  });

  it(`${HELD}: without the warm pool in the look, its hook expires with the runner still registered`, async () => {
    const r = await run(WARM, withoutWarmPoolAdoption);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAIL ${HELD} \\(\\d+ violations? in \\d+ checked\\)`));
  });
});

/** The hub and spokes of `--scenario multi-account` (as multi-account.test.ts runs it). */
const MULTI = [
  '--scenario',
  'multi-account',
  '--instances',
  '9',
  '--duration',
  '30',
  '--settle',
  '65',
  '--lost-lifecycle-events',
];

/** runner-drain as deployed, except that the looks its hub fanned out to the spokes never run. */
const withoutSpokeLooks: HandlerOverrides = {
  [ENTRY]: (w, env) => {
    const real = fromDefinition(runnerDrain, w, env) as Invoke;
    return async (event, context) => {
      const records = (event as SQSEvent).Records.filter(
        (r) => (JSON.parse(r.body) as { source?: string }).source !== DRAIN_SPOKE_LOOK_SOURCE,
      );
      return records.length > 0 ? real({ Records: records }, context) : { batchItemFailures: [] };
    };
  },
};

describe('runner-drain in the full simulator: lost lifecycle events in the spokes', () => {
  it("the hub's look fans out to every spoke: each spoke's runner is drained, every invariant holds", async () => {
    const r = await run(MULTI);
    expect(r.invariant(HELD)).toMatchObject({ ok: true, details: [] });
    // the hub's hooks and the five spokes' (one scale-in each) are judged
    expect(r.invariant(HELD).checked).toBeGreaterThan(5);
    expect(r.summary.invariants.filter((i) => !i.ok)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it(`${HELD}: with the spoke fan-out disabled, a spoke runner's hook expires held`, async () => {
    const r = await run(MULTI, withoutSpokeLooks);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAIL ${HELD} \\(\\d+ violations? in \\d+ checked\\)`));
    expect(r.invariant(HELD).details).toContainEqual(
      expect.stringMatching(/^hook token-i-\w+-10\d of i-\w+ \(spoke \d{12}\/[a-z]+-[a-z]+-\d\) expired at /),
    );
  });
});

describe("--lost-lifecycle-events: the long job it gives the lost instance's runner", () => {
  /** A registry, a clock and a timer list the test advances by hand. */
  function host() {
    const clock = { now: 0 };
    const registry = new InMemoryRunnerRegistry({ now: () => clock.now });
    const timers: Array<{ at: number; run: () => unknown }> = [];
    const after = (ms: number, run: () => unknown) => void timers.push({ at: clock.now + ms, run });
    const advance = (to: number) => {
      clock.now = to;
      for (const t of timers.filter((x) => x.at <= to)) t.run();
    };
    const busy = (id: number) => registry.snapshot().find((r) => r.id === id)?.busy;
    return { e: { world: { registry }, clock, after }, registry, clock, advance, busy };
  }

  it('a job that ends inside it leaves the runner busy until it ends, then idle', () => {
    const h = host();
    const r = h.registry.register({ name: 'ci-i-1' });
    longJob(h.e, r.id, 600_000);
    h.clock.now = 100_000;
    h.registry.setBusy(r.id, true);
    h.clock.now = 300_000;
    h.registry.setBusy(r.id, false);
    expect(h.busy(r.id)).toBe(true);
    h.advance(600_000);
    expect(h.busy(r.id)).toBe(false);
  });

  it('a job still running when it ends keeps the runner busy (its end does not idle the runner)', () => {
    const h = host();
    const r = h.registry.register({ name: 'ci-i-1' });
    longJob(h.e, r.id, 600_000);
    // seed 42 multi-account: the scenario starts job 29679116 570 s in; it runs past the 600 s
    h.clock.now = 570_000;
    h.registry.setBusy(r.id, true);
    h.advance(600_000);
    expect(h.busy(r.id)).toBe(true);
    h.clock.now = 913_000;
    h.registry.setBusy(r.id, false);
    expect(h.busy(r.id)).toBe(false);
  });
});

describe('runner-drain in the full simulator: an instance launching into the warm pool', () => {
  const LAUNCH = 'no lifecycle call on an instance launching into the warm pool';

  it('the look leaves it alone (a launch is not leaving): the invariant holds', async () => {
    const r = await run(['--warm-pool-scale-in', '--lost-lifecycle-events']);
    expect(r.invariant(LAUNCH)).toMatchObject({ ok: true, details: [] });
    expect(r.invariant(LAUNCH).checked).toBeGreaterThan(0);
    expect(r.code).toBe(0);
  });

  it('a drain that takes the launch for a scale-in back into the warm pool fails the run', async () => {
    // its Auto Scaling reads say every activity takes the instance out of the group (never a launch)
    const asLeaving: HandlerOverrides = {
      [ENTRY]: (w, env) => {
        const actions = w.lifecycleActions;
        const list = actions.groupInstances.bind(actions);
        const inspect = actions.inspect.bind(actions);
        actions.groupInstances = async (g) => {
          const l = await list(g);
          return { ...l, instances: l.instances.map((i) => (i.activity ? { ...i, activity: 'leave' } : i)) };
        };
        actions.inspect = async (id, hook) => {
          const v = await inspect(id, hook);
          return v?.activity ? { ...v, activity: 'leave' } : v;
        };
        return fromDefinition(runnerDrain, w, env) as Invoke;
      },
    };
    const r = await run(['--warm-pool-scale-in'], asLeaving);
    expect(r.code).toBe(1);
    expect(r.invariant(LAUNCH).details).toContainEqual(
      expect.stringMatching(
        new RegExp(`^runner-drain called \\S+ on hook \\S+ of ${WARM_LAUNCH.instanceId} `),
      ),
    );
  });
});
