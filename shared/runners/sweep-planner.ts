import type { InstanceInfo } from '../ec2/port';
import type { GitHubRunner } from '../github/port';
import { fleetIdOf, instanceIdOf, isExempt, type RunnerMatch, regionOf } from './matching';

export interface SweepConfig {
  /** After an instance left (stateChangedAt), wait this long before deregistering its idle runner. */
  gracePeriodMs: number;
  /** A fleet instance running this long with no runner registered is reported (or terminated). */
  bootTimeoutMs: number;
  /** Terminate never-registered instances (otherwise only report them). */
  allowTerminate: boolean;
  /** Refuse the whole run when removals exceed this share of the fleet (one removal always allowed). */
  maxRemovalShare: number;
  /**
   * At most this many removals per run; the rest are deferred to the next run (GitHub paces
   * writes ~1/s, so a 5-minute run cannot do more than ~250). @default 100
   */
  maxRemovalsPerRun?: number;
  /**
   * The rolling removal budget's window: removals within any window this long never exceed
   * max(1, floor(maxRemovalShare x fleet runners listed)). @default 3600 s
   */
  budgetWindowMs?: number;
}

export const DEFAULT_SWEEP_CONFIG: SweepConfig = {
  gracePeriodMs: 5 * 60_000,
  bootTimeoutMs: 15 * 60_000,
  allowTerminate: false,
  maxRemovalShare: 0.2,
  maxRemovalsPerRun: 100,
  budgetWindowMs: 3_600_000,
};

/** EC2 keeps describing a terminated instance for about an hour: one it forgot left at least that long ago. */
const EC2_FORGETS_AFTER_MS = 3_600_000;

export type Listing<T> = { ok: true; items: T[] } | { ok: false; error: string };

export interface SweepInput {
  now: Date;
  /** Every runner, all pages, or the failure. */
  runners: Listing<GitHubRunner>;
  /** Every non-terminated instance carrying the fleet tag, all pages, or the failure. */
  fleet: Listing<InstanceInfo>;
  /** DescribeInstances of runner instance ids missing from `fleet` (terminated, or someone else's). */
  described: InstanceInfo[];
  /** Instances the ASG is terminating (lifecycle state Terminating*), when known. */
  terminating?: ReadonlySet<string>;
  fleetTag: { key: string; value: string };
  /** This fleet's id: runners labelled `fleetwarden-fleet:<another id>` are never touched. */
  fleetId: string;
  /** Only instances of these Auto Scaling groups (aws:autoscaling:groupName) may be terminated. */
  autoScalingGroupNames?: readonly string[];
  /** The region swept: runners labelled `fleetwarden-region:<other>` are not this sweep's. */
  region?: string;
  /** When the sweep first saw each instance id gone (EC2 no longer describes it), persisted across runs. */
  goneSince?: ReadonlyMap<string, Date>;
  /** When the sweep first saw each leaving instance whose state-transition time EC2 did not give. */
  leavingSince?: ReadonlyMap<string, Date>;
  /** Removals recorded in the rolling budget window (all runs); absent: no rolling budget. */
  removalsInWindow?: number;
}

export type Finding =
  | 'never-registered'
  | 'busy-on-leaving-instance'
  | 'unverifiable-runner'
  | 'online-on-stopped-instance'
  | 'offline-busy';

export type SweepAction =
  | { kind: 'deregister'; runner: GitHubRunner; instanceId: string; reason: string }
  | { kind: 'terminate'; instanceId: string; reason: string }
  | {
      kind: 'report';
      finding: Finding;
      subject: { instanceId?: string; runnerName?: string; runnerId?: number };
      reason: string;
    }
  | { kind: 'skip'; runner: GitHubRunner; instanceId: string; reason: string }
  /** A termination withdrawn by the re-check (a runner was found after all). */
  | { kind: 'keep'; instanceId: string; reason: string };

/** A removal left for the next run by `maxRemovalsPerRun`. */
export interface Deferred {
  kind: 'deregister' | 'terminate';
  instanceId: string;
  runnerId?: number;
}

