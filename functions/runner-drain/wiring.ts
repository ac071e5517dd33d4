import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { auditedAction } from '../../shared/audit/audited-action';
import { DynamoDbAuditSink } from '../../shared/audit/dynamodb-audit-sink';
import type { AuditSink } from '../../shared/audit/port';
import { FleetwardenError } from '../../shared/core/errors';
import type { Handler } from '../../shared/kernel/remediation';
import { logger, metrics } from '../../shared/observability/powertools';
import { unreadableSubject } from './message';
import { messageContext } from './run';
import { drainSettings } from './runtime';

/** runner-drain could not be wired (env, the GitHub App secret): every message of the batch fails. */
export class DrainWiringError extends FleetwardenError {
  override readonly name: string = 'DrainWiringError';
}

/** What a failed wiring can still use to leave its records: the audit table alone. */
export interface AuditOnly {
  audit: AuditSink;
  dryRun: boolean;
  autoScalingGroupNames: ReadonlySet<string>;
}

/** The audit table alone, from the environment (undefined when even its setting is missing). */
export function auditOnlyFromEnv(
  env: Record<string, string | undefined> = process.env,
): AuditOnly | undefined {
  const spec = drainSettings;
  const table = env[spec.auditTable.env];
  if (!table) return undefined;
  return {
    audit: new DynamoDbAuditSink(table),
    dryRun: env[spec.dryRun.env] !== 'false',
    autoScalingGroupNames: new Set((env[spec.autoScalingGroupNames.env] ?? '').split(',').filter(Boolean)),
  };
}

/** A `failed` drain.message record per message of a batch the handler could not even be wired for. */
async function auditWiringFailure(event: SQSEvent, err: DrainWiringError, a: AuditOnly, now: () => Date) {
  for (const r of event.Records) {
    const subject = unreadableSubject(r.body, a.autoScalingGroupNames);
    await auditedAction(
      a.audit,
      messageContext(r, a.dryRun, now),
      { action: 'drain.message', subject },
      async () => {
        throw err;
      },
    ).catch((e: unknown) => {
      if (e !== err) logger.error('could not audit a message the drain could not be wired for', { error: e });
    });
  }
}

type DrainHandler = Handler<SQSEvent, SQSBatchResponse>;

/**
 * The handler, wired on first use (and again after a failed wiring). If wiring fails (a setting
 * missing, the GitHub App secret not filled in), each message still leaves a `failed` record when
 * the audit table can be reached (`auditOnly`), then the batch fails (SQS redelivers; the DLQ keeps
 * it for a human). Each batch is logged and its metrics flushed.
 */
export function createLazyHandler(
  wire: () => Promise<DrainHandler>,
  auditOnly: () => AuditOnly | undefined,
  now: () => Date = () => new Date(),
) {
  let wired: DrainHandler | undefined;
  const wireOrAudit = async (event: SQSEvent): Promise<DrainHandler> => {
    try {
      return await wire();
    } catch (cause) {
      const err = new DrainWiringError(`runner-drain could not be wired: ${(cause as Error).message}`, {
        cause,
      });
      let sink: AuditOnly | undefined;
      try {
        sink = auditOnly();
      } catch {
        sink = undefined; // nothing to audit with: the error and the DLQ remain
      }
      if (sink) await auditWiringFailure(event, err, sink, now);
      throw err;
    }
  };
  return async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
    try {
      wired ??= await wireOrAudit(event);
      const res = await wired(event, context);
      logger.info('runner-drain batch', {
        messages: event.Records.length,
        failed: res.batchItemFailures.length,
      });
      return res;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
