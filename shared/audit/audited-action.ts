import { callsOf, githubCallsOf, recordAwsCalls } from '../aws/call-recorder';
import { needsCorrelation } from './correlate';
import { AuditWriteError } from './errors';
import type { AuditSink } from './port';
import { auditRecordId } from './record-id';
import type { AuditRecord, Subject, Trigger } from './schema';

/** Who is deciding, because of what, in which mode. One per invocation (or per event in a batch). */
export interface AuditContext {
  function: string;
  trigger: Trigger;
  mode: 'dry-run' | 'live';
  now?: () => Date;
  /**
   * Which delivery of the trigger this is (the SQS message id). EventBridge duplicates arrive as
   * separate messages: each keeps its own record, so a duplicate that finds the work done cannot
   * overwrite the record of the delivery that did it.
   */
  deliveryId?: string;
  /**
   * Which attempt at this delivery this is (SQS ApproximateReceiveCount; see `sqsDelivery`). Each
   * attempt after the first keeps its own record, so an attempt that acted and then failed keeps the
   * evidence of what it did when the retry finds the work done. Omitted or 1: the delivery's own id.
   */
  attempt?: number;
}

/** The delivery id and attempt number of an SQS message, for `AuditContext`. */
export function sqsDelivery(record: {
  messageId: string;
  attributes?: { ApproximateReceiveCount?: string };
}): { deliveryId: string; attempt: number } {
  const count = Number(record.attributes?.ApproximateReceiveCount);
  return { deliveryId: record.messageId, attempt: Number.isInteger(count) && count > 0 ? count : 1 };
}

export interface ActionOutcome<T> {
  decision: AuditRecord['decision'];
  reason: string;
  details?: Record<string, unknown>;
  result: T;
}

/**
 * Run one remediation step and write its audit record, with every AWS and GitHub call the step
 * made. The record is part of the action:
 * - the step succeeds -> its record is written; if that write fails, `AuditWriteError` is thrown
 *   (the caller fails the invocation and the event is retried; steps must be idempotent);
 * - the step throws -> a "failed" record with the calls made so far is written, and the original
 *   error is rethrown (or an AuditWriteError caused by it, if even that write failed).
 * Record ids are deterministic per (function, trigger, action, subject, delivery, attempt > 1): a
 * repeat of the same attempt overwrites its record, a duplicate delivery or a later attempt gets its own.
 */
export async function auditedAction<T>(
  sink: AuditSink,
  ctx: AuditContext,
  what: { action: string; subject: Subject },
  step: () => Promise<ActionOutcome<T>>,
): Promise<T> {
  const now = ctx.now ?? (() => new Date());
  const retry = ctx.attempt !== undefined && ctx.attempt > 1 ? ctx.attempt : undefined;
  const delivery = `${ctx.deliveryId ? `@${ctx.deliveryId}` : ''}${retry ? `#${retry}` : ''}`;
  const recordId = auditRecordId({
    function: ctx.function,
    triggerId: `${ctx.trigger.id}${delivery}`,
    action: what.action,
    subject: JSON.stringify(what.subject),
  });
  const base = {
    schemaVersion: 1 as const,
    recordId,
    function: ctx.function,
    trigger: ctx.trigger,
    subject: what.subject,
    action: what.action,
    mode: ctx.mode,
  };
  let recorded: Awaited<ReturnType<typeof recordAwsCalls<ActionOutcome<T>>>>;
  try {
    recorded = await recordAwsCalls(step);
  } catch (err) {
    try {
      await sink.write({
        ...base,
        time: now().toISOString(),
        decision: 'failed',
        reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
        ...(retry ? { details: { attempt: retry } } : {}),
        calls: callsOf(err),
        githubCalls: githubCallsOf(err),
      });
    } catch (auditErr) {
      throw new AuditWriteError(`could not record the failure of ${what.action}: ${String(auditErr)}`, {
        cause: err,
      });
    }
    throw err;
  }
  const { result: outcome, calls, githubCalls } = recorded;
  try {
    await sink.write({
      ...base,
      time: now().toISOString(),
      decision: outcome.decision,
      reason: outcome.reason,
      details: { ...outcome.details, ...(retry ? { attempt: retry } : {}) },
      calls,
      githubCalls,
      correlation: {
        status: needsCorrelation({ calls, trigger: ctx.trigger, subject: what.subject })
          ? 'pending'
          : 'not-applicable',
        attempts: 0,
        calls: [],
      },
    });
  } catch (err) {
    if (err instanceof AuditWriteError) throw err;
    throw new AuditWriteError(`audit record ${recordId} for ${what.action} could not be written`, {
      cause: err,
    });
  }
  return outcome.result;
}