export interface SweepPlan {
  actions: SweepAction[];
  /** Set when the circuit breaker refused the run; no removal is in `actions` then. */
  refused?: string;
  /** What refused it: the per-run breaker (inputs, share) or the rolling removal budget. */
  refusedBy?: 'breaker' | 'budget';
  /** Removals the run would have made (before the breaker). */
  wouldRemove: number;
  /** max(fleet runners, fleet instances): what the share is measured against. */
  fleetSize: number;
  /** The fleet's runners in this listing: what the rolling budget is measured against. */
  fleetRunners?: number;
  /** Removals beyond `maxRemovalsPerRun`, left for the next run. */
  deferred?: Deferred[];
}

const LEAVING = new Set<InstanceInfo['state']>(['shutting-down', 'stopping', 'stopped', 'terminated']);

type Where =
  | { kind: 'healthy'; info: InstanceInfo }
  /** `since` undefined: the ASG is terminating it (a fact read now; the drain hook holds it). */
  | { kind: 'leaving'; info: InstanceInfo; since: number | undefined; timeKnown: boolean }
  | { kind: 'foreign' }
  | { kind: 'unknown'; since: number };

/**
 * Pure sweep decision (runner-sweep applies it). Rules, in order:
 * - breaker inputs: a failed or empty listing refuses the run (never judge from partial data);
 * - runners with no instance match, or labelled with another fleet id or region, are not touched;
 * - a busy runner is never removed (on a leaving instance, or offline on a running one: reported);
 * - an online runner on a stopped instance is a contradiction: reported, never removed;
 * - an idle runner whose instance left (terminated, shutting down, stopped, or being terminated by
 *   the ASG) is deregistered once `gracePeriodMs` passed since it left; with no readable time the
 *   grace runs from the sweep's first sighting; an instance EC2 no longer describes left at least
 *   ~1 h before the sweep first saw it gone (persisted across runs);
 * - a runner whose instance EC2 does not describe is removed only when its labels claim it for this
 *   fleet (instance + fleet label) and it is offline; name-only or unclaimed matches need EC2 to
 *   confirm the fleet tag;
 * - a fleet instance running longer than `bootTimeoutMs` without a runner is reported, and
 *   terminated when `allowTerminate`, it is in a configured ASG and not tagged fleetwarden:exempt;
 * - breaker: more removals than max(1, floor(share x fleet size)) refuses them all; so do removals
 *   beyond the rolling budget (max(1, floor(share x fleet runners)) per window, all runs).
 */
export function planSweep(input: SweepInput, config: SweepConfig): SweepPlan {
  if (!input.runners.ok) return refusedOnly(`runner listing failed: ${input.runners.error}`);
  if (!input.fleet.ok) return refusedOnly(`instance listing failed: ${input.fleet.error}`);
  if (input.runners.items.length === 0) return refusedOnly('runner listing came back empty');
  if (input.fleet.items.length === 0) return refusedOnly('instance listing came back empty');

  const { actions, instancesWithRunner, fleetRunners } = judgeRunners(input, input.runners.items, config);
  actions.push(...judgeUnregistered(input, input.fleet.items, instancesWithRunner, config));
  return breaker(input, input.fleet.items, actions, instancesWithRunner, fleetRunners, config);

  function refusedOnly(reason: string): SweepPlan {
    return {
      actions: [],
      refused: `circuit open: ${reason}; nothing judged`,
      refusedBy: 'breaker',
      wouldRemove: 0,
      fleetSize: 0,
    };
  }
}

