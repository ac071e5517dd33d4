import { Engine, type SimOptions } from './engine';
import { converged, type Summary, summarize } from './report';
import { type Routing, synthesizeFleet } from './routing';

let cachedRouting: Routing | undefined;

/**
 * One simulated run: the fleet as `cdk synth` builds it (dry run off, so remediations act), routed
 * by its own rules, against the in-memory ports. Deterministic for a seed.
 */
export async function simulate(
  options: SimOptions,
  routing?: Routing,
): Promise<{ summary: Summary; engine: Engine }> {
  cachedRouting ??= routing ?? synthesizeFleet({ dryRun: false });
  const started = Date.now();
  const engine = new Engine(routing ?? cachedRouting, options);
  await engine.run(() => converged(engine));
  return { summary: summarize(engine, Date.now() - started), engine };
}
