/**
 * The cross-cutting adversarial faults (each concerns more than one function): forged messages to
 * the DNS and drain queues, instances with spoofed fleet tags, an audit-table outage. A fault of
 * one remediation lives in functions/<name>/simulation.ts. Loads no handler (fault-flags.ts).
 */
import { sameScope } from '../../shared/aws/scope';
import { stateChangeEvent } from '../../shared/dns/testing/state-change-event';
import { T0 } from './engine';
import { ASG, lifecycleEvent, type TruthInstance } from './fleet-model';
import { inScope } from './forwarding';
import { enqueueTo, type FaultSpec, faultTargets, liveRunners, scaledIn } from './remediation-simulation';
import type { Engine } from './scenario';
import { HUB, topologyOf } from './topology';

/** Another team's ASG: its instances are outside the fleet's blast radius. */
export const FOREIGN_ASG = 'payments-workers';

/** A forged message: which instance it lies about, and when it was sent. */
export interface Forged {
  queue: 'dns' | 'drain';
  lie: 'future-dated' | 'wrong state' | 'foreign ASG' | 'other scope';
  instanceId: string;
  at: number;
}

/** Fault state of one run: the forged messages, and what the fleet did on a forged word. */
interface FaultState {
  forged: Forged[];
  /** Changes the fleet made to a live, not-leaving forged target. */
  actedOnForged: string[];
}
const states = new WeakMap<Engine, FaultState>();

export function faultState(e: Engine): FaultState {
  let s = states.get(e);
  if (!s) {
    s = { forged: [], actedOnForged: [] };
    states.set(e, s);
  }
  return s;
}

/**
 * In schedule order (a fault's events at the same time as another's run after them): spoofed tags,
 * forged messages, the audit outage.
 */
export const GENERIC_FAULTS: FaultSpec[] = [
  {
    flag: 'spoofed-tags',
    description:
      'launch instances outside the configured ASGs that carry the fleet tag (terminations allowed)',
    // two instances tagged as fleet runners: one in another team's ASG, one in none
    schedule: (e) => {
      e.at(T0 + 60_000, () => e.launch(1000, { kind: 'spoofed', asg: FOREIGN_ASG }));
      e.at(T0 + 90_000, () => e.launch(1001, { kind: 'spoofed' }));
    },
  },
  {
    flag: 'forged-messages',
    description:
      "send well-formed but lying messages (future-dated terminated and running, wrong state, foreign ASG; with spokes, a spoke's stale terminated for another scope's instance) to the DNS and drain queues",
    install: watchForgedTargets,
    schedule: (e) => {
      e.at(T0 + 60_000, () => e.launch(1002, { kind: 'outsider', asg: FOREIGN_ASG }));
      e.at(T0 + Math.floor(e.options.durationMinutes * 0.3 * 60_000), () => forge(e));
      // with spokes: another scope's runner, once one is older than dns-sync's absence window
      const sent = new Set<'hub' | 'spoke'>();
      for (let m = 16; m < e.options.durationMinutes; m += 2)
        e.at(T0 + m * 60_000, () => forgeOtherScope(e, sent));
    },
  },
  {
    flag: 'audit-outage',
    description: 'fail every audit write for two minutes',
    install: (e) => {
      e.world.audit.outage = outageWindow(e);
    },
  },
];

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

/** Well-formed lies (contract 6): each parses fine; the fleet must refuse or ignore it. */
function forge(e: Engine): void {
  const state = faultState(e);
  const now = e.clock.now;
  const future = now + 2 * 3_600_000;
  const webs = [...e.truth.values()].filter((t) => t.kind === 'web' && t.state === 'running');
  const runners = liveRunners(e)
    .filter((t) => !faultTargets(e, 'flapping').has(t.id))
    .slice(-3);
  const outsider = [...e.truth.values()].find((t) => t.kind === 'outsider');
  const dns = (t: TruthInstance | undefined, s: 'terminated' | 'running', at: number, lie: Forged['lie']) => {
    if (!t) return;
    state.forged.push({ queue: 'dns', lie, instanceId: t.id, at: now });
    faultTargets(e, 'forged').add(t.id);
    const id = `forged-dns-${t.id}-${lie}${s === 'running' && lie === 'future-dated' ? '-running' : ''}`;
    enqueueTo(e, 'dns-sync', stateChangeEvent(t.id, s, at, id));
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
    faultTargets(e, 'forged').add(t.id);
    const ref = {
      autoScalingGroupName: asg,
      lifecycleHookName: hook,
      lifecycleActionToken: `forged-token-${t.id}-${lie.replace(' ', '-')}`,
      instanceId: t.id,
    };
    enqueueTo(e, 'runner-drain', lifecycleEvent(ref, `forged-drain-${ref.lifecycleActionToken}`, at));
  };
  drain(runners[0], ASG, future, 'future-dated');
  drain(runners[1], ASG, now, 'wrong state');
  // a small fleet may have only two live runners yet: the foreign-ASG lie names the first again
  drain(runners[2] ?? runners[0], FOREIGN_ASG, now, 'foreign ASG');
}

/**
 * With spokes: a spoke's "terminated" for a live runner of ANOTHER scope (the hub's, then another
 * spoke's), dated after the runner's record was written yet past dns-sync's ABSENT_AFTER_SECONDS.
 * Its own scope does not show the instance and records name no account: taken as "gone", it would
 * delete the other scope's records. Tried every 2 minutes until a victim old enough is live.
 */
function forgeOtherScope(e: Engine, sent: Set<'hub' | 'spoke'>): void {
  const env = [...e.routing.functions.values()].find((f) => f.entry === 'functions/dns-sync/index.ts')?.env;
  const spokes = env ? (topologyOf(env)?.spokes ?? []) : [];
  if (spokes.length === 0) return;
  const now = e.clock.now;
  const absentMs = Number(env?.ABSENT_AFTER_SECONDS ?? 900) * 1000;
  // dated 2 min after its launch (after its running record's marker), more than the window ago
  const datedAt = (t: TruthInstance) => (t.launchedAt ?? T0) + 120_000;
  const victims = liveRunners(e).filter(
    (t) =>
      !scaledIn(e, t.id) &&
      !faultTargets(e, 'flapping').has(t.id) &&
      !faultTargets(e, 'forged').has(t.id) &&
      datedAt(t) < now - absentMs - 60_000,
  );
  const send = (where: 'hub' | 'spoke', t: TruthInstance | undefined) => {
    const home = t?.scope ?? HUB;
    const claimant = spokes.find((s) => !sameScope(s, home));
    if (!t || !claimant || sent.has(where)) return;
    sent.add(where);
    faultState(e).forged.push({ queue: 'dns', lie: 'other scope', instanceId: t.id, at: now });
    faultTargets(e, 'forged').add(t.id);
    const id = `forged-dns-${t.id}-other-scope`;
    enqueueTo(e, 'dns-sync', inScope(stateChangeEvent(t.id, 'terminated', datedAt(t), id), claimant));
  };
  send(
    'hub',
    victims.find((t) => !t.scope),
  );
  send(
    'spoke',
    victims.find((t) => t.scope),
  );
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