function locator(input: SweepInput, fleet: InstanceInfo[]): (id: string) => Where {
  const now = input.now.getTime();
  const fleetById = new Map(fleet.map((i) => [i.instanceId, i]));
  const describedById = new Map(input.described.map((i) => [i.instanceId, i]));
  const isFleet = (i: InstanceInfo) => i.tags[input.fleetTag.key] === input.fleetTag.value;
  return (id) => {
    const info = fleetById.get(id) ?? describedById.get(id);
    if (!info) {
      // EC2 forgot the instance: it left at least ~1 h before the sweep first saw it gone
      const first = input.goneSince?.get(id)?.getTime() ?? now;
      return { kind: 'unknown', since: first - EC2_FORGETS_AFTER_MS };
    }
    if (!isFleet(info)) return { kind: 'foreign' };
    if (LEAVING.has(info.state)) {
      const parsed = info.stateChangedAt ? Date.parse(info.stateChangedAt) : Number.NaN;
      if (!Number.isNaN(parsed)) return { kind: 'leaving', info, since: parsed, timeKnown: true };
      // unknown time: the grace runs from the first sighting (never skipped)
      const first = input.leavingSince?.get(id)?.getTime() ?? now;
      return { kind: 'leaving', info, since: first, timeKnown: false };
    }
    if (input.terminating?.has(id)) return { kind: 'leaving', info, since: undefined, timeKnown: false };
    return { kind: 'healthy', info };
  };
}

function judgeRunners(
  input: SweepInput,
  runners: GitHubRunner[],
  config: SweepConfig,
): { actions: SweepAction[]; instancesWithRunner: Set<string>; fleetRunners: number } {
  const where = locator(input, input.fleet.ok ? input.fleet.items : []);
  const actions: SweepAction[] = [];
  const instancesWithRunner = new Set<string>();
  let fleetRunners = 0;
  for (const runner of runners) {
    const match: RunnerMatch | undefined = instanceIdOf(runner);
    if (!match) continue;
    // any runner naming the instance keeps it from being taken for one that never registered
    instancesWithRunner.add(match.instanceId);
    const region = regionOf(runner);
    if (region !== undefined && input.region !== undefined && region !== input.region) continue;
    const fleet = fleetIdOf(runner);
    if (fleet !== undefined && fleet !== input.fleetId) continue;
    const w = where(match.instanceId);
    if (w.kind === 'foreign') continue;
    const claimed = match.by === 'label' && fleet === input.fleetId;
    // the budget's base counts only runners provably this fleet's (EC2 confirms, or its labels claim it)
    if (w.kind !== 'unknown' || claimed) fleetRunners++;
    const action = judgeRunner(input.now.getTime(), runner, match.instanceId, w, claimed, config);
    if (action) actions.push(action);
  }
  return { actions, instancesWithRunner, fleetRunners };
}

function judgeRunner(
  now: number,
  runner: GitHubRunner,
  instanceId: string,
  w: Exclude<Where, { kind: 'foreign' }>,
  claimed: boolean,
  config: SweepConfig,
): SweepAction | undefined {
  const subject = { instanceId, runnerName: runner.name, runnerId: runner.id };
  const report = (finding: Finding, reason: string): SweepAction => ({
    kind: 'report',
    finding,
    subject,
    reason,
  });
  if (w.kind === 'healthy') {
    return runner.busy && runner.status === 'offline'
      ? report(
          'offline-busy',
          `runner ${runner.name} is offline but busy while its instance ${instanceId} is running (a stuck job or a runner that lost GitHub); a busy runner is never removed`,
        )
      : undefined;
  }
  if (w.kind === 'unknown' && !claimed) {
    return report(
      'unverifiable-runner',
      `runner ${runner.name} names ${instanceId}, which EC2 here does not describe; without both the fleetwarden-instance: label and this fleet's fleetwarden-fleet: label its ownership cannot be confirmed, so it is left alone`,
    );
  }
  if (w.kind === 'leaving' && w.info.state === 'stopped' && runner.status === 'online') {
    return report(
      'online-on-stopped-instance',
      `runner ${runner.name} is online but EC2 says its instance ${instanceId} is stopped: the two contradict each other (a misreport?), so nothing is removed`,
    );
  }
  if (runner.busy) {
    if (w.kind !== 'leaving')
      return {
        kind: 'skip',
        runner,
        instanceId,
        reason: `runner ${runner.name} is busy; a busy runner is never removed`,
      };
    return report(
      'busy-on-leaving-instance',
      `runner ${runner.name} is running a job while its instance ${instanceId} is ${w.info.state === 'running' ? 'being terminated by its ASG' : w.info.state}; a busy runner is never removed`,
    );
  }
  if (w.kind === 'unknown' && runner.status === 'online') {
    return report(
      'unverifiable-runner',
      `runner ${runner.name} is online but EC2 here does not describe ${instanceId} (another region or account?); an online runner is never removed on absence from EC2`,
    );
  }
  const since = w.since;
  if (since !== undefined && now - since < config.gracePeriodMs) {
    const age = Math.round((now - since) / 1000);
    const when =
      w.kind === 'unknown'
        ? `EC2 no longer describes instance ${instanceId}: it left at least ${age} s ago (EC2 forgets a terminated instance ~1 h after it left; the sweep first saw it gone ${Math.round((now - since) / 1000) - 3600} s ago)`
        : w.timeKnown
          ? `instance ${instanceId} left ${age} s ago`
          : `instance ${instanceId} is ${w.info.state} since an unknown time (EC2 gave none); the sweep first saw it ${age} s ago`;
    return {
      kind: 'skip',
      runner,
      instanceId,
      reason: `${when}; within the ${config.gracePeriodMs / 1000} s grace period`,
    };
  }
  const gone =
    w.kind === 'unknown'
      ? `EC2 no longer describes it (left at least ${Math.round((now - w.since) / 60_000)} min ago) and the runner is offline`
      : `it is ${w.info.state === 'running' ? 'being terminated by its ASG' : w.info.state}`;
  return {
    kind: 'deregister',
    runner,
    instanceId,
    reason: `runner ${runner.name} is idle and its instance ${instanceId} is gone: ${gone}`,
  };
}

