import { AsyncLocalStorage } from 'node:async_hooks';
import {
  callsOf,
  githubCallsOf,
  type IntentWriter,
  outsideRecording,
  recordAwsCalls,
} from '../aws/call-recorder';
import { currentSpoke } from '../aws/scope-context';
import { metrics } from '../observability/powertools';
import { needsCorrelation } from './correlate';
import { AuditWriteError } from './errors';
import type { AuditSink } from './port';
import { auditRecordId } from './record-id';
import type { AuditRecord, AuditRecordInput, AwsCall, GitHubCall, Subject, Trigger } from './schema';

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
  /** The outcome; 'intended' is written by auditedAction itself, never returned by a step. */
  decision: Exclude<AuditRecord['decision'], 'intended'>;
  reason: string;
  details?: Record<string, unknown>;
  result: T;
}

interface DeclaredIntent {
  reason?: string;
  details?: Record<string, unknown>;
}
const declared = new AsyncLocalStorage<DeclaredIntent>();

/**
 * Say, inside an `auditedAction` step, what the step is about to do and why (e.g. which records it
 * will delete, which runner it will remove). Goes into the intent record written before the step's
 * first fleet-mutating call; the outcome record replaces it. Later declarations add to earlier ones.
 * Optional: without it the intent record names the call and the record's subject. Outside a step: no-op.
 */
export function declareIntent(reason: string, details: Record<string, unknown> = {}): void {
  const intent = declared.getStore();
  if (!intent) return;
  intent.reason = reason;
  intent.details = { ...intent.details, ...details };
}

const retryOf = (ctx: AuditContext) =>
  ctx.attempt !== undefined && ctx.attempt > 1 ? ctx.attempt : undefined;

/** The id of the record `auditedAction` writes for this action and subject in this context. */
export function actionRecordId(ctx: AuditContext, what: { action: string; subject: Subject }): string {
  const retry = retryOf(ctx);
  // a spoke's run of the same step is a record of its own (shared/aws/scope-context.ts)
  const scope = currentSpoke();
  const delivery = `${ctx.deliveryId ? `@${ctx.deliveryId}` : ''}${retry ? `#${retry}` : ''}${scope ? `~${scope.account}/${scope.region}` : ''}`;
  return auditRecordId({
    function: ctx.function,
    triggerId: `${ctx.trigger.id}${delivery}`,
    action: what.action,
    subject: JSON.stringify(what.subject),
  });
}

