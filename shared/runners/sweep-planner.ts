import type { InstanceInfo } from '../ec2/port';
import type { GitHubRunner } from '../github/port';
import { fleetIdOf, instanceIdOf, isExempt, type RunnerMatch, regionOf } from './matching';
import { carriesPoolLabels } from './pool';

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
   * max(1, floor(maxRemovalShare x the fleet's instances EC2 describes with a runner)), and
   * removals of runners whose instance EC2 does not describe take at most half of that (at least
   * one). @default 3600 s
   */
  budgetWindowMs?: number;
  /**
   * Removal kinds made only once a human approves each (runner-sweep: terminate): without an
   * approval they are only proposed, so the rolling budget does not judge them here (the sweep
   * spends their unit when one is approved and made); the share and maxRemovalsPerRun still do.
   */
  approvedOnly?: ReadonlyArray<'deregister' | 'terminate'>;
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
  /**
   * The pool's labels: a runner without every one of them is another pool's (in the same GitHub
   * scope), never touched. Absent or empty: no pool restriction.
   */
  labels?: readonly string[];
  /** When the sweep first saw each instance id gone (EC2 no longer describes it), persisted across runs. */
  goneSince?: ReadonlyMap<string, Date>;
  /** When the sweep first saw each leaving instance whose state-transition time EC2 did not give. */
  leavingSince?: ReadonlyMap<string, Date>;
  /** Removals recorded in the rolling budget window (all runs); absent: no rolling budget. */
  removalsInWindow?: number;
  /** Of those, removals of runners whose instance EC2 did not describe (`unconfirmed`). */
  unconfirmedRemovalsInWindow?: number;
  /**
   * The configured ASGs' warm-pool instances ([instance id, Warmed:* state]), or the failure to
   * read them; absent: not read (no configured groups).
   */
  warmPool?: Listing<[string, string]>;
}

export type Finding =
  | 'never-registered'
  | 'busy-on-leaving-instance'
  | 'unverifiable-runner'
  | 'online-on-leaving-instance'
  | 'offline-busy';

/**
 * The stable facts of a removal, what a human approves when the breaker or the budget refuses the
 * run (the proposal's fingerprint is computed over them): ids, and why it is a ghost, never an age
 * or "now", so the same removal planned again later has the same facts.
 */
export type RemovalFacts = Readonly<Record<string, string | number>>;

export type SweepAction =
  | {
      kind: 'deregister';
      runner: GitHubRunner;
      instanceId: string;
      reason: string;
      /** EC2 does not describe its instance: only the runner's own labels claim it (anyone can register such a runner). */
      unconfirmed?: boolean;
      /** EC2 shows its instance running while its ASG terminates it: runner-drain's, the sweep only helps. */
      handoff?: boolean;
      facts: RemovalFacts;
    }
  | { kind: 'terminate'; instanceId: string; reason: string; facts: RemovalFacts }
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
  /**
   * Why it waits when not for `maxRemovalsPerRun`: the unconfirmed-removal budget, the drain's
   * (handoff), or the rolling budget, which had room for only older ghosts this window (`budget`).
   */
  why?: 'unconfirmed-budget' | 'drain-handoff' | 'budget';
}

export interface SweepPlan {
  actions: SweepAction[];
  /** Set when the circuit breaker refused the run; no removal is in `actions` then. */
  refused?: string;
  /** What refused it: the per-run breaker (inputs, share) or the rolling removal budget. */
  refusedBy?: 'breaker' | 'budget';
  /** Removals the run would have made (before the breaker). */
  wouldRemove: number;
  /**
   * max(fleetRunners, the fleet instances EC2 lists): what the per-run share is measured against.
   * Never GitHub's listing: anyone who can register a runner could enlarge it.
   */
  fleetSize: number;
  /**
   * The fleet's instances EC2 describes (fleet tag, configured ASG) that a runner of this fleet
   * names, each counted once: what the rolling budget is measured against.
   */
  fleetRunners?: number;
  /** Removals beyond `maxRemovalsPerRun`, left for the next run. */
  deferred?: Deferred[];
  /**
   * Set when the rolling budget had room for some of the confirmed removals only: the oldest ghosts
   * up to what the window has left are in `actions`, the rest deferred (`budget`). Not a refusal
   * (`refused` unset), but on-call is told as for one (SweepBudgetExhausted).
   */
  budgetSpent?: string;
  /**
   * Set when the breaker's share or the rolling budget refused the run from inputs fit to judge
   * from: the removals it would have made (confirmed first, at most `maxRemovalsPerRun`), for a
   * human to approve. Never set when a listing failed or came back empty, nor when the label
   * convention looks broken (what it would remove is then itself in doubt).
   */
  wouldHave?: Removal[];
}

const LEAVING = new Set<InstanceInfo['state']>(['shutting-down', 'stopping', 'stopped', 'terminated']);

type Where =
  | { kind: 'healthy'; info: InstanceInfo }
  /** `since` undefined: the ASG is terminating it (a fact read now; the drain hook holds it). */
  | { kind: 'leaving'; info: InstanceInfo; since: number | undefined; timeKnown: boolean }
  | { kind: 'foreign' }
  | { kind: 'unknown'; since: number }
  /** Stopped (or stopping) in a warm pool, or possibly so when the pool could not be read: it comes back. */
  | { kind: 'warm'; info: InstanceInfo; why: string };

/** EC2 states a scale-in into a warm pool puts an instance in (never terminated or shutting-down). */
const PARKED = new Set<InstanceInfo['state']>(['stopping', 'stopped']);

/**
 * Pure sweep decision (runner-sweep applies it). Rules, in order:
 * - breaker inputs: a failed or empty listing refuses the run (never judge from partial data);
 * - runners with no instance match, or labelled with another fleet id or region, are not touched;
 * - a busy runner is never removed (on a leaving instance, or offline on a running one: reported);
 * - an online runner on an instance EC2 shows leaving (stopped, or past the grace period
 *   terminated, shutting down, stopping) is a contradiction: reported, never removed (GitHub marks
 *   a runner offline within minutes of its host going); only offline runners are removed;
 * - an instance is the fleet's when it carries the fleet tag AND, when ASGs are configured, its
 *   `aws:autoscaling:groupName` (a tag no user can write) is one of them;
 * - an idle runner whose instance left (terminated, shutting down, stopped, or being terminated by
 *   the ASG) is deregistered once `gracePeriodMs` passed since it left; with no readable time the
 *   grace runs from the sweep's first sighting; an instance EC2 no longer describes left at least
 *   ~1 h before the sweep first saw it gone (persisted across runs);
 * - a stopped (or stopping) instance Auto Scaling shows in a warm pool (`Warmed:*`) has not left:
 *   its runner is skipped, never deregistered nor reported as leaving; when the warm pool could not
 *   be read, no stopped instance is taken for a departure (skipped) and nothing is terminated;
 * - a runner whose instance EC2 does not describe is removed only when its labels claim it for this
 *   fleet (instance + fleet label) and it is offline; name-only or unclaimed matches need EC2 to
 *   confirm the fleet tag;
 * - a fleet instance running longer than `bootTimeoutMs` without a runner is reported, and
 *   terminated when `allowTerminate`, it is in a configured ASG and not tagged fleetwarden:exempt
 *   (a warm-pool instance, `Warmed:Running` included, is not taken for one that never registered);
 * - the base of the share and the budget is what EC2 confirms (fleet instances, and those of them
 *   a runner names), never GitHub's listing;
 * - breaker: more removals EC2 confirms (instance described leaving) than max(1, floor(share x
 *   fleet size)) refuses them all; so do those beyond the rolling budget (max(1, floor(share x
 *   fleet runners)) per window, all runs);
 * - removals of runners whose instance EC2 does not describe (unconfirmed: their own labels are the
 *   only claim) come after the confirmed ones, never trip the breaker, and take at most what the
 *   share and the budget leave, and at most half the budget (at least 1) per window: the rest wait;
 * - removals of idle runners of instances EC2 shows running while their ASG terminates them
 *   (runner-drain's; the sweep only helps) never trip the breaker either: they take what the share
 *   and the budget leave after the others, minus one unit of the budget kept for the ghosts only
 *   the sweep removes; the rest wait (deferred, `drain-handoff`).
 */
