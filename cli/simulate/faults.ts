import { stateChangeEvent } from '../../shared/dns/testing/state-change-event';
import type { InstanceInfo } from '../../shared/ec2/port';
import { GitHubApiError } from '../../shared/github/errors';
import { FLEET_LABEL_PREFIX, INSTANCE_LABEL_PREFIX } from '../../shared/runners/matching';
import { ASG, type Engine, lifecycleEvent, T0, type TruthInstance } from './engine';
import type { Faults } from './fault-flags';

export { ALL_FAULTS, FAULT_FLAGS, type Faults } from './fault-flags';

/** Another team's ASG: its instances are outside the fleet's blast radius. */
export const FOREIGN_ASG = 'payments-workers';
/** Another team's terminate hook on the runner ASG (a log shipper flushing before the instance goes). */
export const FOREIGN_HOOK = { name: 'log-shipper-flush', heartbeatTimeoutMs: 120_000 };

/** A forged message: which instance it lies about, and when it was sent. */
export interface Forged {
  queue: 'dns' | 'drain';
  lie: 'future-dated' | 'wrong state' | 'foreign ASG';
  instanceId: string;
  at: number;
}

/** Fault state of one engine (counters, forged targets, what the fleet did on a forged word). */
interface FaultState {
  forged: Forged[];
  /** Changes the fleet made to a live, not-leaving forged target. */
  actedOnForged: string[];
  flapping: Set<string>;
  deliveries: number;
  /** Runner instances back from the warm pool: the runner each had when it came back. */
  warmReturns: Array<{ instanceId: string; runnerId?: number; at: number }>;
}
const states = new WeakMap<Engine, FaultState>();

export function faultState(e: Engine): FaultState {
  let s = states.get(e);
  if (!s) {
    s = { forged: [], actedOnForged: [], flapping: new Set(), deliveries: 0, warmReturns: [] };
    states.set(e, s);
  }
  return s;
}

const faultsOf = (e: Engine): Partial<Faults> => e.options.faults ?? {};

/** Faults that change the world's ports (called once the World exists). */
export function installFaults(e: Engine): void {
  const f = faultsOf(e);
  if (f.foreignHooks) e.foreignHooks.push(FOREIGN_HOOK);
  if (f.auditOutage) e.world.audit.outage = outageWindow(e);
  if (f.ec2Flapping) installFlapping(e);
  if (f.forgedMessages) watchForgedTargets(e);
  if (f.nameClaimants) watchClaimedNames(e);
  if (f.ec2Flapping) installStoppedFlapping(e);
  if (f.githubDeleteErrors) installDrainDeleteErrors(e);
  watchLiveRunnerRemovals(e);
  watchHookExpiries(e);
}

/** Faults that are events of the scenario (called when the scenario is laid out). */
export function scheduleFaults(e: Engine): void {
  const f = faultsOf(e);
  if (f.spoofedTags) {
    // two instances tagged as fleet runners: one in another team's ASG, one in none
    e.at(T0 + 60_000, () => e.launch(1000, { kind: 'spoofed', asg: FOREIGN_ASG }));
    e.at(T0 + 90_000, () => e.launch(1001, { kind: 'spoofed' }));
  }
  if (f.forgedMessages) {
    e.at(T0 + 60_000, () => e.launch(1002, { kind: 'outsider', asg: FOREIGN_ASG }));
    e.at(T0 + Math.floor(e.options.durationMinutes * 0.3 * 60_000), () => forge(e));
  }
  if (f.foreignFleetRunners) scheduleForeignFleetRunners(e);
  if (f.nameClaimants) scheduleNameClaimant(e);
}

/** Two minutes around a runner-sweep schedule past the middle of the run (async retries outlast it). */
function outageWindow(e: Engine): { from: number; to: number } {
  const sweep = [...e.routing.functions.values()].find(
    (fn) => fn.entry === 'functions/runner-sweep/index.ts',
  );
  const every =
    e.routing.rules.find(
      (r) => r.everyMs && r.targets.some((t) => t.kind === 'function' && t.fn === sweep?.logicalId),
    )?.everyMs ?? 5 * 60_000;
  const fire = T0 + Math.ceil((e.options.durationMinutes * 0.6 * 60_000) / every) * every;
  return { from: fire - 30_000, to: fire + 90_000 };
}

