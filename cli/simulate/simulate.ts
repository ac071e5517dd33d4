import { SIMULATIONS } from '../../functions/simulations';
import { approvalsConfig, scenarioNamed } from './approvals';
import { converged, type Summary, summarize } from './report';
import { type Routing, synthesizeFleet } from './routing';
import { Engine, type SimOptions } from './scenario';

const cachedRouting = new Map<string, Routing>();

/**
 * The fleet configuration a run synthesizes: dry run off, so remediations act; with spoofed fleet
 * tags, terminations allowed too (the blast radius of TerminateInstances is what is under test);
 * every remediation whose simulation says how to deploy it (`deploy`) deployed from its definition.
 */
export function fleetConfigFor(options: Pick<SimOptions, 'faults' | 'scenario'>): Record<string, unknown> {
  const remediations = Object.fromEntries(
    SIMULATIONS.flatMap((s) => (s.deploy ? [[s.function, s.deploy]] : [])),
  );
  return {
    dryRun: false,
    ...(options.faults?.spoofedTags ? { allowTerminate: true } : {}),
    ...(Object.keys(remediations).length > 0 ? { remediations } : {}),
    ...approvalsConfig(scenarioNamed(options.scenario)),
  };
}

/**
 * One simulated run: the fleet as `cdk synth` builds it, routed by its own rules, against the
 * in-memory ports. Deterministic for a seed.
 */
export async function simulate(
  options: SimOptions,
  routing?: Routing,
): Promise<{ summary: Summary; engine: Engine }> {
  const config = fleetConfigFor(options);
  const key = JSON.stringify(config);
  const fleet = routing ?? cachedRouting.get(key) ?? synthesizeFleet(config);
  if (!routing) cachedRouting.set(key, fleet);
  const started = Date.now();
  const engine = new Engine(fleet, options);
  await engine.run(() => converged(engine));
  return { summary: summarize(engine, Date.now() - started), engine };
}