function judgeUnregistered(
  input: SweepInput,
  fleet: InstanceInfo[],
  instancesWithRunner: ReadonlySet<string>,
  config: SweepConfig,
): SweepAction[] {
  const now = input.now.getTime();
  const groups = new Set(input.autoScalingGroupNames ?? []);
  const actions: SweepAction[] = [];
  for (const info of fleet) {
    if (
      info.state !== 'running' ||
      input.terminating?.has(info.instanceId) ||
      instancesWithRunner.has(info.instanceId)
    )
      continue;
    const launched = info.launchTime ? Date.parse(info.launchTime) : now;
    if (now - launched < config.bootTimeoutMs) continue;
    const reason = `instance ${info.instanceId} has been running ${Math.round((now - launched) / 60_000)} min without registering a runner (boot timeout ${config.bootTimeoutMs / 60_000} min)`;
    const group = info.tags['aws:autoscaling:groupName'];
    const notTerminated = !config.allowTerminate
      ? 'terminating is not enabled (allowTerminate)'
      : group === undefined || !groups.has(group)
        ? `it is not in one of the configured Auto Scaling groups (${[...groups].join(', ') || 'none'}), so it is never terminated`
        : isExempt(info.tags)
          ? 'it is tagged fleetwarden:exempt=true, so it is never terminated'
          : undefined;
    actions.push(
      notTerminated === undefined
        ? { kind: 'terminate', instanceId: info.instanceId, reason }
        : {
            kind: 'report',
            finding: 'never-registered',
            subject: { instanceId: info.instanceId },
            reason: `${reason}; ${notTerminated}`,
          },
    );
  }
  return actions;
}