/**
 * Run one remediation step and write its audit record, with every AWS and GitHub call the step
 * made. Intent before act: before the step's FIRST fleet-mutating call (shared/audit/fleet-mutating.ts)
 * is sent, an 'intended' record with the same recordId is written (lazily: a step that only reads
 * writes just its outcome). The rule is enforced where the calls leave the process — the SDK
 * middleware, the GitHub adapter, the simulator's fakes await `ensureIntent()` — so a step cannot
 * forget it: if the intent write fails, the call is never sent, and the step fails with
 * AuditWriteError even if it caught that error itself. The outcome record then overwrites the
 * intent; a stored 'intended' record means the step never finished. The record is part of the action:
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
  what: { action: string; subject: Subject; calls?: ReadonlySet<string> },
  step: () => Promise<ActionOutcome<T>>,
): Promise<T> {
  const now = ctx.now ?? (() => new Date());
  const retry = retryOf(ctx);
  const recordId = actionRecordId(ctx, what);
  // every audit write runs outside the step's (and any enclosing) recording: plumbing, not evidence
  // and each outcome recorded is counted (Decision-<decision>): the dashboard's actions by decision
  const write: AuditSink['write'] = async (record) => {
    const written = await outsideRecording(() => sink.write(record));
    if (record.decision !== 'intended') metrics.addMetric(`Decision-${record.decision}`, 'Count', 1);
    return written;
  };
  const base = {
    schemaVersion: 1 as const,
    recordId,
    function: ctx.function,
    trigger: ctx.trigger,
    subject: what.subject,
    action: what.action,
    mode: ctx.mode,
  };
  const intent = intentWriter(write, base, now, retry);
  const refused = () =>
    new AuditWriteError(`intent record ${recordId} for ${what.action} could not be written`, {
      cause: intent.error(),
    });
  let recorded: Awaited<ReturnType<typeof recordAwsCalls<ActionOutcome<T>>>>;
  try {
    recorded = await declared.run(intent.declared, () =>
      recordAwsCalls(
        async () => {
          const outcome = await step();
          // the step caught the refused call and carried on: the action still fails
          if (intent.error() !== undefined) throw refused();
          return outcome;
        },
        { intent: intent.write, ...(what.calls ? { allowed: what.calls } : {}) },
      ),
    );
  } catch (stepError) {
    // an adapter may wrap the refused call's error (a GitHubApiError): the failure is still the audit's
    const err =
      intent.error() !== undefined && !(stepError instanceof AuditWriteError)
        ? Object.assign(refused(), { awsCalls: callsOf(stepError), githubCalls: githubCallsOf(stepError) })
        : stepError;
    await writeFailure(write, { ...base, time: now().toISOString() }, what.action, err, retry);
    throw err;
  }
  const { result: outcome, calls, githubCalls } = recorded;
  await writeOutcome(write, { ...base, time: now().toISOString() }, outcome, { calls, githubCalls }, retry);
  return outcome.result;
}

type RecordBase = Omit<AuditRecordInput, 'time' | 'decision' | 'reason'>;

/** The outcome record, queued for correlation when its calls need it; AuditWriteError if not stored. */
async function writeOutcome<T>(
  write: AuditSink['write'],
  base: RecordBase & { time: string },
  outcome: ActionOutcome<T>,
  evidence: { calls: AwsCall[]; githubCalls: GitHubCall[] },
  retry: number | undefined,
): Promise<void> {
  const { calls, githubCalls } = evidence;
  try {
    await write({
      ...base,
      decision: outcome.decision,
      reason: outcome.reason,
      details: { ...outcome.details, ...(retry ? { attempt: retry } : {}) },
      calls,
      githubCalls,
      correlation: {
        status: needsCorrelation({ calls, trigger: base.trigger, subject: base.subject })
          ? 'pending'
          : 'not-applicable',
        attempts: 0,
        calls: [],
      },
    });
  } catch (err) {
    if (err instanceof AuditWriteError) throw err;
    throw new AuditWriteError(`audit record ${base.recordId} for ${base.action} could not be written`, {
      cause: err,
    });
  }
}

/**
 * The step's intent writer (called by `ensureIntent` before its first fleet-mutating call): an
 * 'intended' record with what the step declared, the call about to be sent and the reads so far;
 * never queued for correlation. Remembers a failed write so the step fails even if it swallowed it.
 */
function intentWriter(
  write: AuditSink['write'],
  base: RecordBase,
  now: () => Date,
  retry: number | undefined,
): { declared: DeclaredIntent; write: IntentWriter; error: () => unknown } {
  const declared: DeclaredIntent = {};
  let error: unknown;
  return {
    declared,
    error: () => error,
    write: async (about, sofar) => {
      try {
        await write({
          ...base,
          time: now().toISOString(),
          decision: 'intended',
          reason: declared.reason ?? `about to call ${about}`,
          details: { ...declared.details, intendedCall: about, ...(retry ? { attempt: retry } : {}) },
          ...sofar,
          correlation: { status: 'not-applicable', attempts: 0, calls: [] },
        });
      } catch (err) {
        error = err;
        throw err;
      }
    },
  };
}

/** The "failed" record of a step that threw, with the calls it made; AuditWriteError if even that fails. */
async function writeFailure(
  write: AuditSink['write'],
  base: RecordBase & { time: string },
  action: string,
  err: unknown,
  retry: number | undefined,
): Promise<void> {
  try {
    await write({
      ...base,
      decision: 'failed',
      reason: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
      ...(retry ? { details: { attempt: retry } } : {}),
      calls: callsOf(err),
      githubCalls: githubCallsOf(err),
    });
  } catch (auditErr) {
    throw new AuditWriteError(`could not record the failure of ${action}: ${String(auditErr)}`, {
      cause: err,
    });
  }
}
