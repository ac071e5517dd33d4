/**
 * What a remediation declares about its simulation (functions/<name>/simulation.ts, found by
 * functions/simulations.ts): its adversarial faults (each a CLI flag), the watches that feed its
 * invariants, the API error --error-rate injects into it, and its invariants. Cross-cutting faults
 * and invariants stay in faults.ts and invariants.ts. This module and the simulations load no
 * handler (the CLI reads the fault flags before it silences the handlers' loggers): import the
 * scenario's types only.
 */
import type { AuditRecord } from '../../shared/audit/schema';
import { T0 } from './engine';
import { ASG, type TruthInstance } from './fleet-model';
import type { Engine } from './scenario';

/** One invariant of a run: ok, its violations, and how many things it checked. */
export interface Invariant {
  name: string;
  ok: boolean;
  details: string[];
  checked?: number;
  /** What it let pass and why (not violations), e.g. ghosts an audited breaker refusal holds back. */
  accepted?: string[];
}

/** An adversarial fault: off unless its flag (or --adversarial) is given. */
export interface FaultSpec {
  /** The CLI flag, kebab-case without the dashes (its camelCase is the key in SimOptions.faults). */
  flag: string;
  description: string;
  /** Change the world's ports (once the world exists; faults in list order, then every watch). */
  install?: (e: Engine) => void;
  /** Lay the fault's events out (when the scenario is laid out, after the scenario's own). */
  schedule?: (e: Engine) => void;
}

export interface RemediationSimulation {
  /** The function's directory under functions/ (its name in the journal and the report). */
  function: string;
  /**
   * For a remediation FleetStack deploys from its definition alone (config `remediations`): the
   * settings the simulated stack deploys it with (the simulator deploys it whenever this is set).
   */
  deploy?: Record<string, unknown>;
  /**
   * Its deliveries' and invocations' chaos draws (drop, duplicate, delay, --error-rate) come from a
   * seeded stream of its own instead of the run's: adding it leaves every other function's seeded
   * run as it was. The simulations that predate it share the run's stream (their recorded runs).
   */
  ownRandom?: boolean;
  /** Its part of the scenario, on every run: hooks into the world's fakes (before the faults install). */
  install?: (e: Engine) => void;
  faults: FaultSpec[];
  /** Installed on every run, after every fault: what the invariants read. */
  watch?: (e: Engine) => void;
  /** One API error for a call the function is about to make (--error-rate). */
  injectError?: (e: Engine) => void;
  /** Its invariants, in report order. */
  invariants: (e: Engine, records: AuditRecord[]) => Invariant[];
}

/** The key of a fault flag in SimOptions.faults (what commander makes of the flag). */
export const faultKey = (flag: string) => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());

export function invariant(name: string, details: string[], checked: number): Invariant {
  return { name, ok: details.length === 0, details, checked };
}

/** A simulated time as the invariants print it: seconds since T0. */
export const rel = (at: number) => `t+${Math.round((at - T0) / 1000)}s`;
export const relTime = (e: Engine) => rel(e.clock.now);
export const bare = (n: string) => n.toLowerCase().replace(/\.$/, '');

/** The environment a function is deployed with (from the synthesized template). */
export const envOf = (e: Engine, fn: string): Record<string, string> =>
  [...e.routing.functions.values()].find((f) => f.entry === `functions/${fn}/index.ts`)?.env ?? {};

/** The Auto Scaling groups the fleet is configured for. */
export const configuredAsgs = (e: Engine) =>
  new Set((envOf(e, 'runner-sweep').AUTO_SCALING_GROUP_NAMES ?? ASG).split(',').filter(Boolean));

/** Running runner instances with a registered runner, by instance id. */
export const liveRunners = (e: Engine): TruthInstance[] =>
  [...e.truth.values()]
    .filter((t) => t.kind === 'runner' && t.state === 'running' && t.runnerId !== undefined)
    .sort((a, b) => a.id.localeCompare(b.id));

/** Whether the runner ASG started a terminate lifecycle action for the instance. */
export const scaledIn = (e: Engine, instanceId: string) => e.hooks.some((h) => h.instanceId === instanceId);

/** Send a message straight into the queue a function consumes (as any sender the queue trusts). */
export function enqueueTo(e: Engine, fn: string, body: unknown): void {
  const queue = e.queueOf(`functions/${fn}/index.ts`);
  if (queue) e.enqueue(queue, JSON.stringify(body));
}

const targets = new WeakMap<Engine, Map<string, Set<string>>>();

/**
 * Instances a fault has singled out, by the fault's name ('forged', 'flapping', 'claimant'): other
 * faults leave them alone, and invariants that another fault's invariant judges skip them.
 */
export function faultTargets(e: Engine, name: string): Set<string> {
  let byName = targets.get(e);
  if (!byName) {
    byName = new Map();
    targets.set(e, byName);
  }
  let set = byName.get(name);
  if (!set) {
    set = new Set();
    byName.set(name, set);
  }
  return set;
}
