import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulateCommandWith } from '../../cli/commands/simulate';
import { runCli } from '../../cli/program';
import type { Invariant } from '../../cli/simulate/invariants';
import { synthesizeFleet } from '../../cli/simulate/routing';
import { DEFAULT_SIM_OPTIONS, type SimOptions } from '../../cli/simulate/scenario';
import { fleetConfigFor, simulate } from '../../cli/simulate/simulate';
import { fromDefinition, type HandlerOverrides, type Invoke } from '../../cli/simulate/world';
import { testDeps } from '../../cli/test-deps';
import { orphanedVolumes } from './definition';
import { simulation, volumeOf } from './simulation';

const ENTRY = 'functions/orphaned-volumes/index.ts';
const FLEET = { key: 'fleetwarden:fleet', value: 'runners' };
const UNTOUCHED =
  "no volume of a live or non-fleet instance (nor an attached one) is snapshotted or deleted, nor tagged unless a live fleet instance's";
const APPROVED = 'no volume is deleted without an approval';
const FAULTS = ['--foreign-orphan-volumes', '--reattached-volumes'];
const SMALL = ['--instances', '9', '--duration', '20', '--settle', '10'];

/** A short `fleetwarden simulate` run with the handler overrides; its exit code and invariants. */
async function run(flags: string[], overrides: HandlerOverrides = {}) {
  const out = mkdtempSync(join(tmpdir(), 'fw-sim-volumes-'));
  const t = testDeps();
  const code = await runCli(['node', 'fleetwarden', 'simulate', '--out', out, ...SMALL, ...flags], t.deps, [
    simulateCommandWith(overrides),
  ]);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
    invariants: Invariant[];
    invocations: Record<string, number>;
  };
  const invariant = (name: string) => summary.invariants.find((i) => i.name === name) as Invariant;
  return { code, stdout: t.stdout(), invariant, summary };
}

