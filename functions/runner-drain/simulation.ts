/**
 * runner-drain in the simulator: another team's terminate hook on the runner ASG, warm-pool
 * scale-ins (and a launch into the warm pool), GitHub answering the drain's runner DELETE 5xx; the
 * fleet touches only its own hook, keeps a warm-pool runner registered, never lets its hook expire
 * with the runner registered and never holds an instance that is launching, not leaving.
 */
import { ASG } from '../../cli/simulate/fleet-model';
import type { MutatingCall } from '../../cli/simulate/journal';
import {
  configuredAsgs,
  enqueueTo,
  type Invariant,
  invariant,
  type RemediationSimulation,
  rel,
  relTime,
} from '../../cli/simulate/remediation-simulation';
import type { Engine } from '../../cli/simulate/scenario';
import { scopeKey } from '../../shared/aws/scope';
import { GitHubApiError } from '../../shared/github/errors';
import type { InMemoryRunnerRegistry } from '../../shared/github/in-memory-runner-registry';
import { TERMINATE_LIFECYCLE_DETAIL_TYPE } from '../../shared/runners/lifecycle-event';

/** Another team's terminate hook on the runner ASG (a log shipper flushing before the instance goes). */
export const FOREIGN_HOOK = { name: 'log-shipper-flush', heartbeatTimeoutMs: 120_000 };

/** The instance launching into the warm pool (--warm-pool-scale-in), and its launch hook. */
export const WARM_LAUNCH = { instanceId: 'i-0feedfacefeed0001', hook: 'warm-up-bootstrap' };

/**
 * --warm-pool-scale-in: besides the scale-ins, one instance of the runner ASG launches into the warm
 * pool and waits in Warmed:Pending:Wait on another owner's launch hook (a slow bootstrap, 2 h
 * heartbeat timeout): it is not leaving, and the fleet's terminate hook has no action on it. The
 * scheduled look sees it every minute (AWS, "Use lifecycle hooks with a warm pool").
 */
function installWarmLaunch(e: Engine): void {
  e.world.lifecycleActions.begin(
    {
      autoScalingGroupName: ASG,
      lifecycleHookName: WARM_LAUNCH.hook,
      lifecycleActionToken: 'token-warm-launch',
      instanceId: WARM_LAUNCH.instanceId,
    },
    7_200_000,
    { warmPool: true, launch: true },
  );
}

/** What the drain's watches saw, and the delete errors' count. */
interface DrainWatch {
  /** Fleet hooks that timed out before the drain deadline with their runner still registered. */
  expiredHeld: string[];
  /** DELETE runner calls of runner-drain answered 5xx (--github-delete-errors). */
  deleteErrors: number;
  /**
   * The instances whose terminate lifecycle events were all lost (--lost-lifecycle-events), by the
   * scope they run in (`hub`, or a spoke's `account/region`; `<scope> warm` for the one back into
   * the warm pool): one of each per scope.
   */
  lostEvents: Map<string, string>;
}
const watches = new WeakMap<Engine, DrainWatch>();

export function drainWatch(e: Engine): DrainWatch {
  let s = watches.get(e);
  if (!s) {
    s = { expiredHeld: [], deleteErrors: 0, lostEvents: new Map() };
    watches.set(e, s);
  }
  return s;
}

/**
 * --github-delete-errors: GitHub answers runner-drain's DELETE of a runner 5xx for two heartbeat
 * timeouts from the drain's first try, for every other fleet scale-in. Not an injected invocation
 * error: the drain is to hold the hook (heartbeat, look again), not fail; a drain that fails on it
 * tries again only on redelivery, without a heartbeat, and lets the hook expire.
 */
function installDrainDeleteErrors(e: Engine): void {
  const state = drainWatch(e);
  const registry = e.world.registry;
  const del = registry.deleteRunner.bind(registry);
  const firstTry = new Map<string, number>();
  registry.deleteRunner = async (id) => {
    const t = [...e.truth.values()].find((x) => x.runnerId === id);
    const h = t ? e.hooks.find((x) => x.instanceId === t.id) : undefined;
    // the n-th scale-in (its token ends in -n); with --warm-pool-scale-in the even ones go to the
    // warm pool and delete nothing, so then every odd one
    const n = Number(h?.token.split('-').at(-1));
    const victim = e.faultOn('warm-pool-scale-in') ? n % 2 === 1 : n % 2 === 0;
    if (t && h && victim && e.world.journal.fn === 'runner-drain') {
      const from = firstTry.get(t.id) ?? e.clock.now;
      firstTry.set(t.id, from);
      if (e.clock.now < from + 2 * h.heartbeatTimeoutMs) {
        state.deleteErrors++;
        throw new GitHubApiError(`DELETE /orgs/{org}/actions/runners/${id}: HTTP 502 Bad Gateway`, 502);
      }
    }
    return del(id);
  };
}

