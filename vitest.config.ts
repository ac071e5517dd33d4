import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{infra,lib,functions,shared,cli,integ,bench}/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/cdk.out/**', '**/*.snapshot/**', 'dist/**'],
    // a bound for hung tests, not a speed check: whole simulations and synths must never fail
    // because the machine is slow (CI runs on 2 shared cores; seen timing out at load 15 at 60 s)
    testTimeout: 900_000,
    hookTimeout: 900_000,
    pool: 'forks',
    reporters: ['default', './vitest.summary-reporter.ts'],
    // handlers log through Powertools; tests assert on audit records and results, not log lines
    env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
  },
});
