import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The Powertools tracer, one per process; active only inside Lambda (X-Ray segment present). Kept
 * apart from the logger and metrics so that importing the SDK clients (which hand themselves to the
 * tracer) does not create the logger and metrics before a command such as `simulate` silences them.
 */
export const tracer = new Tracer({ enabled: process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined });
