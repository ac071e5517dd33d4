import { defineConfig } from 'vitest/config';

/**
 * Two stages, both run by `npm test` and CI:
 * - `unit` (`npm run test:unit`): everything but the files below; meant to finish in under a minute
 *   on 2 cores. Its per-test limit is a bound for a hung test, not a speed check.
 * - `sim` (`npm run test:sim`): whole simulator runs (the chaos day, `npm start --json`, the fault and
 *   invariant runs), the at-scale bench checks (10,000 runners, a function bundle per entry), and the
 *   whole-app checks run in a child process (cdk synth through the CLI, the browser test). No
 *   per-test wall-clock limit: they must never fail because the machine is slow (seen timing out at
 *   load 9 at 60 s).
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
    // handlers log through Powertools; tests assert on audit records and results, not log lines
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ALL,
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
          // whole simulations: no wall-clock limit (0 disables it); a hang is caught by CI's own limit
          testTimeout: 0,
          hookTimeout: 0,
        },
      },
    ],
  },
});