/**
 * --lost-lifecycle-events: EventBridge delivers Auto Scaling's lifecycle events best-effort; every
 * terminate lifecycle event of the first runner scale-in that leaves (each hook's, every copy), and
 * of the first one back into the warm pool (--warm-pool-scale-in), in each scope (the hub, and every
 * spoke of `--scenario multi-account`) is lost before any rule of the hub sees it. Its runner runs a long job: busy until twice the hook's
 * heartbeat timeout, so it is still registered when the hook would expire (the sweep never removes
 * a busy runner). Only the drain's scheduled look, in that instance's own scope, can then find it
 * held by the hook and hold it.
 */
/** What `longJob` needs of the engine: the registry, the clock, a timer. */
export interface LongJobHost {
  world: { registry: InMemoryRunnerRegistry };
  clock: { now: number };
  after(ms: number, run: () => unknown): void;
}

const registered = (e: LongJobHost, runnerId: number | undefined) =>
  runnerId !== undefined && e.world.registry.snapshot().some((r) => r.id === runnerId);

function installLostLifecycleEvents(e: Engine): void {
  const state = drainWatch(e);
  const emit = e.emit.bind(e);
  e.emit = (bus, event) => {
    const detail = event.detail as { EC2InstanceId?: string; Destination?: string } | undefined;
    const id = event['detail-type'] === TERMINATE_LIFECYCLE_DETAIL_TYPE ? detail?.EC2InstanceId : undefined;
    // one that leaves, and (with --warm-pool-scale-in) one back into the warm pool, per scope
    const t = id ? e.truth.get(id) : undefined;
    const scope = `${t?.scope ? scopeKey(t.scope) : 'hub'}${detail?.Destination === 'WarmPool' ? ' warm' : ''}`;
    if (t && !state.lostEvents.has(scope) && registered(e, t.runnerId)) {
      state.lostEvents.set(scope, t.id);
      longJob(e, t.runnerId as number, 2 * (e.hooks.at(-1)?.heartbeatTimeoutMs ?? 300_000));
    }
    if (id && state.lostEvents.get(scope) === id) {
      e.stats.dropped++;
      return;
    }
    emit(bus, event);
  };
}

/**
 * The runner is busy from now for `ms` (a job that ends earlier keeps it busy until then). When it
 * ends, the runner is left as the scenario's own jobs set it meanwhile: one still running (taken
 * before it went busy) keeps it busy until that job ends. A busy runner is given no job.
 */
export function longJob(e: LongJobHost, runnerId: number, ms: number): void {
  const registry = e.world.registry;
  const setBusy = registry.setBusy.bind(registry);
  const until = e.clock.now + ms;
  let theirs = registry.snapshot().find((r) => r.id === runnerId)?.busy ?? false;
  registry.setBusy = (id, busy) => {
    if (id === runnerId && e.clock.now < until) theirs = busy;
    setBusy(id, id === runnerId && e.clock.now < until ? true : busy);
  };
  setBusy(runnerId, true);
  e.after(ms, () => {
    if (registered(e, runnerId)) setBusy(runnerId, theirs);
  });
}

/**
 * Every run: a fleet hook that timed out before the drain deadline while its runner was still
 * registered (the fleet dropped its heartbeat), in the hub or a spoke. Seen when the ASG first
 * reads the timeout.
 */
function watchHookExpiries(e: Engine): void {
  const state = drainWatch(e);
  const outcome = e.actionOutcome.bind(e);
  const seen = new Set<string>();
  e.actionOutcome = (scope, token) => {
    const o = outcome(scope, token);
    const h = e.hooks.find((x) => x.token === token);
    if (o !== 'timeout' || !h || seen.has(token)) return o;
    seen.add(token);
    const held = e.clock.now - h.startedAt;
    const runnerId = e.truth.get(h.instanceId)?.runnerId;
    if (registered(e, runnerId) && held < e.drainDeadlineMs)
      state.expiredHeld.push(
        `hook ${token} of ${h.instanceId}${h.scope ? ` (spoke ${scopeKey(h.scope)})` : ''} expired at ${relTime(e)}, ${Math.round(held / 1000)} s into a ${e.drainDeadlineMs / 1000} s drain deadline, runner ${runnerId} still registered`,
      );
    return o;
  };
}

function fleetHookNames(e: Engine): Set<string> {
  return new Set(
    e.routing.lifecycleHooks
      .filter((h) => h.transition === 'autoscaling:EC2_INSTANCE_TERMINATING')
      .map((h) => h.name),
  );
}

