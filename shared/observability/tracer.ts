import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The Powertools tracer, one per process; active only inside Lambda (X-Ray segment present). Loaded
 * only by `./sdk-call-tracing.ts` when SDK-call tracing is on (FleetFunction `sdkCallTracing`); never
 * import it statically from code a function bundles: it brings the X-Ray SDK (~125 KB) with it.
 */
export const tracer = new Tracer({ enabled: process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined });
