/**
 * Every remediation's simulation (functions/<name>/simulation.ts, exporting `simulation`): its
 * faults (the CLI's fault flags are derived from this list), watches, injected errors and
 * invariants. Found, not listed: a new remediation's simulation.ts is picked up without an edit here.
 *
 * The order is the run's: faults install in it (a later fault wraps the ports an earlier one
 * wrapped) and lay their events out in it (events at the same simulated time run in it), after
 * the cross-cutting faults of cli/simulate/faults.ts. Seeded runs depend on it, so the five
 * simulations that existed before discovery keep their order at the front (HISTORIC); every other
 * follows by name. Loads no handler (the CLI reads the fault flags before it silences the loggers):
 * a simulation module imports only the simulator's types and fakes.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { RemediationSimulation } from '../cli/simulate/remediation-simulation';

/** The order of the runs recorded before discovery (never add to it: a new one sorts by name after). */
const HISTORIC = ['runner-drain', 'runner-sweep', 'dns-sync', 'webhook-ingress', 'dns-reconcile'];

const HERE = new URL('./', import.meta.url);

/** The function directories that hold a simulation.ts, in run order. */
export function simulationDirs(): string[] {
  const found = readdirSync(HERE, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(new URL(`./${d.name}/simulation.ts`, HERE)))
    .map((d) => d.name);
  const rank = (n: string) => (HISTORIC.includes(n) ? HISTORIC.indexOf(n) : HISTORIC.length);
  return found.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function load(dir: string): Promise<RemediationSimulation> {
  const mod = (await import(new URL(`./${dir}/simulation.ts`, HERE).href)) as {
    simulation?: RemediationSimulation;
  };
  if (mod.simulation?.function !== dir)
    throw new Error(`functions/${dir}/simulation.ts must export \`simulation\` with function '${dir}'`);
  return mod.simulation;
}

export const SIMULATIONS: readonly RemediationSimulation[] = await Promise.all(simulationDirs().map(load));
