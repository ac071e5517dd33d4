/**
 * runner-sweep in the simulator: DescribeInstances flapping (a live runner instance misreported as
 * terminated, another as stopped), another fleet's runners in the same org; the sweep stays within
 * its removal budget, never removes another fleet's runner nor the runner of a live instance.
 */

import { approvedCalls } from '../../cli/simulate/approvals';
import { T0 } from '../../cli/simulate/engine';
import {
  envOf,
  faultTargets,
  type Invariant,
  invariant,
  liveRunners,
  type RemediationSimulation,
  rel,
  relTime,
  scaledIn,
} from '../../cli/simulate/remediation-simulation';
import type { Engine } from '../../cli/simulate/scenario';
import type { AuditRecord } from '../../shared/audit/schema';
import type { InMemorySweepState } from '../../shared/budget/in-memory-sweep-state';
import type { InstanceInfo } from '../../shared/ec2/port';
import { FLEET_LABEL_PREFIX, INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';

/** The fleet id of another fleet registering runners in the same GitHub org. */
export const FOREIGN_FLEET_ID = 'blue-fleet';
/** At most this many foreign-fleet runners (few: they enlarge the registered-runner count). */
const FOREIGN_FLEET_RUNNERS = 3;

const liveRunnersRemoved = new WeakMap<Engine, string[]>();
const removedLive = (e: Engine): string[] => {
  const list = liveRunnersRemoved.get(e) ?? [];
  liveRunnersRemoved.set(e, list);
  return list;
};

/**
 * The victim of a flapping inventory: re-chosen at each runner-sweep run during the activity
 * period (the same one two runs in a row, then the next of `candidates()`), while `applies()`.
 */
function flappingVictim(e: Engine, applies: () => boolean, candidates: () => string[], into: Set<string>) {
  const end = T0 + e.options.durationMinutes * 60_000;
  let run = -1;
  let lastSweep = 0;
  let victim: string | undefined;
  return (): string | undefined => {
    if (!applies() || e.clock.now >= end) return undefined;
    if (e.world.journal.fn === 'runner-sweep' && e.world.journal.invocation !== lastSweep) {
      lastSweep = e.world.journal.invocation;
      run++;
      const all = candidates();
      victim = all[Math.floor(run / 2) % Math.max(1, all.length)];
      if (victim) into.add(victim);
    }
    return victim;
  };
}

/**
 * --ec2-flapping: during the activity period, runner functions' DescribeInstances misreports one
 * live runner instance as terminated long ago, two runner-sweep runs in a row, then the next one.
 */
function installFlapping(e: Engine): void {
  const forged = faultTargets(e, 'forged');
  const current = flappingVictim(
    e,
    () => e.world.journal.fn.startsWith('runner-'),
    () =>
      liveRunners(e)
        .filter((t) => !forged.has(t.id))
        .map((t) => t.id),
    faultTargets(e, 'flapping'),
  );
  // a terminated instance is not listed by tag any more
  misreportInventory(
    e,
    current,
    'terminated',
    () => true,
    (i) => i.state !== 'terminated',
  );
}

/**
 * --ec2-flapping, stopped variant: runner-sweep's DescribeInstances misreports one running runner
 * instance (online, idle, not scaled in) as stopped long ago, two sweep runs in a row, then the next
 * one, counting from the other end of the fleet than the terminated variant. A stopped instance with
 * an online runner is a contradiction to report, never a removal.
 */
function installStoppedFlapping(e: Engine): void {
  const forged = faultTargets(e, 'forged');
  const candidates = () => {
    const online = new Set(
      e.world.registry
        .snapshot()
        .filter((r) => r.status === 'online' && !r.busy)
        .map((r) => r.id),
    );
    return liveRunners(e)
      .filter((t) => !forged.has(t.id) && !scaledIn(e, t.id) && online.has(t.runnerId as number))
      .reverse()
      .map((t) => t.id);
  };
  const current = flappingVictim(
    e,
    () => e.world.journal.fn === 'runner-sweep',
    candidates,
    faultTargets(e, 'flapping-stopped'),
  );
  misreportInventory(
    e,
    current,
    'stopped',
    (i) => i.state === 'running',
    () => true,
  );
}

/**
 * Wrap the inventory so `victim()`'s instance (when `eligible`) reads as `state` since T0, without
 * its addresses; listings still answer only the states asked for, and `byTag` filters tag listings.
 */
function misreportInventory(
  e: Engine,
  victim: () => string | undefined,
  state: 'terminated' | 'stopped',
  eligible: (i: InstanceInfo) => boolean,
  byTag: (i: InstanceInfo) => boolean,
): void {
  const inv = e.world.inventory;
  const misreport = (list: InstanceInfo[], keep: (i: InstanceInfo) => boolean): InstanceInfo[] => {
    const id = victim();
    return list
      .map((i) => {
        if (i.instanceId !== id || !eligible(i)) return i;
        const { privateIp: _p, publicIp: _q, ...rest } = i;
        return { ...rest, state, stateChangedAt: new Date(T0).toISOString() };
      })
      .filter(keep);
  };
  const describe = inv.describe.bind(inv);
  const listInStates = inv.listInStates.bind(inv);
  const listByTag = inv.listByTag.bind(inv);
  inv.describe = async (ids) => misreport(await describe(ids), () => true);
  inv.listInStates = async (states) =>
    misreport(await listInStates([...new Set([...states, 'running' as const])]), (i) =>
      states.includes(i.state),
    );
  inv.listByTag = async (key, value) => misreport(await listByTag(key, value), byTag);
}

/**
 * --foreign-fleet-runners: another fleet (another `fleetwarden-fleet:` id) registers idle offline
 * runners in the same org whose `fleetwarden-instance:` label names an instance of this fleet that
 * is leaving or left (EC2 here describes it shutting down or terminated). Their fleet label says
 * they are not this fleet's: nothing of the fleet may remove them. Checked every minute until the
 * settle period's middle, at most FOREIGN_FLEET_RUNNERS in all.
 */
function scheduleForeignFleetRunners(e: Engine): void {
  const claimed = new Set<string>();
  const end = e.options.durationMinutes + Math.floor(e.options.settleMinutes / 2);
  for (let m = 1; m <= end; m++) {
    e.at(T0 + m * 60_000, () => {
      const gone = [...e.truth.values()].filter(
        (t) => t.kind === 'runner' && (t.state === 'shutting-down' || t.state === 'terminated'),
      );
      for (const t of gone) {
        if (claimed.size >= FOREIGN_FLEET_RUNNERS || claimed.has(t.id)) continue;
        claimed.add(t.id);
        e.world.registry.register({
          name: `${FOREIGN_FLEET_ID}-${t.id}`,
          status: 'offline',
          labels: [
            'self-hosted',
            'linux',
            `${INSTANCE_LABEL_PREFIX}${t.id}`,
            `${FLEET_LABEL_PREFIX}${FOREIGN_FLEET_ID}`,
          ],
        });
      }
    });
  }
}

/** Units each runner-sweep invocation recorded in its rolling budget's ledger, by invocation. */
const ledgerSpends = new WeakMap<Engine, Map<number, Map<string, number>>>();

/**
 * Every sweep state table (the shorthand's and each pool's): note what each invocation records in
 * the removal ledger (a record written again under the same run id and time overwrites, as the
 * table does).
 */
function watchLedger(e: Engine): void {
  const spends = new Map<number, Map<string, number>>();
  ledgerSpends.set(e, spends);
  const wrapped = new WeakSet<object>();
  const watchState = (state: InMemorySweepState) => {
    if (wrapped.has(state)) return state;
    wrapped.add(state);
    const record = state.recordRemovals.bind(state);
    state.recordRemovals = async (count, runId, at, expiresAt, unconfirmed) => {
      await record(count, runId, at, expiresAt, unconfirmed);
      if (e.world.journal.fn !== 'runner-sweep') return;
      const mine = spends.get(e.world.journal.invocation) ?? new Map<string, number>();
      mine.set(`${runId}@${at.getTime()}`, count);
      spends.set(e.world.journal.invocation, mine);
    };
    return state;
  };
  const stateOf = e.world.sweepStateOf.bind(e.world);
  e.world.sweepStateOf = (table) => watchState(stateOf(table));
  watchState(e.world.sweepState);
  for (const f of e.routing.functions.values())
    if (f.entry === 'functions/runner-sweep/index.ts') e.world.sweepStateOf(f.env.SWEEP_STATE_TABLE);
}

/**
 * Contract 5: a runner-sweep run that completed (its run record written, not failed) spent no more
 * of its rolling budget than the removals it attempted (DeleteRunner and TerminateInstances calls,
 * failed ones included: they may have happened). A unit spent on a removal never attempted (a
 * termination only proposed for want of approval) starves the ghosts the budget is for. A run
 * stopped half-way (audit or ledger failure) may have spent more: it is not judged.
 */
export function budgetSpentOnAttempts(e: Engine, records: AuditRecord[] = []): Invariant {
  const runRecords = new Set(
    records
      .filter((r) => r.function === 'runner-sweep' && r.action === 'runner.sweep')
      .map((r) => r.recordId),
  );
  const completed = new Set(
    e.world.journal.writes
      .filter(
        (w) => w.ok && runRecords.has(w.recordId) && w.decision !== 'failed' && w.decision !== 'intended',
      )
      .map((w) => w.invocation),
  );
  const details: string[] = [];
  let checked = 0;
  for (const [invocation, spent] of ledgerSpends.get(e) ?? []) {
    if (!completed.has(invocation)) continue;
    checked++;
    const units = [...spent.values()].reduce((a, b) => a + b, 0);
    const calls = e.world.journal.calls.filter(
      (c) =>
        c.invocation === invocation &&
        (c.operation === 'DeleteRunner' || c.operation === 'TerminateInstances'),
    );
    const attempted = calls.reduce(
      (n, c) => n + (c.operation === 'DeleteRunner' ? 1 : c.resources.length),
      0,
    );
    if (units > attempted)
      details.push(
        `runner-sweep invocation ${invocation} spent ${units} units of its removal budget on ${attempted} removals attempted`,
      );
  }
  return invariant('runner-sweep spends its removal budget only on removals it attempts', details, checked);
}

/** Every run: runner-sweep deregistering an online runner of a running instance no ASG is scaling in. */
function watchLiveRunnerRemovals(e: Engine): void {
  const registry = e.world.registry;
  const del = registry.deleteRunner.bind(registry);
  registry.deleteRunner = async (id) => {
    const runner = registry.snapshot().find((r) => r.id === id);
    const t = [...e.truth.values()].find((x) => x.runnerId === id);
    const live =
      e.world.journal.fn === 'runner-sweep' && runner?.status === 'online' && t?.state === 'running';
    const result = await del(id);
    if (live && t && result === 'deleted' && !scaledIn(e, t.id))
      removedLive(e).push(
        `runner-sweep deregistered online runner ${id} of running ${t.id} at ${relTime(e)}`,
      );
    return result;
  };
}

/**
 * The most runners registered at any instant of [from, to], from samples taken when the count
 * changed (`Journal.sampleRunners`, at invocation starts). The sample superseded AT `from` counts:
 * removals made at `from` by the first invocation of that instant saw it (the clock does not move
 * within an instant, so the next invocation's sample of the count after them is also at `from`).
 */
export function peakRunners(
  counts: ReadonlyArray<{ at: number; count: number }>,
  from: number,
  to: number,
): number {
  return Math.max(
    0,
    ...counts
      .filter((s, k) => s.at <= to && (s.at >= from || (counts[k + 1]?.at ?? Infinity) >= from))
      .map((s) => s.count),
  );
}

/**
 * Contract 3: runner-sweep's removals (deregistrations + terminations; those a human approved, as
 * `approvedCalls` judges them, do not count) in any rolling window (3600 s
 * unless BUDGET_WINDOW_SECONDS says otherwise) are at most max(1, floor(maxRemovalShare x the peak
 * of this fleet's registered runners in that window)); another fleet's runners do not count.
 */
export function removalsWithinBudget(e: Engine, records: AuditRecord[] = []): Invariant {
  const env = envOf(e, 'runner-sweep');
  const approved = approvedCalls(e, records);
  const share = Number(env.MAX_REMOVAL_SHARE ?? 0.2);
  const windowMs = Number(env.BUDGET_WINDOW_SECONDS ?? 3600) * 1000;
  const removals = e.world.journal.calls
    .filter((c) => c.fn === 'runner-sweep' && c.outcome === 'success' && !approved.has(c.requestId))
    .filter((c) => c.operation === 'DeleteRunner' || c.operation === 'TerminateInstances')
    .flatMap((c) => (c.operation === 'DeleteRunner' ? [c.at] : c.resources.map(() => c.at)));
  const peak = (from: number, to: number) => peakRunners(e.world.journal.runnerCounts, from, to);
  let worst: string | undefined;
  let excess = 0;
  for (let i = 0; i < removals.length; i++) {
    for (
      let j = i;
      j < removals.length && (removals[j] as number) - (removals[i] as number) < windowMs;
      j++
    ) {
      const from = removals[i] as number;
      const to = removals[j] as number;
      const budget = Math.max(1, Math.floor(share * peak(from, to)));
      const n = j - i + 1;
      if (n > budget && n - budget > excess) {
        excess = n - budget;
        worst = `${n} removals by runner-sweep between ${rel(from)} and ${rel(to)}, budget ${budget} (maxRemovalShare ${share} x peak ${peak(from, to)} runners, ${windowMs / 1000} s window)`;
      }
    }
  }
  return invariant('runner-sweep removals within the rolling budget', worst ? [worst] : [], removals.length);
}

/**
 * Contract 4: a runner labelled `fleetwarden-fleet:<another id>` is never deregistered by the fleet,
 * whatever instance its labels or name claim. Checked: every such runner the registry held.
 */
export function noForeignFleetRunnerRemoved(e: Engine): Invariant {
  const fleetOf = (r: { labels: string[] }) => r.labels.find((l) => l.startsWith('fleetwarden-fleet:'));
  const foreign = (r: { labels: string[] }) => {
    const label = fleetOf(r);
    return label !== undefined && label !== e.fleetLabel;
  };
  const deleted = e.world.registry.deleted.filter(foreign);
  const present = e.world.registry.snapshot().filter(foreign);
  const details = deleted.map((r) => `runner ${r.id} ${r.name} (${fleetOf(r)}) was deregistered`);
  return invariant('no runner of another fleet removed', details, deleted.length + present.length);
}

/** runner-sweep never deregisters an online runner of an instance that is really running (and not scaled in). */
export function noLiveRunnerRemoved(e: Engine): Invariant {
  const removals = e.world.journal.calls.filter(
    (c) => c.fn === 'runner-sweep' && c.operation === 'DeleteRunner',
  ).length;
  return invariant('no runner of a live instance removed by runner-sweep', [...removedLive(e)], removals);
}

export const simulation: RemediationSimulation = {
  function: 'runner-sweep',
  faults: [
    {
      flag: 'ec2-flapping',
      description:
        'DescribeInstances misreports a live runner instance as terminated, and another (online) as stopped, run after run',
      install: (e) => {
        installFlapping(e);
        installStoppedFlapping(e);
      },
    },
    {
      flag: 'foreign-fleet-runners',
      description:
        "register another fleet's idle offline runners (another fleetwarden-fleet: id) labelled for this fleet's instances that left",
      schedule: scheduleForeignFleetRunners,
    },
  ],
  watch: (e) => {
    watchLiveRunnerRemovals(e);
    watchLedger(e);
  },
  // a failed runner-list page
  injectError: (e) => e.world.registry.failNextListPage(1),
  invariants: (e, records) => [
    removalsWithinBudget(e, records),
    budgetSpentOnAttempts(e, records),
    noForeignFleetRunnerRemoved(e),
    noLiveRunnerRemoved(e),
  ],
};
