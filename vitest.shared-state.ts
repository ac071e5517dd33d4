import { createRequire } from 'node:module';
import { afterAll, vi } from 'vitest';

/**
 * Setup file of the `unit` stage, run before every test file. The unit stage runs without per-file
 * isolation (`isolate: false` in vitest.config.ts): each worker imports aws-cdk-lib, the AWS SDK and
 * the project once instead of once per file (5x less CPU). What one file can leave behind for the
 * next file of the same worker is therefore reset after each file:
 * - SDK client classes stubbed with aws-sdk-client-mock's `mockClient(Class)`: the stub sits on the
 *   class prototype and would answer for every client of that class in every later file (seen: the
 *   audit tests' real EC2Client with its own request handler got `undefined` from a leftover stub);
 * - env variables and globals stubbed with `vi.stubEnv`/`vi.stubGlobal`;
 * - spies (`vi.spyOn`) on shared module objects.
 * Module-level memoised state (the default SDK clients of shared/aws/clients.ts) is shared on
 * purpose, as in a warm Lambda: a test about first use imports a fresh copy (`vi.resetModules()`).
 */
const sinon: { restore(): void } = createRequire(
  createRequire(import.meta.url).resolve('aws-sdk-client-mock'),
)('sinon');

export function resetBetweenFiles(): void {
  // aws-sdk-client-mock stubs through sinon's default sandbox (the same sinon it requires)
  sinon.restore();
  vi.unstubAllEnvs();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
}

afterAll(resetBetweenFiles);
