import { ConfigError } from './errors';

/**
 * What every function bundle gets in place of `@aws-lambda-powertools/jmespath` (and its
 * `/functions`): esbuild's alias, FUNCTION_ALIAS in infra/constructs/fleet-function.ts. Powertools
 * idempotency imports JMESPath statically but only evaluates it for `eventKeyJmesPath` /
 * `payloadValidationJmesPath`, which fleetwarden never sets (AGENTS.md): the key is the data
 * (`makeIdempotent(fn, { dataIndexArgument })`). Leaving the library out saves 23 KB of bundle.
 */
export class JmesPathNotBundledError extends ConfigError {
  override readonly name: string = 'JmesPathNotBundledError';
}

/** Powertools calls it only when an idempotency config names a JMESPath expression. */
export function search(expression: unknown): never {
  throw new JmesPathNotBundledError(
    `JMESPath is not bundled into fleetwarden functions (expression ${JSON.stringify(expression)}): ` +
      "pass the idempotency key as the data instead (makeIdempotent's dataIndexArgument), " +
      'without eventKeyJmesPath, payloadValidationJmesPath or jmesPathOptions',
  );
}

/** IdempotencyConfig makes one as its default `jmesPathOptions.customFunctions`; it is never called. */
export class PowertoolsFunctions {}
