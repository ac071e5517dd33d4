import { parse } from '@aws-lambda-powertools/parser';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { type CorrelationRunResult, runCorrelation } from '../../shared/audit/correlation-run';
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import { AUDIT_TABLE_ENV } from '../../shared/audit/env';
import { CorrelationRecordsFailedError } from '../../shared/audit/errors';
import type { AuditStore } from '../../shared/audit/store-port';
import { LookupEventsAdapter } from '../../shared/cloudtrail/lookup-events-adapter';
import type { CloudTrailLookup } from '../../shared/cloudtrail/port';
import { RateLimitedLookup } from '../../shared/cloudtrail/rate-limited-lookup';
import { readEnv } from '../../shared/core/env';
import { MalformedEventError } from '../../shared/core/errors';
import { logger, metrics } from '../../shared/observability/powertools';

export const AuditCorrelateEnv = z.object({
  [AUDIT_TABLE_ENV]: z.string().min(1),
  AWS_REGION: z.string().min(1),
  /** Minutes after a record's time before it is marked unresolved. */
  CORRELATE_DEADLINE_MINUTES: z.coerce
    .number()
    .int()
    .min(10)
    .max(60 * 24 * 89)
    .default(360),
  /** Seconds after a record's time before CloudTrail is first asked (delivery takes ~5 min). */
  CORRELATE_DELAY_SECONDS: z.coerce.number().int().min(0).max(3600).default(300),
  /** At most this many records per run (each costs >= 1 LookupEvents call at 2/s). */
  CORRELATE_MAX_RECORDS: z.coerce.number().int().min(1).max(5000).default(300),
});

export interface AuditCorrelateDeps {
  store: AuditStore;
  lookup: CloudTrailLookup;
  homeRegion: string;
  deadlineMs: number;
  delayMs: number;
  maxRecords: number;
  now?: () => Date;
}

/** Time left for work: stop 20 s before the Lambda timeout so the last update lands. */
const SAFETY_MS = 20_000;

export function createHandler(deps: AuditCorrelateDeps) {
  return async (
    event: unknown,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<CorrelationRunResult> => {
    const parsed = parse(event, undefined, EventBridgeSchema, true);
    if (!parsed.success) {
      throw new MalformedEventError(
        `audit-correlate expects a scheduled EventBridge event: ${parsed.error.message}`,
        {
          cause: parsed.error,
        },
      );
    }
    let firstError: unknown;
    const result = await runCorrelation({
      store: deps.store,
      lookup: logSkippedEvents(deps.lookup),
      onRecordError: (recordId, err) => {
        firstError ??= err;
        logger.error('audit record could not be correlated; left pending with a backoff', {
          recordId,
          error: err as Error,
        });
      },
      options: { homeRegion: deps.homeRegion, deadlineMs: deps.deadlineMs, delayMs: deps.delayMs },
      now: deps.now ?? (() => new Date()),
      maxRecords: deps.maxRecords,
      stopAt: () => (context ? context.getRemainingTimeInMillis() < SAFETY_MS : false),
    });
    logger.info('correlation run', { scheduleEventId: parsed.data.id, ...result });
    metrics.addMetric('AuditRecordsResolved', 'Count', result.resolved);
    metrics.addMetric('AuditRecordsUnresolved', 'Count', result.unresolved);
    metrics.addMetric('AuditRecordsStillPending', 'Count', result.stillPending);
    if (result.throttled) {
      metrics.addMetric('CloudTrailThrottledRuns', 'Count', 1);
      logger.warn('CloudTrail throttled the run; remaining records stay pending for the next run');
    }
    metrics.addMetric('AuditRecordsFailed', 'Count', result.failed);
    metrics.publishStoredMetrics();
    if (result.failed > 0) {
      // after every other record was processed: fail the invocation so the error alarm fires
      throw new CorrelationRecordsFailedError(
        `${result.failed} audit record(s) could not be correlated: ${result.failures
          .slice(0, 5)
          .map((f) => `${f.recordId} (${f.error})`)
          .join('; ')}`,
        { cause: firstError },
      );
    }
    return result;
  };
}

/** A CloudTrail event that does not parse is skipped by the adapter; say so in the log, with its id. */
function logSkippedEvents(lookup: CloudTrailLookup): CloudTrailLookup {
  return {
    lookupPage: async (query) => {
      const page = await lookup.lookupPage(query);
      for (const s of page.skipped ?? [])
        logger.warn('skipped a CloudTrail event that does not parse', {
          eventId: s.eventId,
          region: query.region,
          error: s.error,
        });
      return page;
    },
  };
}

let wired: ReturnType<typeof createHandler> | undefined;

export const handler = async (event: unknown, context: Context): Promise<CorrelationRunResult> => {
  if (!wired) {
    const env = readEnv(AuditCorrelateEnv);
    wired = createHandler({
      store: new DynamoDbAuditStore(env[AUDIT_TABLE_ENV]),
      lookup: new RateLimitedLookup(new LookupEventsAdapter()),
      homeRegion: env.AWS_REGION,
      deadlineMs: env.CORRELATE_DEADLINE_MINUTES * 60_000,
      delayMs: env.CORRELATE_DELAY_SECONDS * 1000,
      maxRecords: env.CORRELATE_MAX_RECORDS,
    });
  }
  return wired(event, context);
};
