import type { SQSRecord } from 'aws-lambda';
import { type AuditContext, auditedAction, sqsDelivery } from '../../shared/audit/audited-action';
import type { Subject } from '../../shared/audit/schema';
import type { AwsScope } from '../../shared/aws/scope';
import { allowance, type RunKit, recordNote } from '../../shared/kernel/perform';
import type { PortsOf } from '../../shared/kernel/ports';
import type { Runtime } from '../../shared/kernel/remediation';
import type { Refusal } from '../../shared/runners/drain-trust';
import type { DrainEvent, DrainLook, SpotInterruptionEvent } from '../../shared/runners/lifecycle-event';

export const FUNCTION = 'runner-drain';

/** The ports runner-drain uses (shared/kernel/ports.ts names). */
export type DrainPortName = 'audit' | 'registry' | 'lifecycleActions' | 'drainState' | 'drainScheduler';

/** Everything a drain needs for one batch: built once by `create` from ports, settings and runtime. */
export interface DrainRun {
  /** The declaration the kernel performs actions of (runnerDrain). */
  spec: RunKit['spec'];
  ports: PortsOf<DrainPortName>;
  runtime: Runtime;
  dryRun: boolean;
  deadlineMs: number;
  retryDelaySeconds: number;
  groups: ReadonlySet<string>;
  /** The fleet's own terminate hook: any other hook's action is ignored. */
  hook: string;
  /** The pool's labels: a runner of the instance without every one of them is never touched. */
  labels: readonly string[];
  /** The spokes the hub's scheduled look fans out to (none without spokes). */
  spokes: readonly AwsScope[];
}

/**
 * A drain message carries only the event (a lifecycle event, or the drain the scheduled look
 * started in place of a lost one) and which look this is: the rest is the drain's own state.
 */
export interface DrainMessage {
  kind: 'drain';
  event: DrainEvent;
  attempt: number;
}
export type Message =
  | DrainMessage
  | { kind: 'spot'; event: SpotInterruptionEvent }
  | { kind: 'look'; event: DrainLook };

/**
 * How recent a drain's last look must be for it to count as under way: a live drain looks again
 * every `retryDelaySeconds` at most (sooner within a short heartbeat timeout), so twice that.
 */
export const freshMs = (run: DrainRun) => 2 * run.retryDelaySeconds * 1000;

/** One SQS delivery of a message (its id and receive count): every attempt keeps its own records. */
export type Delivery = ReturnType<typeof sqsDelivery>;

/** What the drain of one message records under and performs with. */
export interface Look {
  run: DrainRun;
  kit: RunKit;
  subject: Subject;
}

/**
 * The kernel kit of one message. No budget: every drain action weighs 0 (the drain is bounded by
 * Auto Scaling's own scale-in), so the allowance is never spent.
 */
export function kitOf(run: DrainRun, ctx: AuditContext): RunKit {
  return {
    spec: run.spec,
    audit: run.ports.audit,
    ctx,
    dryRun: run.dryRun,
    gate: run.runtime.gate,
    allowance: allowance(Number.POSITIVE_INFINITY),
  };
}

const modeOf = (dryRun: boolean) => (dryRun ? 'dry-run' : 'live');

/** The audit context of an SQS message before it is read (its own id is the trigger). */
export function messageContext(r: SQSRecord, dryRun: boolean, now: () => Date): AuditContext {
  return {
    function: FUNCTION,
    trigger: {
      source: 'aws.sqs',
      id: r.messageId,
      detailType: 'runner-drain message',
      time: now().toISOString(),
    },
    mode: modeOf(dryRun),
    now,
    ...sqsDelivery(r),
  };
}

/** The audit context of an event's look (`attempt`: which look-again this is). */
export function eventContext(
  run: DrainRun,
  e: { source: string; id: string; 'detail-type': string; time: string },
  attempt: number,
  delivery: Delivery,
): AuditContext {
  const t = Date.parse(e.time);
  return {
    function: FUNCTION,
    trigger: {
      source: e.source,
      id: attempt ? `${e.id}#${attempt}` : e.id,
      detailType: e['detail-type'],
      ...(Number.isNaN(t) ? {} : { time: new Date(t).toISOString() }),
    },
    mode: modeOf(run.dryRun),
    now: run.runtime.now,
    ...delivery,
  };
}

/** A decision that takes no action (skipped, refused), under `action`. */
export const note = (kit: RunKit, action: string, subject: Subject, r: Refusal) =>
  recordNote(kit, { kind: 'note', audit: action, decision: r.decision, subject, reason: r.reason });

/** Run `fn` (a read or plumbing); if it throws, leave a `failed` record of `action` (then rethrow). */
export async function orFailed<T>(
  kit: RunKit,
  action: string,
  subject: Subject,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    return auditedAction<T>(kit.audit, kit.ctx, { action, subject }, async () => {
      throw err;
    });
  }
}