function breaker(
  input: SweepInput,
  fleet: InstanceInfo[],
  actions: SweepAction[],
  instancesWithRunner: ReadonlySet<string>,
  fleetRunners: number,
  config: SweepConfig,
): SweepPlan {
  const fleetSize = Math.max(fleetRunners, fleet.length);
  const isRemoval = (a: SweepAction) => a.kind === 'deregister' || a.kind === 'terminate';
  const wouldRemove = actions.filter(isRemoval).length;
  const refuse = (refusedBy: 'breaker' | 'budget', refused: string): SweepPlan => ({
    actions: actions.filter((a) => !isRemoval(a)),
    refused,
    refusedBy,
    wouldRemove,
    fleetSize,
    fleetRunners,
  });
  const matchedFleet = fleet.filter((i) => instancesWithRunner.has(i.instanceId)).length;
  const unregistered = actions.filter(
    (a) => a.kind === 'terminate' || (a.kind === 'report' && a.finding === 'never-registered'),
  ).length;
  if (matchedFleet === 0 && unregistered > 0) {
    return refuse(
      'breaker',
      `circuit open: no runner matches any of the fleet's ${fleet.length} instances while ${unregistered} are past the boot timeout; the runner label convention is probably broken; nothing removed`,
    );
  }
  const allowed = Math.max(1, Math.floor(config.maxRemovalShare * fleetSize));
  if (wouldRemove > allowed) {
    return refuse(
      'breaker',
      `circuit open: ${wouldRemove} removals out of a fleet of ${fleetSize} exceed the allowed ${Math.round(config.maxRemovalShare * 100)}% (${allowed}); nothing removed`,
    );
  }
  const cap = config.maxRemovalsPerRun ?? DEFAULT_SWEEP_CONFIG.maxRemovalsPerRun ?? 100;
  if (input.removalsInWindow !== undefined && wouldRemove > 0) {
    const budget = Math.max(1, Math.floor(config.maxRemovalShare * fleetRunners));
    const taking = Math.min(wouldRemove, cap);
    if (input.removalsInWindow + taking > budget) {
      const window = Math.round(
        (config.budgetWindowMs ?? DEFAULT_SWEEP_CONFIG.budgetWindowMs ?? 3_600_000) / 60_000,
      );
      return refuse(
        'budget',
        `circuit open: removal budget spent: ${input.removalsInWindow} removals in the last ${window} min, ${taking} more would exceed the ${budget} allowed per ${window} min (max(1, ${Math.round(config.maxRemovalShare * 100)}% of ${fleetRunners} fleet runners listed)); nothing removed`,
      );
    }
  }
  if (wouldRemove <= cap) return { actions, wouldRemove, fleetSize, fleetRunners };
  let kept = 0;
  const deferred: Deferred[] = [];
  const capped = actions.filter((a) => {
    if (!isRemoval(a)) return true;
    if (kept < cap) {
      kept++;
      return true;
    }
    if (a.kind === 'deregister')
      deferred.push({ kind: 'deregister', instanceId: a.instanceId, runnerId: a.runner.id });
    else if (a.kind === 'terminate') deferred.push({ kind: 'terminate', instanceId: a.instanceId });
    return false;
  });
  return { actions: capped, wouldRemove, fleetSize, fleetRunners, deferred };
}

/**
 * The re-check just before terminating: a fleet instance is judged never-registered from its
 * runner's absence in one offset-paginated listing of a live list, where a concurrent delete can
 * make a runner skip a page. `confirmation` is a second look (name lookups and a second listing):
 * a termination whose instance has a runner there is withdrawn; a failed second look withdraws
 * every termination (reported, never acted on).
 */
export function confirmTerminations(plan: SweepPlan, confirmation: Listing<GitHubRunner>): SweepPlan {
  if (!plan.actions.some((a) => a.kind === 'terminate')) return plan;
  const found = new Map<string, GitHubRunner>();
  if (confirmation.ok) {
    for (const r of confirmation.items) {
      const id = instanceIdOf(r)?.instanceId;
      if (id) found.set(id, r);
    }
  }
  const actions = plan.actions.map((a): SweepAction => {
    if (a.kind !== 'terminate') return a;
    if (!confirmation.ok) {
      return {
        kind: 'report',
        finding: 'never-registered',
        subject: { instanceId: a.instanceId },
        reason: `${a.reason}; the re-check before terminating failed (${confirmation.error}), so it is not terminated`,
      };
    }
    const r = found.get(a.instanceId);
    return r
      ? {
          kind: 'keep',
          instanceId: a.instanceId,
          reason: `a second look found runner ${r.name} (${r.busy ? 'busy' : r.status}) for ${a.instanceId}, missed by the first listing; not terminating`,
        }
      : a;
  });
  return { ...plan, actions };
}
