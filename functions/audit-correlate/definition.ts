import { parse } from '@aws-lambda-powertools/parser';
import type { Context } from 'aws-lambda';
import { type CorrelationRunResult, runCorrelation } from '../../shared/audit/correlation-run';
import { CorrelationRecordsFailedError } from '../../shared/audit/errors';
import { AUDIT_TABLE } from '../../shared/audit/table-design';
import type { CloudTrailLookup } from '../../shared/cloudtrail/port';
import { MalformedEventError } from '../../shared/core/errors';
import { EventBridgeSchema } from '../../shared/core/eventbridge-schema';
import type { PortsOf } from '../../shared/kernel/ports';
import type { Remediation } from '../../shared/kernel/remediation';
import { AUDIT_TABLE_SETTING, type SettingsOf, setting } from '../../shared/kernel/settings';
import { logger, metrics } from '../../shared/observability/powertools';

const settings = {
  auditTable: AUDIT_TABLE_SETTING,
  /** Set by the Lambda runtime (a reserved variable the construct never writes). */
  homeRegion: setting.string('AWS_REGION', {
    doc: "The function's region: its trail holds the fleet's regional calls (set by Lambda).",
  }),
  deadlineMinutes: setting.integer('CORRELATE_DEADLINE_MINUTES', {
    doc: "Minutes after a record's time before it is marked unresolved.",
    default: 360,
    min: 10,
    max: 60 * 24 * 89,
    unit: 'minutes',
  }),
  delaySeconds: setting.seconds('CORRELATE_DELAY_SECONDS', {
    doc: "Seconds after a record's time before CloudTrail is first asked (delivery takes ~5 min).",
    default: 300,
    min: 0,
    max: 3600,
  }),
  maxRecords: setting.integer('CORRELATE_MAX_RECORDS', {
    doc: 'At most this many records per run (each costs >= 1 LookupEvents call at 2/s).',
    default: 300,
    min: 1,
    max: 5000,
  }),
};
type Settings = SettingsOf<typeof settings>;
type Ports = PortsOf<'auditStore' | 'cloudTrail'>;
type RunContext = Pick<Context, 'getRemainingTimeInMillis'>;

/** Time left for work: stop 20 s before the Lambda timeout so the last update lands. */
const SAFETY_MS = 20_000;

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

/** The run's figures as metrics (the alarms watch them; the Lambda entry publishes them, failed runs too). */
function publishFigures(result: CorrelationRunResult): void {
  metrics.addMetric('AuditRecordsResolved', 'Count', result.resolved);
  metrics.addMetric('AuditRecordsUnresolved', 'Count', result.unresolved);
  metrics.addMetric('AuditRecordsStillPending', 'Count', result.stillPending);
  if (result.throttled) {
    metrics.addMetric('CloudTrailThrottledRuns', 'Count', 1);
    logger.warn('CloudTrail throttled the run; remaining records stay pending for the next run');
  }
  metrics.addMetric('AuditRecordsFailed', 'Count', result.failed);
}

/** One run over the pending records; a failing record is logged and left pending with a backoff. */
async function correlate(
  ports: Ports,
  s: Settings,
  now: () => Date,
  context: RunContext | undefined,
): Promise<{ result: CorrelationRunResult; firstError: unknown }> {
  let firstError: unknown;
  const result = await runCorrelation({
    store: ports.auditStore,
    lookup: logSkippedEvents(ports.cloudTrail),
    onRecordError: (recordId, err) => {
      firstError ??= err;
      logger.error('audit record could not be correlated; left pending with a backoff', {
        recordId,
        error: err as Error,
      });
    },
    options: {
      homeRegion: s.homeRegion,
      deadlineMs: s.deadlineMinutes * 60_000,
      delayMs: s.delaySeconds * 1000,
    },
    now,
    maxRecords: s.maxRecords,
    stopAt: () => (context ? context.getRemainingTimeInMillis() < SAFETY_MS : false),
  });
  return { result, firstError };
}

/**
 * Ties pending audit records to the CloudTrail events of their calls and triggers (schedule). It
 * changes nothing in the fleet (no actions): it stores each record's correlation.
 */
export const auditCorrelate: Remediation<typeof settings, never, keyof Ports, unknown, CorrelationRunResult> =
  {
    name: 'audit-correlate',
    summary: 'Ties pending audit records to the CloudTrail events of their calls and triggers',
    entry: 'functions/audit-correlate/index.ts',
    triggers: [{ kind: 'schedule', minutes: 5 }],
    settings,
    actions: {},
    reads: (s) => {
      const table = `arn:\${AWS::Partition}:dynamodb:\${AWS::Region}:\${AWS::AccountId}:table/${s.auditTable}`;
      return [
        // LookupEvents supports no resource-level permissions
        { actions: ['cloudtrail:LookupEvents'], resources: ['*'] },
        {
          actions: ['dynamodb:Query'],
          resources: [`${table}/index/${AUDIT_TABLE.indexes.pendingCorrelation.name}`],
        },
        // the correlation result on the record (the table's KMS key, via DynamoDB, comes with the table)
        { actions: ['dynamodb:UpdateItem'], resources: [table] },
      ];
    },
    ports: ['auditStore', 'cloudTrail'],
    create: (ports, settings, runtime) => async (event: unknown, context?: RunContext) => {
      const parsed = parse(event, undefined, EventBridgeSchema, true);
      if (!parsed.success) {
        throw new MalformedEventError(
          `audit-correlate expects a scheduled EventBridge event: ${parsed.error.message}`,
          { cause: parsed.error },
        );
      }
      const { result, firstError } = await correlate(ports, settings, runtime.now, context);
      logger.info('correlation run', { scheduleEventId: parsed.data.id, ...result });
      publishFigures(result);
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
    },
  };
