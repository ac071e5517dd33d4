import { defineConfig } from 'vitest/config';
import { SimHeaviestFirst } from './vitest.sim-order.ts';

/**
 * Two stages, both run by `npm test` and CI:
 * - `unit` (`npm run test:unit`): everything but the files below; under a minute on 2 quiet cores
 *   (measured: 107 CPU-s for 1,553 tests, i.e. ~54 s on 2 cores; README "Test stages"). Its per-test
 *   limit is a bound for a hung test, not a speed check. What makes it fast, measured one by one:
 *   - `isolate: false`: each of the two workers imports aws-cdk-lib, the AWS SDK clients and the
 *     project once, not once per file (a 45-file subset: 94 -> 18 CPU-s). What a file can leave
 *     behind for the next one (class-level SDK stubs, env stubs, spies) is reset after every file by
 *     `vitest.shared-state.ts`; infra/guardrails/test-stages.test.ts checks that it does.
 *   - `CDK_VALIDATION=false`: aws-cdk-lib's built-in CloudFormation validation starts a WASM engine
 *     (~12 CPU-s per process) and checks every synthesized template (~1 CPU-s each). Without the
 *     `@aws-cdk/core:validateAgainstDefaultRules` flag (not set here) its findings are warnings that
 *     fail nothing, so in construct tests it only costs time. `npm run synth` and `npm run integ`
 *     still run it on the real app; the guardrails (cdk-nag and the Fleetwarden pack) are plugins of
 *     their own and run in the unit tests as before.
 *   - forks, not threads: threads saved ~13% more CPU but broke a test that bundles with esbuild
 *     (a worker thread's stderr is no file descriptor for a child process); forks behave like `node`.
 *   The construct and stack tests (CDK synth, ~60% of the stage's test time) stay here: they are
 *   unit tests of the constructs and fit in the budget.
 * - `sim` (`npm run test:sim`): whole simulator runs (the chaos day, `npm start --json`, the fault and
 *   invariant runs), the at-scale bench checks (10,000 runners, a function bundle per entry), and the
 *   whole-app checks run in a child process (cdk synth through the CLI, the browser test). No
 *   wall-clock limit on a test or a hook, and no file may set its own (test-stages.test.ts): they
 *   must never fail because the machine is slow (seen timing out at load 9 at 60 s, and a 180 s
 *   beforeAll at load 18). Like `unit`: `isolate: false` and `CDK_VALIDATION=false` (every
 *   simulation synthesizes the fleet in-process: 17 -> 2 CPU-s for a process's first synthesis),
 *   and the longest files start first (vitest.sim-order.ts).
 * `npm run test:node22` runs the unit tests of `functions/` and `shared/` (every folder esbuild puts
 * into a function's bundle: the code that runs on Lambda's nodejs22.x; test-stages.test.ts derives
 * the list from the bundles) with this same config on Node 22, and the bundle check "as deployed".
 * The rest of the unit stage (constructs, CLI) runs on the developer's or operator's Node, which
 * `engines` allows to be 20 or 22, and runs on the CI machine's Node in `test:unit`.
 */
export const SIM_FILES = [
  'bench/**/*.test.ts',
  'cli/commands/simulate.test.ts',
  'cli/simulate/engine.test.ts',
  'cli/simulate/faults.test.ts',
  'cli/simulate/invariants.test.ts',
  'cli/simulate/approvals.test.ts',
  'cli/simulate/multi-account.test.ts',
  'functions/simulations.test.ts',
  'functions/*/simulation.test.ts',
  // whole-app checks in a child process: cdk synth through the CLI, headless Chromium
  'integ/snapshot.test.ts',
  'cli/timeline/html/browser.test.ts',
];

const ALL = ['{infra,lib,functions,shared,cli,integ,bench}/**/*.test.ts'];
const EXCLUDE = ['**/node_modules/**', '**/cdk.out/**', '**/*.snapshot/**', 'dist/**'];

export default defineConfig({
  test: {
    exclude: EXCLUDE,
    pool: 'forks',
    // vitest's default on 2 cores is one worker (cores - 1); the main process mostly waits, so two
    // workers keep both cores busy
    maxWorkers: 2,
    reporters: ['default', './vitest.summary-reporter.ts'],
    // the sim stage's longest files first, also on a clean clone with no recorded durations (the
    // unit stage keeps vitest's order); vitest reads the sequencer from this root config only
    sequence: { sequencer: SimHeaviestFirst },
    // handlers log through Powertools; tests assert on audit records and results, not log lines.
    // Metrics are still added (tests spy on addMetric), never printed as EMF lines on stdout
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ALL,
          // one module cache per worker; vitest.shared-state.ts resets what a file leaves behind
          isolate: false,
          setupFiles: ['./vitest.shared-state.ts'],
          // no built-in CloudFormation validation in construct tests (warnings only; see above)
          env: {
            POWERTOOLS_LOG_LEVEL: 'SILENT',
            POWERTOOLS_METRICS_DISABLED: 'true',
            CDK_VALIDATION: 'false',
          },
          exclude: [...EXCLUDE, ...SIM_FILES],
          // a bound for a hung test, not a speed check (CI runs on 2 shared cores)
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'sim',
          include: SIM_FILES,
          // as in `unit`: one module cache per worker (the project, aws-cdk-lib and the SDK imported
          // once; the fleet synthesized once per configuration, cli/simulate/simulate.ts), reset
          // after every file by vitest.shared-state.ts
          isolate: false,
          setupFiles: ['./vitest.shared-state.ts'],
          // the simulator synthesizes the fleet in-process: no built-in CloudFormation validation
          // (warnings only; 17 -> 2 CPU-s for a process's first synthesis). `npm run synth` and
          // `npm run integ` keep it.
          env: {
            POWERTOOLS_LOG_LEVEL: 'SILENT',
            POWERTOOLS_METRICS_DISABLED: 'true',
            CDK_VALIDATION: 'false',
          },
          // whole simulations: no wall-clock limit (0 disables it); a hang is caught by CI's own limit
          testTimeout: 0,
          hookTimeout: 0,
        },
      },
    ],
  },
});
