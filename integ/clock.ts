import type { AppProps } from 'aws-cdk-lib';

/**
 * Context key integration apps read for "now" (an ISO time). The offline snapshot sets a fixed
 * value so time-dependent inputs (a signed webhook delivery's job time) keep the template stable;
 * `integ:deploy` leaves it unset, so the real clock is used.
 */
export const INTEG_CLOCK_CONTEXT = 'fleetwarden:integ-clock';

/**
 * Environment variable the offline snapshot (integ/snapshot.ts) sets: the app bundles no function.
 * The snapshot normalises asset hashes away, so a bundle would change nothing in it; skipping the
 * esbuild runs (an `npx --no-install esbuild` and a build per function) saves most of the synth.
 * `integ:deploy` never sets it: a deployed function needs its bundle.
 */
export const INTEG_NO_BUNDLING_ENV = 'FLEETWARDEN_INTEG_NO_BUNDLING';

/** The App props of an integration app: no stack to bundle when the snapshot asks for none. */
export function integAppProps(env: NodeJS.ProcessEnv = process.env): AppProps {
  // aws-cdk-lib's own key (the CLI refuses `aws:` keys from `-c`): the stacks whose assets are
  // bundled; none here
  return env[INTEG_NO_BUNDLING_ENV] === '1' ? { postCliContext: { 'aws:cdk:bundling-stacks': [] } } : {};
}