export function planSweep(input: SweepInput, config: SweepConfig): SweepPlan {
  if (!input.runners.ok) return refusedOnly(`runner listing failed: ${input.runners.error}`);
  if (!input.fleet.ok) return refusedOnly(`instance listing failed: ${input.fleet.error}`);
  if (input.runners.items.length === 0) return refusedOnly('runner listing came back empty');
  if (input.fleet.items.length === 0) return refusedOnly('instance listing came back empty');

  const { actions, instancesWithRunner, fleetRunners } = judgeRunners(input, input.runners.items, config);
  actions.push(...judgeUnregistered(input, input.fleet.items, instancesWithRunner, config));
  const isFleet = fleetMembership(input);
  const fleetSize = Math.max(fleetRunners, input.fleet.items.filter(isFleet).length);
  const base = { fleetSize, fleetRunners };
  return breaker(input, input.fleet.items, actions, instancesWithRunner, base, config);

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

/**
 * The fleet's instances: the fleet tag (anyone can set it) and, when ASGs are configured, one of
 * them in `aws:autoscaling:groupName` (set by Auto Scaling; users cannot write `aws:` tags).
 */
function fleetMembership(input: SweepInput): (i: InstanceInfo) => boolean {
  const groups = new Set(input.autoScalingGroupNames ?? []);
  return (i) =>
    i.tags[input.fleetTag.key] === input.fleetTag.value &&
    (groups.size === 0 || groups.has(i.tags['aws:autoscaling:groupName'] ?? ''));
}

function locator(input: SweepInput, fleet: InstanceInfo[]): (id: string) => Where {
  const now = input.now.getTime();
  const fleetById = new Map(fleet.map((i) => [i.instanceId, i]));
  const describedById = new Map(input.described.map((i) => [i.instanceId, i]));
  const isFleet = fleetMembership(input);
  const warmStates = new Map(input.warmPool?.ok ? input.warmPool.items : []);
  return (id) => {
    const info = fleetById.get(id) ?? describedById.get(id);
    if (!info) {
      // EC2 forgot the instance: it left at least ~1 h before the sweep first saw it gone
      const first = input.goneSince?.get(id)?.getTime() ?? now;
      return { kind: 'unknown', since: first - EC2_FORGETS_AFTER_MS };
    }
    if (!isFleet(info)) return { kind: 'foreign' };
    const warm = PARKED.has(info.state) ? warmth(input.warmPool, warmStates, id) : undefined;
    if (warm) return { kind: 'warm', info, why: warm };
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

/** Why a parked instance is not taken for a departure, or undefined when it is not in a warm pool. */
function warmth(
  pool: SweepInput['warmPool'],
  states: ReadonlyMap<string, string>,
  id: string,
): string | undefined {
  if (pool === undefined) return undefined;
  if (!pool.ok)
    return `the warm pool could not be read (${pool.error}), so whether instance ${id} is parked there is unknown; its stopped state is not taken for a departure this run`;
  const state = states.get(id);
  return state
    ? `instance ${id} is stopped in its Auto Scaling group's warm pool (${state}): it comes back, so its runner stays registered`
    : undefined;
}

function judgeRunners(
  input: SweepInput,
  runners: GitHubRunner[],
  config: SweepConfig,
): { actions: SweepAction[]; instancesWithRunner: Set<string>; fleetRunners: number } {
  const where = locator(input, input.fleet.ok ? input.fleet.items : []);
  const actions: SweepAction[] = [];
  const instancesWithRunner = new Set<string>();
  // instances EC2 describes as the fleet's that a runner of this fleet names (a set: many runners
  // naming one instance count once)
  const confirmed = new Set<string>();
  for (const runner of runners) {
    const match: RunnerMatch | undefined = instanceIdOf(runner);
    if (!match) continue;
    // any runner naming the instance keeps it from being taken for one that never registered
    instancesWithRunner.add(match.instanceId);
    const region = regionOf(runner);
    if (region !== undefined && input.region !== undefined && region !== input.region) continue;
    const fleet = fleetIdOf(runner);
    if (fleet !== undefined && fleet !== input.fleetId) continue;
    if (!carriesPoolLabels(runner, input.labels ?? [])) continue;
    const w = where(match.instanceId);
    if (w.kind === 'foreign') continue;
    const claimed = match.by === 'label' && fleet === input.fleetId;
    // the base counts only what EC2 confirms: a runner's labels are no proof (anyone can register one)
    if (w.kind !== 'unknown') confirmed.add(match.instanceId);
    const action = judgeRunner(input.now.getTime(), runner, match.instanceId, w, claimed, config);
    if (action) actions.push(action);
  }
  return { actions, instancesWithRunner, fleetRunners: confirmed.size };
}

function judgeRunner(
  now: number,
  runner: GitHubRunner,
  instanceId: string,
  w: Exclude<Where, { kind: 'foreign' }>,
  claimed: boolean,
  config: SweepConfig,
): SweepAction | undefined {
  if (w.kind === 'healthy') {
    return runner.busy && runner.status === 'offline'
      ? runnerReport(
          runner,
          instanceId,
          'offline-busy',
          `runner ${runner.name} is offline but busy while its instance ${instanceId} is running (a stuck job or a runner that lost GitHub); a busy runner is never removed`,
        )
      : undefined;
  }
  if (w.kind === 'warm')
    return { kind: 'skip', runner, instanceId, reason: `runner ${runner.name}: ${w.why}` };
  return (
    keepRunner(now, runner, instanceId, w, claimed, config) ??
    withinGrace(now, runner, instanceId, w, config) ??
    deregistration(now, runner, instanceId, w)
  );
}

type Departed = Extract<Where, { kind: 'leaving' | 'unknown' }>;

function runnerReport(
  runner: GitHubRunner,
  instanceId: string,
  finding: Finding,
  reason: string,
): SweepAction {
  return {
    kind: 'report',
    finding,
    subject: { instanceId, runnerName: runner.name, runnerId: runner.id },
    reason,
  };
}

/** A runner of a leaving or unknown instance that is never removed: unverifiable, busy or contradicted. */
function keepRunner(
  now: number,
  runner: GitHubRunner,
  instanceId: string,
  w: Departed,
  claimed: boolean,
  config: SweepConfig,
): SweepAction | undefined {
  if (w.kind === 'unknown' && !claimed) {
    return runnerReport(
      runner,
      instanceId,
      'unverifiable-runner',
      `runner ${runner.name} names ${instanceId}, which EC2 here does not describe; without both the fleetwarden-instance: label and this fleet's fleetwarden-fleet: label its ownership cannot be confirmed, so it is left alone`,
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
    return runnerReport(
      runner,
      instanceId,
      'busy-on-leaving-instance',
      `runner ${runner.name} is running a job while its instance ${instanceId} is ${w.info.state === 'running' ? 'being terminated by its ASG' : w.info.state}; a busy runner is never removed`,
    );
  }
  if (contradicts(now, runner, w, config))
    return runnerReport(
      runner,
      instanceId,
      'online-on-leaving-instance',
      `runner ${runner.name} is online but EC2 says its instance ${instanceId} is ${w.kind === 'leaving' ? w.info.state : 'leaving'}: the two contradict each other (a misreport?), so nothing is removed`,
    );
  if (w.kind === 'unknown' && runner.status === 'online') {
    return runnerReport(
      runner,
      instanceId,
      'unverifiable-runner',
      `runner ${runner.name} is online but EC2 here does not describe ${instanceId} (another region or account?); an online runner is never removed on absence from EC2`,
    );
  }
  return undefined;
}

/** A skip while the instance left less than the grace period ago. */
function withinGrace(
  now: number,
  runner: GitHubRunner,
  instanceId: string,
  w: Departed,
  config: SweepConfig,
): SweepAction | undefined {
  const since = w.since;
  if (since === undefined || now - since >= config.gracePeriodMs) return undefined;
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

function deregistration(now: number, runner: GitHubRunner, instanceId: string, w: Departed): SweepAction {
  const stopped = w.kind === 'leaving' && PARKED.has(w.info.state);
  const facts = {
    runnerId: runner.id,
    runnerName: runner.name,
    instanceId,
    // one-way departures (terminating, terminated, forgotten by EC2) are one fact: it does not
    // change while the instance goes from shutting-down to terminated to gone
    ghost: stopped ? 'instance stopped' : 'instance terminated',
  };
  const gone =
    w.kind === 'unknown'
      ? `EC2 no longer describes it (left at least ${Math.round((now - w.since) / 60_000)} min ago) and the runner is offline`
      : `it is ${w.info.state === 'running' ? 'being terminated by its ASG' : w.info.state}`;
  return {
    kind: 'deregister',
    runner,
    instanceId,
    reason: `runner ${runner.name} is idle and its instance ${instanceId} is gone: ${gone}`,
    ...(w.kind === 'unknown' ? { unconfirmed: true } : {}),
    ...(w.kind === 'leaving' && w.since === undefined ? { handoff: true } : {}),
    facts,
  };
}

/**
 * An online runner on an instance EC2 shows leaving: stopped at once; terminated, shutting down or
 * stopping once the grace period passed (a host going down may keep its runner online for a
 * minute; GitHub marks it offline within minutes). Not for an instance EC2 shows running that its
 * ASG is terminating (the drain hook holds it; its runner is legitimately online).
 */
function contradicts(now: number, runner: GitHubRunner, w: Where, config: SweepConfig): boolean {
  if (w.kind !== 'leaving' || !LEAVING.has(w.info.state) || runner.status !== 'online') return false;
  const inGrace = w.since !== undefined && now - w.since < config.gracePeriodMs;
  return w.info.state === 'stopped' || !inGrace;
}

function judgeUnregistered(
  input: SweepInput,
  fleet: InstanceInfo[],
  instancesWithRunner: ReadonlySet<string>,
  config: SweepConfig,
): SweepAction[] {
  const now = input.now.getTime();
  const groups = new Set(input.autoScalingGroupNames ?? []);
  // a warm-pool instance (Warmed:Running included) is parked by its ASG, not one that failed to register
  const warm = new Set(input.warmPool?.ok ? input.warmPool.items.map(([id]) => id) : []);
  const actions: SweepAction[] = [];
  for (const info of fleet) {
    if (
      info.state !== 'running' ||
      input.terminating?.has(info.instanceId) ||
      instancesWithRunner.has(info.instanceId) ||
      warm.has(info.instanceId)
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
          : input.warmPool?.ok === false
            ? `the warm pool could not be read (${input.warmPool.error}), so it may be a warm-pool instance and is not terminated this run`
            : undefined;
    actions.push(
      notTerminated === undefined
        ? {
            kind: 'terminate',
            instanceId: info.instanceId,
            reason,
            facts: {
              instanceId: info.instanceId,
              autoScalingGroupName: group ?? '',
              launchTime: info.launchTime ?? '',
              ghost: 'never registered a runner',
            },
          }
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

export type Removal = Extract<SweepAction, { kind: 'deregister' | 'terminate' }>;
const isRemoval = (a: SweepAction): a is Removal => a.kind === 'deregister' || a.kind === 'terminate';
const isUnconfirmed = (a: SweepAction) => a.kind === 'deregister' && a.unconfirmed === true;
const isHandoff = (a: SweepAction) => a.kind === 'deregister' && a.handoff === true;

function breaker(
  input: SweepInput,
  fleet: InstanceInfo[],
  actions: SweepAction[],
  instancesWithRunner: ReadonlySet<string>,
  base: { fleetSize: number; fleetRunners: number },
  config: SweepConfig,
): SweepPlan {
  const { fleetSize, fleetRunners } = base;
  const confirmed = actions.filter((a) => isRemoval(a) && !isUnconfirmed(a) && !isHandoff(a));
  const unconfirmed = actions.filter(isUnconfirmed);
  const handoff = actions.filter(isHandoff);
  const wouldRemove = confirmed.length + unconfirmed.length + handoff.length;
  const cap = config.maxRemovalsPerRun ?? DEFAULT_SWEEP_CONFIG.maxRemovalsPerRun ?? 100;
  const refuse = (refusedBy: 'breaker' | 'budget', refused: string, proposable = true): SweepPlan => ({
    actions: actions.filter((a) => !isRemoval(a)),
    refused,
    refusedBy,
    wouldRemove,
    fleetSize,
    fleetRunners,
    ...(proposable && wouldRemove > 0
      ? { wouldHave: ([...confirmed, ...unconfirmed, ...handoff] as Removal[]).slice(0, cap) }
      : {}),
  });
  const broken = conventionBroken(fleet, actions, instancesWithRunner);
  if (broken) return refuse('breaker', broken, false);
  const allowed = Math.max(1, Math.floor(config.maxRemovalShare * fleetSize));
  if (confirmed.length > allowed) {
    return refuse(
      'breaker',
      `circuit open: ${confirmed.length} removals out of a fleet of ${fleetSize} (instances EC2 describes) exceed the allowed ${Math.round(config.maxRemovalShare * 100)}% (${allowed}); nothing removed`,
    );
  }
  const approvedOnly = new Set(config.approvedOnly ?? []);
  const spends = (a: SweepAction) => !approvedOnly.has(a.kind as Removal['kind']);
  const ordered = oldestFirst(input, confirmed);
  const over = overBudget(input, config, fleetRunners, ordered.slice(0, cap).filter(spends).length);
  if (over && over.left <= 0) return refuse('budget', `circuit open: ${over.message}; nothing removed`);
  const chosen = withinBudget(ordered, cap, spends, over?.left);
  const taking = chosen.taken.length;
  const room = unconfirmedRoom(input, config, {
    allowed,
    taking: chosen.spent,
    confirmed: confirmed.length,
    fleetRunners,
  });
  if (unconfirmed.length > 0 && taking === 0 && room <= 0 && input.removalsInWindow !== undefined)
    return refuse('budget', unconfirmedSpent(input, unconfirmed.length));
  const unconfirmedTaken = Math.max(0, Math.min(unconfirmed.length, room, cap - taking));
  const kept = new Set<SweepAction>([
    ...chosen.taken,
    ...unconfirmed.slice(0, unconfirmedTaken),
    ...handoff.slice(
      0,
      handoffRoom(input, config, { allowed, fleetRunners, cap }, taking + unconfirmedTaken),
    ),
  ]);
  const { out, deferred } = deferRest(actions, kept, (a) =>
    isUnconfirmed(a) && unconfirmed.indexOf(a) >= room
      ? 'unconfirmed-budget'
      : over && confirmed.includes(a)
        ? 'budget'
        : undefined,
  );
  const cut = deferred.filter((d) => d.why === 'budget').length;
  return {
    actions: out,
    wouldRemove,
    fleetSize,
    fleetRunners,
    ...(deferred.length ? { deferred } : {}),
    ...(over
      ? {
          budgetSpent: `${over.message}; the oldest ${chosen.spent} removed, ${cut} deferred to a later window`,
        }
      : {}),
  };
}

/** Why the breaker opens on the runner label convention: no runner matches any fleet instance. */
function conventionBroken(
  fleet: InstanceInfo[],
  actions: SweepAction[],
  instancesWithRunner: ReadonlySet<string>,
): string | undefined {
  const matchedFleet = fleet.filter((i) => instancesWithRunner.has(i.instanceId)).length;
  const unregistered = actions.filter(
    (a) => a.kind === 'terminate' || (a.kind === 'report' && a.finding === 'never-registered'),
  ).length;
  if (matchedFleet > 0 || unregistered === 0) return undefined;
  return `circuit open: no runner matches any of the fleet's ${fleet.length} instances while ${unregistered} are past the boot timeout; the runner label convention is probably broken; nothing removed`;
}

/** The refusal of a run whose only removals wait on the budget for unconfirmed ghosts. */
const unconfirmedSpent = (input: SweepInput, waiting: number) =>
  `circuit open: removal budget spent for runners whose instance EC2 does not describe (${waiting} waiting; ${input.unconfirmedRemovalsInWindow ?? 0} such and ${input.removalsInWindow} removals in all in the window); nothing removed`;

/** The confirmed removals, the ghost whose instance left first (EC2's state time) first; stable. */
function oldestFirst(input: SweepInput, confirmed: SweepAction[]): SweepAction[] {
  const at = new Map(
    [...(input.fleet.ok ? input.fleet.items : []), ...input.described].map((i) => [
      i.instanceId,
      i.stateChangedAt ? Date.parse(i.stateChangedAt) : Number.NaN,
    ]),
  );
  const key = (a: SweepAction) => {
    const t = 'instanceId' in a ? at.get(a.instanceId) : undefined;
    return t === undefined || Number.isNaN(t) ? Number.POSITIVE_INFINITY : t;
  };
  return confirmed
    .map((a, k) => ({ a, k, t: key(a) }))
    .sort((x, y) => (x.t === y.t ? x.k - y.k : x.t < y.t ? -1 : 1))
    .map(({ a }) => a);
}

/** At most `cap` removals, oldest first, of which at most `units` spend the rolling budget. */
function withinBudget(
  ordered: SweepAction[],
  cap: number,
  spends: (a: SweepAction) => boolean,
  units = Number.POSITIVE_INFINITY,
): { taken: SweepAction[]; spent: number } {
  const taken: SweepAction[] = [];
  let spent = 0;
  for (const a of ordered) {
    if (taken.length >= cap) break;
    if (spends(a) && spent >= units) continue;
    if (spends(a)) spent++;
    taken.push(a);
  }
  return { taken, spent };
}

/**
 * Whether the `taking` confirmed removals that spend the rolling budget exceed what the window has
 * left: how many units it has left (0 or less: refused), and what on-call is told.
 */
function overBudget(
  input: SweepInput,
  config: SweepConfig,
  fleetRunners: number,
  taking: number,
): { left: number; message: string } | undefined {
  const w = windowLeft(input, config, fleetRunners);
  if (!w || taking <= w.left) return undefined;
  const { budget, left } = w;
  const window = Math.round(
    (config.budgetWindowMs ?? DEFAULT_SWEEP_CONFIG.budgetWindowMs ?? 3_600_000) / 60_000,
  );
  return {
    left,
    message: `removal budget spent: ${input.removalsInWindow} removals in the last ${window} min, ${taking} more would exceed the ${budget} allowed per ${window} min (max(1, ${Math.round(config.maxRemovalShare * 100)}% of the ${fleetRunners} fleet instances EC2 describes with a runner))`,
  };
}

/** The plan's actions without the removals not kept, and those removals as deferred, each with why. */
function deferRest(
  actions: SweepAction[],
  kept: ReadonlySet<SweepAction>,
  why: (a: SweepAction) => Deferred['why'],
): { out: SweepAction[]; deferred: Deferred[] } {
  const deferred: Deferred[] = [];
  const out = actions.filter((a) => {
    if (!isRemoval(a) || kept.has(a)) return true;
    const reason = isHandoff(a) ? 'drain-handoff' : why(a);
    deferred.push({
      kind: a.kind,
      instanceId: a.instanceId,
      ...(a.kind === 'deregister' ? { runnerId: a.runner.id } : {}),
      ...(reason ? { why: reason } : {}),
    });
    return false;
  });
  return { out, deferred };
}

/**
 * How many runners of instances their ASG is terminating (runner-drain's: the sweep only helps) this
 * run may remove after the `taken` others: what the per-run share leaves, and with a rolling budget
 * what it leaves minus one unit, kept for the ghosts only the sweep removes (a spot-interrupted
 * instance's). They never open the circuit: a scale-in once spent the whole budget and tripped the
 * breaker while such a ghost waited two windows.
 */
function handoffRoom(
  input: SweepInput,
  config: SweepConfig,
  run: { allowed: number; fleetRunners: number; cap: number },
  taken: number,
): number {
  const perRun = Math.min(run.allowed, run.cap) - taken;
  const w = windowLeft(input, config, run.fleetRunners);
  if (!w) return Math.max(0, perRun);
  return Math.max(0, Math.min(perRun, w.left - taken - 1));
}

/** The rolling budget of the window and the units it has left, when the window's removals are known. */
function windowLeft(
  input: SweepInput,
  config: SweepConfig,
  fleetRunners: number,
): { budget: number; left: number } | undefined {
  if (input.removalsInWindow === undefined) return undefined;
  const budget = removalBudget(config.maxRemovalShare, fleetRunners);
  return { budget, left: budget - input.removalsInWindow };
}

/**
 * The rolling removal budget: removals allowed in any window, max(1, floor(share x the fleet's
 * instances EC2 describes with a runner)). The planner refuses plans beyond it; runner-sweep
 * reserves the plan's removals against the same limit in the persisted ledger before acting.
 */
export function removalBudget(maxRemovalShare: number, fleetRunners: number): number {
  return Math.max(1, Math.floor(maxRemovalShare * fleetRunners));
}

/**
 * How many unconfirmed removals this run may make after the `taking` confirmed ones: what the
 * per-run share leaves, and with a rolling budget what it leaves, capped at half of it (at least 1)
 * per window, so runners anyone can register never spend the budget the real removals need.
 */
function unconfirmedRoom(
  input: SweepInput,
  config: SweepConfig,
  run: { allowed: number; taking: number; confirmed: number; fleetRunners: number },
): number {
  const perRun = run.allowed - run.confirmed;
  const w = windowLeft(input, config, run.fleetRunners);
  if (!w) return perRun;
  const { budget, left } = w;
  const half = Math.max(1, Math.floor(budget / 2)) - (input.unconfirmedRemovalsInWindow ?? 0);
  return Math.min(perRun, left - run.taking, half);
}

/**
 * The re-check just before terminating: a fleet instance is judged never-registered from its
 * runner's absence in one offset-paginated listing of a live list, where a concurrent delete can
 * make a runner skip a page. `confirmation` is a second look (name lookups and a second listing):
 * a termination whose instance has a runner there is withdrawn; a failed second look withdraws
 * every termination (reported, never acted on).
 */
export function confirmTerminations(plan: SweepPlan, confirmation: Listing<GitHubRunner>): SweepPlan {
  const terminating = (a: SweepAction) => a.kind === 'terminate';
  if (!plan.actions.some(terminating) && !plan.wouldHave?.some(terminating)) return plan;
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
  // a refused run's terminations (a proposal) face the same second look; a failed one withdraws them
  const wouldHave = plan.wouldHave?.filter(
    (a) => a.kind !== 'terminate' || (confirmation.ok && !found.has(a.instanceId)),
  );
  return { ...plan, actions, ...(wouldHave ? { wouldHave } : {}) };
}