const liveRunners = (e: Engine): TruthInstance[] =>
  [...e.truth.values()]
    .filter((t) => t.kind === 'runner' && t.state === 'running' && t.runnerId !== undefined)
    .sort((a, b) => a.id.localeCompare(b.id));

/**
 * During the activity period, runner functions' DescribeInstances misreports one live runner
 * instance as terminated long ago, two runner-sweep runs in a row, then the next one.
 */
function installFlapping(e: Engine): void {
  const state = faultState(e);
  const end = T0 + e.options.durationMinutes * 60_000;
  let run = -1;
  let lastSweep = 0;
  let victim: string | undefined;
  const current = (): string | undefined => {
    const fn = e.world.journal.fn;
    if (!fn.startsWith('runner-') || e.clock.now >= end) return undefined;
    if (fn === 'runner-sweep' && e.world.journal.invocation !== lastSweep) {
      lastSweep = e.world.journal.invocation;
      run++;
      const forged = new Set(state.forged.map((x) => x.instanceId));
      const candidates = liveRunners(e).filter((t) => !forged.has(t.id));
      victim = candidates[Math.floor(run / 2) % Math.max(1, candidates.length)]?.id;
      if (victim) state.flapping.add(victim);
    }
    return victim;
  };
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

function enqueueTo(e: Engine, entry: string, body: unknown): void {
  const queue = [...e.routing.consumers.entries()].find(
    ([, c]) => e.routing.functions.get(c.fn)?.entry === entry,
  )?.[0];
  if (queue) e.enqueue(queue, JSON.stringify(body));
}

/** Well-formed lies (contract 6): each parses fine; the fleet must refuse or ignore it. */
function forge(e: Engine): void {
  const state = faultState(e);
  const now = e.clock.now;
  const future = now + 2 * 3_600_000;
  const webs = [...e.truth.values()].filter((t) => t.kind === 'web' && t.state === 'running');
  const runners = liveRunners(e)
    .filter((t) => !state.flapping.has(t.id))
    .slice(-3);
  const outsider = [...e.truth.values()].find((t) => t.kind === 'outsider');
  const dns = (t: TruthInstance | undefined, s: 'terminated' | 'running', at: number, lie: Forged['lie']) => {
    if (!t) return;
    state.forged.push({ queue: 'dns', lie, instanceId: t.id, at: now });
    const id = `forged-dns-${t.id}-${lie}${s === 'running' && lie === 'future-dated' ? '-running' : ''}`;
    enqueueTo(e, 'functions/dns-sync/index.ts', stateChangeEvent(t.id, s, at, id));
  };
  dns(webs[0], 'terminated', future, 'future-dated');
  // a future-dated running event of an instance that leaves later: taken as true, its marker's
  // time would make the real terminated event look stale, and the record would outlive the instance
  dns(webs[0], 'running', future, 'future-dated');
  dns(webs[1], 'terminated', now, 'wrong state');
  dns(outsider, 'running', now, 'foreign ASG');
  const hook =
    e.routing.lifecycleHooks.find((h) => h.autoScalingGroupName === ASG)?.name ?? 'fleetwarden-drain';
  const drain = (t: TruthInstance | undefined, asg: string, at: number, lie: Forged['lie']) => {
    if (!t) return;
    state.forged.push({ queue: 'drain', lie, instanceId: t.id, at: now });
    const ref = {
      autoScalingGroupName: asg,
      lifecycleHookName: hook,
      lifecycleActionToken: `forged-token-${t.id}-${lie.replace(' ', '-')}`,
      instanceId: t.id,
    };
    enqueueTo(
      e,
      'functions/runner-drain/index.ts',
      lifecycleEvent(ref, `forged-drain-${ref.lifecycleActionToken}`, at),
    );
  };
  drain(runners[0], ASG, future, 'future-dated');
  drain(runners[1], ASG, now, 'wrong state');
  // a small fleet may have only two live runners yet: the foreign-ASG lie names the first again
  drain(runners[2] ?? runners[0], FOREIGN_ASG, now, 'foreign ASG');
}

/** The fleet id of another fleet registering runners in the same GitHub org. */
export const FOREIGN_FLEET_ID = 'blue-fleet';
/** At most this many foreign-fleet runners (few: they enlarge the registered-runner count). */
const FOREIGN_FLEET_RUNNERS = 3;

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

/**
 * --foreign-hooks: another team's lifecycle event also lands on the drain queue (as a rule matching
 * the ASG alone would deliver it, or any sender the queue trusts), so runner-drain's own hook check
 * is exercised, not only the rule pattern's filter. Called by the engine for each foreign event.
 */
export function foreignHookOnDrainQueue(e: Engine, event: Record<string, unknown>): void {
  if (!faultsOf(e).foreignHooks) return;
  enqueueTo(e, 'functions/runner-drain/index.ts', event);
}

/**
 * What the fleet changes about a forged target while it is live and not leaving (no scale-in
 * started): deleting its DNS record, deregistering its runner, heartbeating or completing a lifecycle
 * action for it, terminating it. Recorded as it happens, for the invariant.
 */
function watchForgedTargets(e: Engine): void {
  const state = faultState(e);
  const w = e.world;
  const live = (id: string | undefined): TruthInstance | undefined => {
    const t = id ? e.truth.get(id) : undefined;
    if (t?.state !== 'running' || e.hooks.some((h) => h.instanceId === id)) return undefined;
    return state.forged.some((f) => f.instanceId === id) ? t : undefined;
  };
  const note = (what: string) =>
    state.actedOnForged.push(`${new Date(e.clock.now).toISOString()} ${e.world.journal.fn} ${what}`);
  const change = w.route53.changeRecordSets.bind(w.route53);
  w.route53.changeRecordSets = async (zoneId, changes) => {
    for (const c of changes) {
      const name = c.record.name.toLowerCase().replace(/\.$/, '').split('.')[0] as string;
      const t = [...e.truth.values()].find((x) => x.name === name && live(x.id));
      if (t && c.action === 'DELETE') note(`deleted ${c.record.type} ${c.record.name} of live ${t.id}`);
    }
    return change(zoneId, changes);
  };
  const del = w.registry.deleteRunner.bind(w.registry);
  w.registry.deleteRunner = async (id) => {
    const t = [...e.truth.values()].find((x) => x.runnerId === id && live(x.id));
    if (t) note(`deregistered runner ${id} of live ${t.id}`);
    return del(id);
  };
  for (const method of ['heartbeat', 'complete'] as const) {
    const original = w.lifecycleActions[method].bind(w.lifecycleActions) as (
      ...a: unknown[]
    ) => Promise<never>;
    (w.lifecycleActions as unknown as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      const ref = args[0] as { instanceId: string; lifecycleActionToken: string };
      if (live(ref.instanceId))
        note(`${method} lifecycle action ${ref.lifecycleActionToken} of live ${ref.instanceId}`);
      return original(...args);
    };
  }
  const terminate = w.terminator.terminate.bind(w.terminator);
  w.terminator.terminate = async (ids) => {
    for (const id of ids) if (live(id)) note(`terminated live ${id}`);
    return terminate(ids);
  };
}

/**
 * Deliver a workflow_job body to the ingress as GitHub does: JSON, or (--form-encoded, every other
 * delivery) `payload=<urlencoded JSON>` with the signature over the raw form body; with
 * --webhook-replays every fourth accepted body comes back ten minutes later under a new delivery id.
 */
export async function sendWebhook(e: Engine, json: string, deliveryId: string): Promise<number | undefined> {
  const fn = e.webhookFunction();
  if (!fn) return undefined;
  const f = faultsOf(e);
  if (f.staleReplays && captureForLater(e, fn, json, deliveryId)) return undefined;
  const state = faultState(e);
  const n = state.deliveries++;
  const form = Boolean(f.formEncoded) && n % 2 === 1;
  const raw = form ? `payload=${encodeURIComponent(json)}` : json;
  e.stats.webhooks.sent++;
  const status = await deliver(e, fn, raw, form, deliveryId, form ? 'form' : 'json');
  if (f.webhookReplays && status === 202 && n % 4 === 0) {
    e.after(10 * 60_000, async () => {
      await deliver(e, fn, raw, form, `replay-${n}-${deliveryId}`, 'replay');
    });
  }
  return status;
}

async function deliver(
  e: Engine,
  fn: string,
  raw: string,
  form: boolean,
  deliveryId: string,
  kind: 'json' | 'form' | 'replay' | 'stale-replay',
): Promise<number | undefined> {
  let invocation = 0;
  let status: number | undefined;
  try {
    const res = (await e.invoke(
      fn,
      {
        requestContext: { http: { method: 'POST' } },
        headers: {
          'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json',
          'x-github-event': 'workflow_job',
          'x-github-delivery': deliveryId,
          'x-hub-signature-256': await e.sign(raw),
        },
        body: raw,
        isBase64Encoded: false,
      },
      (id) => {
        invocation = id;
      },
    )) as { statusCode?: number } | undefined;
    status = res?.statusCode;
  } catch {
    status = undefined;
  }
  e.world.journal.runs.push({
    unit: `webhook/${deliveryId}`,
    fn: 'webhook-ingress',
    at: e.clock.now,
    ok: status !== undefined && status < 500,
    injected: e.lastInjected,
  });
  e.world.journal.webhooks.push({
    deliveryId,
    kind,
    status,
    published: e.world.journal.publishedBy(invocation),
    injected: e.lastInjected,
  });
  return status;
}

/** --name-claimants: the stopped holder of a name, the instance launched with the same name tag, what moved. */
interface ClaimState {
  holder?: TruthInstance;
  claimant?: TruthInstance;
  /** Each time the holder's name pointed at another value while the holder had not terminated. */
  moved: string[];
  /** Route 53 changes checked against the holder's name. */
  checked: number;
}
const claimStates = new WeakMap<Engine, ClaimState>();

export function claimState(e: Engine): ClaimState {
  let s = claimStates.get(e);
  if (!s) {
    s = { moved: [], checked: 0 };
    claimStates.set(e, s);
  }
  return s;
}

/** What the watches of every run saw (the invariants read it), and the drain delete errors' victims. */
interface WatchState {
  /** runner-sweep deregistrations of an online runner whose instance is really running, not scaled in. */
  liveRunnersRemoved: string[];
  /** Fleet hooks that timed out before the drain deadline with their runner still registered. */
  expiredHeld: string[];
  /** Instances DescribeInstances misreported as stopped (--ec2-flapping). */
  stopped: Set<string>;
  /** DELETE runner calls of runner-drain answered 5xx (--github-delete-errors). */
  deleteErrors: number;
}
const watchStates = new WeakMap<Engine, WatchState>();

export function watchState(e: Engine): WatchState {
  let s = watchStates.get(e);
  if (!s) {
    s = { liveRunnersRemoved: [], expiredHeld: [], stopped: new Set(), deleteErrors: 0 };
    watchStates.set(e, s);
  }
  return s;
}

/**
 * A running web host (the last one up, not a forged message's target) is stopped for a while and
 * started again with the same IP; a minute after it stops, a second instance is launched with its
 * name tag. The name stays with its holder: the claimant gets no record, running or not.
 */
function scheduleNameClaimant(e: Engine): void {
  const minutes = e.options.durationMinutes;
  const s = claimState(e);
  e.at(T0 + Math.floor(minutes * 0.35 * 60_000), () => {
    const forged = new Set(faultState(e).forged.map((x) => x.instanceId));
    const webs = [...e.truth.values()].filter(
      (t) => t.kind === 'web' && t.state === 'running' && !forged.has(t.id),
    );
    const holder = webs[webs.length - 1];
    if (!holder) return;
    s.holder = holder;
    e.put(holder, 'stopping');
    e.after(10_000, () => e.put(holder, 'stopped'));
    e.after(60_000, () => {
      // 1101 is a web host's number (a multiple of three) far above the scenario's
      const claimant = e.launch(1101);
      claimant.name = holder.name;
      s.claimant = claimant;
    });
    e.at(T0 + Math.floor(minutes * 0.48 * 60_000), () => {
      if (holder.state !== 'stopped') return;
      e.put(holder, 'pending');
      e.after(20_000, () => e.put(holder, 'running'));
    });
  });
}

/**
 * After every Route 53 change: while the holder has not terminated, the A record at its name holds
 * the holder's IP or is absent (dns-sync deletes it while the holder is stopped and keeps a
 * tombstone naming the holder, so no other instance can take the name).
 */
function watchClaimedNames(e: Engine): void {
  const s = claimState(e);
  const r53 = e.world.route53;
  const change = r53.changeRecordSets.bind(r53);
  r53.changeRecordSets = async (zoneId, changes) => {
    try {
      return await change(zoneId, changes);
    } finally {
      const h = s.holder;
      if (h && h.state !== 'terminated' && zoneId === e.zoneId) {
        s.checked++;
        const name = `${h.name}.${e.zoneName}`.toLowerCase().replace(/\.$/, '');
        const a = r53
          .records(e.zoneId)
          .find((r) => r.type === 'A' && r.name.toLowerCase().replace(/\.$/, '') === name);
        if (a && (a.values.length !== 1 || a.values[0] !== h.ip))
          s.moved.push(
            `${new Date(e.clock.now).toISOString()} ${e.world.journal.fn}: ${name} -> ${a.values.join(',')} while its holder ${h.id} (${h.ip}) is ${h.state}`,
          );
      }
    }
  };
}

/** --stale-replays: when each workflow_job action happened (by delivery id), and the captured body. */
const jobTimes = new WeakMap<Engine, Map<string, number>>();
const captured = new WeakSet<Engine>();

/** When the action of a delivery happened, by its delivery id (a replay's is its original's). */
export function jobTimeOf(e: Engine, deliveryId: string): number | undefined {
  const at = deliveryId.indexOf('delivery-');
  return at < 0 ? undefined : jobTimes.get(e)?.get(deliveryId.slice(at));
}

/**
 * Records when each delivery's action happened (now). The first `queued` body is captured on the
 * way and never reaches the ingress (so nothing deduplicates it); it is sent, under a new delivery
 * id, ten minutes after the maximum job age. True when the delivery was captured.
 */
function captureForLater(e: Engine, fn: string, json: string, deliveryId: string): boolean {
  let times = jobTimes.get(e);
  if (!times) {
    times = new Map();
    jobTimes.set(e, times);
  }
  times.set(deliveryId, e.clock.now);
  if (captured.has(e) || !deliveryId.endsWith('-queued')) return false;
  captured.add(e);
  const maxAgeMs = Number(e.routing.functions.get(fn)?.env.MAX_JOB_AGE_SECONDS ?? 3600) * 1000;
  e.after(maxAgeMs + 10 * 60_000, async () => {
    await deliver(e, fn, json, false, `captured-${deliveryId}`, 'stale-replay');
  });
  return true;
}

/** --warm-pool-scale-in: every other scale-in of a runner goes to the warm pool (the first one included). */
export function warmPoolScaleIn(e: Engine, n: number): boolean {
  return Boolean(faultsOf(e).warmPoolScaleIn) && n % 2 === 0;
}

/** A runner instance came back from the warm pool (the invariant checks its runner is still registered). */
export function noteWarmReturn(e: Engine, t: TruthInstance): void {
  faultState(e).warmReturns.push({
    instanceId: t.id,
    ...(t.runnerId === undefined ? {} : { runnerId: t.runnerId }),
    at: e.clock.now,
  });
}

const scaledIn = (e: Engine, instanceId: string) => e.hooks.some((h) => h.instanceId === instanceId);
const relTime = (e: Engine) => `t+${Math.round((e.clock.now - T0) / 1000)}s`;

/**
 * --ec2-flapping, stopped variant: runner-sweep's DescribeInstances misreports one running runner
 * instance (online, idle, not scaled in) as stopped long ago, two sweep runs in a row, then the next
 * one, counting from the other end of the fleet than the terminated variant. A stopped instance with
 * an online runner is a contradiction to report, never a removal.
 */
function installStoppedFlapping(e: Engine): void {
  const state = watchState(e);
  const end = T0 + e.options.durationMinutes * 60_000;
  let run = -1;
  let lastSweep = 0;
  let victim: string | undefined;
  const current = (): string | undefined => {
    if (e.world.journal.fn !== 'runner-sweep' || e.clock.now >= end) return undefined;
    if (e.world.journal.invocation !== lastSweep) {
      lastSweep = e.world.journal.invocation;
      run++;
      const forged = new Set(faultState(e).forged.map((x) => x.instanceId));
      const online = new Set(
        e.world.registry
          .snapshot()
          .filter((r) => r.status === 'online' && !r.busy)
          .map((r) => r.id),
      );
      const candidates = liveRunners(e)
        .filter((t) => !forged.has(t.id) && !scaledIn(e, t.id) && online.has(t.runnerId as number))
        .reverse();
      victim = candidates[Math.floor(run / 2) % Math.max(1, candidates.length)]?.id;
      if (victim) state.stopped.add(victim);
    }
    return victim;
  };
  misreportInventory(
    e,
    current,
    'stopped',
    (i) => i.state === 'running',
    () => true,
  );
}

/**
 * --github-delete-errors: GitHub answers runner-drain's DELETE of a runner 5xx for two heartbeat
 * timeouts from the drain's first try, for every other fleet scale-in. Not an injected invocation
 * error: the drain is to hold the hook (heartbeat, look again), not fail; a drain that fails on it
 * tries again only on redelivery, without a heartbeat, and lets the hook expire.
 */
function installDrainDeleteErrors(e: Engine): void {
  const state = watchState(e);
  const registry = e.world.registry;
  const del = registry.deleteRunner.bind(registry);
  const firstTry = new Map<string, number>();
  registry.deleteRunner = async (id) => {
    const t = [...e.truth.values()].find((x) => x.runnerId === id);
    const h = t ? e.hooks.find((x) => x.instanceId === t.id) : undefined;
    // the n-th scale-in (its token ends in -n); with --warm-pool-scale-in the even ones go to the
    // warm pool and delete nothing, so then every odd one
    const n = Number(h?.token.split('-').at(-1));
    const victim = faultsOf(e).warmPoolScaleIn ? n % 2 === 1 : n % 2 === 0;
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

/** Every run: runner-sweep deregistering an online runner of a running instance no ASG is scaling in. */
function watchLiveRunnerRemovals(e: Engine): void {
  const state = watchState(e);
  const registry = e.world.registry;
  const del = registry.deleteRunner.bind(registry);
  registry.deleteRunner = async (id) => {
    const runner = registry.snapshot().find((r) => r.id === id);
    const t = [...e.truth.values()].find((x) => x.runnerId === id);
    const live =
      e.world.journal.fn === 'runner-sweep' && runner?.status === 'online' && t?.state === 'running';
    const result = await del(id);
    if (live && t && result === 'deleted' && !scaledIn(e, t.id))
      state.liveRunnersRemoved.push(
        `runner-sweep deregistered online runner ${id} of running ${t.id} at ${relTime(e)}`,
      );
    return result;
  };
}

/**
 * Every run: a fleet hook that timed out before the drain deadline while its runner was still
 * registered (the fleet dropped its heartbeat). Seen when the ASG first reads the timeout.
 */
function watchHookExpiries(e: Engine): void {
  const state = watchState(e);
  const actions = e.world.lifecycleActions;
  const outcome = actions.outcome.bind(actions);
  const seen = new Set<string>();
  actions.outcome = (token) => {
    const o = outcome(token);
    const h = e.hooks.find((x) => x.token === token);
    if (o !== 'timeout' || !h || seen.has(token)) return o;
    seen.add(token);
    const held = e.clock.now - h.startedAt;
    const runnerId = e.truth.get(h.instanceId)?.runnerId;
    const registered = runnerId !== undefined && e.world.registry.snapshot().some((r) => r.id === runnerId);
    if (registered && held < e.drainDeadlineMs)
      state.expiredHeld.push(
        `hook ${token} of ${h.instanceId} expired at ${relTime(e)}, ${Math.round(held / 1000)} s into a ${e.drainDeadlineMs / 1000} s drain deadline, runner ${runnerId} still registered`,
      );
    return o;
  };
}