describe('orphaned-volumes in the full simulator', () => {
  it('declares its faults (CLI flags), is deployed by the simulated stack, and owns its chaos draws', () => {
    expect(simulation.faults.map((f) => f.flag)).toEqual(['foreign-orphan-volumes', 'reattached-volumes']);
    expect(fleetConfigFor({})).toMatchObject({ dryRun: false, remediations: { 'orphaned-volumes': {} } });
    expect(simulation.ownRandom).toBe(true);
  });

  it('volumes start with the fleet tag only: it tags them itself while their instance lives, then snapshots the orphans', async () => {
    const { summary, engine } = await simulate(
      {
        ...DEFAULT_SIM_OPTIONS,
        instances: 9,
        durationMinutes: 40,
        settleMinutes: 40,
        faults: { foreignOrphanVolumes: true, reattachedVolumes: true },
      },
      synthesizeFleet(fleetConfigFor({})),
    );
    const volumes = engine.world.volumes;
    expect(volumes.tagged.length).toBeGreaterThan(0);
    for (const id of volumes.tagged) {
      const owner = [...engine.truth.values()].find((t) => volumeOf(t.id) === id);
      expect(owner?.kind).toBe('runner');
    }
    expect(volumes.snapshotted.length).toBeGreaterThan(0);
    expect(summary.invariants.filter((i) => !i.ok)).toEqual([]);
  });

  it(`${UNTOUCHED}: a tagger without ownership checks tags every attached volume of every running instance`, async () => {
    const r = await run(FAULTS, {
      [ENTRY]: (w) => async () => {
        for (const i of await w.inventory.listInStates(['running']))
          for (const v of await w.volumes.listAttachedTo([i.instanceId]))
            await w.volumes.tagVolume(v.volumeId, 'fleetwarden:instance-id', i.instanceId);
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant(UNTOUCHED).details).toContainEqual(
      expect.stringMatching(/^t\+\d+s CreateTags vol-\w+ of non-fleet instance i-\w+ \(web\)/),
    );
  });

  it('report-only, under both faults: snapshots the fleet orphans, deletes nothing, keeps its invariants', async () => {
    const r = await run(FAULTS);
    expect(r.code).toBe(0);
    expect(r.summary.invocations['orphaned-volumes']).toBeGreaterThan(0);
    expect(r.invariant(UNTOUCHED)).toMatchObject({ ok: true });
    expect(r.invariant(UNTOUCHED).checked).toBeGreaterThan(0);
    expect(r.invariant(APPROVED)).toMatchObject({ ok: true, details: [] });
  });

  it('approved (approvals deployed, the simulated on-call approves): deletes fleet orphans past their grace, and only those', async () => {
    const { summary, engine } = await simulate(
      {
        ...DEFAULT_SIM_OPTIONS,
        instances: 9,
        // runners must live through a sweep (every 30 min) for their volumes to name them
        durationMinutes: 40,
        settleMinutes: 130,
        faults: { foreignOrphanVolumes: true, reattachedVolumes: true },
        scenario: 'on-call',
      },
      synthesizeFleet(fleetConfigFor({ scenario: 'on-call' })),
    );
    const deleted = engine.world.volumes.deleted;
    expect(deleted.length).toBeGreaterThan(0);
    for (const id of deleted) {
      const owner = [...engine.truth.values()].find((t) => volumeOf(t.id) === id);
      expect(owner?.kind).toBe('runner');
      expect(owner?.state).toBe('terminated');
    }
    expect(summary.invariants.filter((i) => !i.ok)).toEqual([]);
  });

  it(`${UNTOUCHED}: a cleaner without ownership or state checks snapshots every fleet-tagged volume it lists`, async () => {
    const r = await run(FAULTS, {
      [ENTRY]: (w) => async () => {
        const volumes = w.volumes;
        for (const v of await volumes.listAvailable(FLEET))
          await volumes.snapshot(v.volumeId, { [FLEET.key]: FLEET.value }, 'naive');
      },
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL no volume of a live or non-fleet instance .* \(\d+ violations? in \d+ checked\)/,
    );
    expect(r.invariant(UNTOUCHED).details).toContainEqual(
      expect.stringMatching(/^t\+\d+s CreateSnapshot vol-\w+ of (non-fleet|live) instance i-\w+/),
    );
    expect(r.invariant(APPROVED).ok).toBe(true);
  });

  it(`${APPROVED}: a cleaner that deletes the fleet's orphans without the approval gate`, async () => {
    // runners live through a sweep (every 30 min), which names their instance on their volumes
    const r = await run(['--duration', '40', '--settle', '40'], {
      [ENTRY]: (w, env) => {
        const real = fromDefinition(orphanedVolumes, w, env) as Invoke;
        return async (event, context) => {
          await real(event, context);
          // "cleanup" past the gate: every orphan of a terminated fleet instance goes at once
          const volumes = w.volumes;
          for (const v of await volumes.listAvailable(FLEET)) {
            const [i] = await w.inventory.describe([v.tags['fleetwarden:instance-id'] ?? '']);
            if (i?.state === 'terminated' && i.tags[FLEET.key] === FLEET.value)
              await volumes.delete(v.volumeId);
          }
        };
      },
    });
    expect(r.code).toBe(1);
    expect(r.invariant(APPROVED).details[0]).toMatch(
      /^vol-\w+ deleted without an approved volume\.delete record$/,
    );
    expect(r.invariant(UNTOUCHED).ok).toBe(true);
  });

  it("adding it changed no other function's seeded run, chaos included (its draws are its own)", async () => {
    const options: SimOptions = {
      ...DEFAULT_SIM_OPTIONS,
      instances: 12,
      durationMinutes: 20,
      settleMinutes: 20,
      drop: 0.1,
      duplicate: 0.2,
      reorder: 0.3,
      errorRate: 0.05,
      seed: 7,
    };
    const withIt = synthesizeFleet(fleetConfigFor({}));
    const logicalId = [...withIt.functions.values()].find((f) => f.entry === ENTRY)?.logicalId;
    expect(logicalId).toBeDefined();
    const without = {
      ...withIt,
      functions: new Map([...withIt.functions].filter(([id]) => id !== logicalId)),
      rules: withIt.rules.map((r) => ({
        ...r,
        targets: r.targets.filter((t) => t.kind !== 'function' || t.fn !== logicalId),
      })),
    };
    const others = ({ summary, engine }: Awaited<ReturnType<typeof simulate>>) => {
      const { 'orphaned-volumes': _i, ...invocations } = summary.invocations;
      const { 'orphaned-volumes': _e, ...errors } = summary.invocationErrors;
      const {
        auditRecords: _r,
        auditCorrelationResolved: _c,
        cloudTrailEventsDelivered: _d,
        ...fleet
      } = summary.counts;
      // the other functions' records, as audit-correlate left them (record ids of scheduled runs
      // name Lambda's request id, a count over every invocation: they shift, the records do not)
      const records = engine.world.audit.all().filter((r) => r.function !== 'orphaned-volumes');
      const correlation = records
        .map(
          (r) =>
            `${r.function} ${r.action} ${JSON.stringify(r.subject)} ${r.decision} ${r.correlation.status}`,
        )
        .sort();
      return { invocations, errors, fleet, correlation };
    };
    const a = await simulate(options, without);
    const b = await simulate(options, withIt);
    expect(b.summary.invocations['orphaned-volumes']).toBeGreaterThan(0);
    expect(others(b)).toEqual(others(a));
  });
});