/** The fleet heartbeats or completes only its own terminate hook's lifecycle actions. */
export function noForeignHookTouched(e: Engine): Invariant {
  const own = fleetHookNames(e);
  const asgs = configuredAsgs(e);
  const lifecycle = e.world.journal.calls.filter((c) => c.hook && c.invocation !== 0);
  const details = lifecycle
    .filter((c) => {
      const h = c.hook as NonNullable<MutatingCall['hook']>;
      return !own.has(h.name) || (h.token !== undefined && e.foreignTokens.has(h.token)) || !asgs.has(h.asg);
    })
    .map(
      (c) =>
        `${c.fn} called ${c.operation} on hook ${c.hook?.name} of ${c.hook?.asg} (${c.resources[0]}) at ${rel(c.at)}`,
    );
  return invariant('no foreign hook touched', details, lifecycle.length);
}

/**
 * A warm-pool scale-in is no departure: the runner of an instance that comes back from the warm
 * pool is still registered at the end of the run (neither runner-drain nor runner-sweep removed it).
 */
export function warmPoolRunnersKept(e: Engine): Invariant {
  const back = e.warmReturns.filter((r) => r.runnerId !== undefined);
  const registered = new Set(e.world.registry.snapshot().map((r) => r.id));
  const details = back
    .filter((r) => !registered.has(r.runnerId as number))
    .map(
      (r) =>
        `runner ${r.runnerId} of ${r.instanceId} (back from the warm pool at ${rel(r.at)}) is not registered`,
    );
  return invariant('a runner back from the warm pool is still registered', details, back.length);
}

/** No lifecycle call (heartbeat, complete) on the instance launching into the warm pool: it is not leaving. */
export function noLaunchHeld(e: Engine): Invariant {
  const lifecycle = e.world.journal.calls.filter((c) => c.hook && c.invocation !== 0);
  const details = lifecycle
    .filter((c) => c.resources[0] === WARM_LAUNCH.instanceId)
    .map(
      (c) =>
        `${c.fn} called ${c.operation} on hook ${c.hook?.name} of ${WARM_LAUNCH.instanceId} (launching into the warm pool) at ${rel(c.at)}`,
    );
  return invariant(
    'no lifecycle call on an instance launching into the warm pool',
    details,
    lifecycle.length,
  );
}

/** No fleet hook timed out before the drain deadline while its runner was still registered. */
export function noHookExpiredHeld(e: Engine): Invariant {
  const s = drainWatch(e);
  return invariant(
    'no fleet hook expired with its runner registered before the drain deadline',
    [...s.expiredHeld],
    e.hooks.length,
  );
}

export const simulation: RemediationSimulation = {
  function: 'runner-drain',
  faults: [
    {
      flag: 'foreign-hooks',
      description:
        "give the runner ASG another team's terminate lifecycle hook, with its own events (also sent to the drain queue)",
      // its events also land on the drain queue (as a rule matching the ASG alone would deliver
      // them, or any sender the queue trusts), so runner-drain's own hook check is exercised
      install: (e) => {
        e.foreignHooks.push({ ...FOREIGN_HOOK, onEvent: (event) => enqueueTo(e, 'runner-drain', event) });
      },
    },
    {
      flag: 'warm-pool-scale-in',
      description:
        'send every other runner scale-in to the warm pool (Warmed:Pending:Wait; the instance stops, then comes back with its runner), and launch one instance into the warm pool on a launch hook (Warmed:Pending:Wait too, not leaving)',
      // every other scale-in of a runner goes to the warm pool (the first one included)
      install: (e) => {
        e.toWarmPool = (n) => n % 2 === 0;
        installWarmLaunch(e);
      },
    },
    {
      flag: 'lost-lifecycle-events',
      description:
        "lose every terminate lifecycle event of the first runner scale-in in each scope, spokes included, and of the first one back into the warm pool (EventBridge delivers them best-effort): only the drain's scheduled look finds them",
      install: installLostLifecycleEvents,
    },
    {
      flag: 'github-delete-errors',
      description:
        "answer runner-drain's runner DELETE with HTTP 502 for the first two heartbeat timeouts of every other scale-in",
      install: installDrainDeleteErrors,
    },
  ],
  watch: watchHookExpiries,
  // a failed runner-list page or Auto Scaling throttling
  injectError: (e) =>
    e.rng() < 0.5 ? e.world.registry.failNextListPage(1) : e.world.lifecycleActions.throttleNext(1),
  invariants: (e) => [noForeignHookTouched(e), warmPoolRunnersKept(e), noHookExpiredHeld(e), noLaunchHeld(e)],
};
