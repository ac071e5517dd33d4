import type { SQSRecord } from 'aws-lambda';
import { sqsDelivery } from '../../shared/audit/audited-action';
import type { Subject } from '../../shared/audit/schema';
import { MalformedEventError } from '../../shared/core/errors';
import {
  AdoptedLifecycleEventSchema,
  DrainRetrySchema,
  ScheduledLookSchema,
  SpokeLookSchema,
  SpotInterruptionEventSchema,
  TerminateLifecycleEventSchema,
} from '../../shared/runners/lifecycle-event';
import { drain } from './drain-flow';
import { look } from './look';
import { type DrainRun, kitOf, type Message, messageContext, orFailed } from './run';
import { spot } from './spot';

function parse(record: SQSRecord): Message {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (err) {
    throw new MalformedEventError(`message ${record.messageId} is not JSON`, { cause: err });
  }
  const retry = DrainRetrySchema.safeParse(body);
  if (retry.success) return { kind: 'drain', event: retry.data.event, attempt: retry.data.attempt };
  const first = TerminateLifecycleEventSchema.safeParse(body);
  if (first.success) return { kind: 'drain', event: first.data, attempt: 0 };
  const adopted = AdoptedLifecycleEventSchema.safeParse(body);
  if (adopted.success) return { kind: 'drain', event: adopted.data, attempt: 0 };
  const spot = SpotInterruptionEventSchema.safeParse(body);
  if (spot.success) return { kind: 'spot', event: spot.data };
  const scheduled = ScheduledLookSchema.safeParse(body);
  if (scheduled.success) return { kind: 'look', event: scheduled.data };
  const spokeLook = SpokeLookSchema.safeParse(body);
  if (spokeLook.success) return { kind: 'look', event: spokeLook.data };
  throw new MalformedEventError(
    `message ${record.messageId} is neither a terminate lifecycle event, a spot interruption warning, a drain retry, a drain the look started nor a scheduled look: ${first.error.message}`,
    { cause: first.error },
  );
}

/** Best-effort subject of a message that could not be read: its instance if readable, else the drain's groups. */
export function unreadableSubject(body: string, groups: ReadonlySet<string>): Subject {
  const id = /"(?:EC2InstanceId|instance-id)"\s*:\s*"(i-[0-9a-f]{8,17})"/.exec(body)?.[1];
  return id ? { instanceId: id } : { autoScalingGroupName: [...groups].join(',') || 'unknown' };
}

/**
 * One SQS message: a message that cannot be read is audited (failed, with its message id), then
 * fails: SQS redelivers it and the DLQ (alarmed) keeps it for a human. Otherwise a drain look, a
 * spot interruption warning, or the scheduled look for lifecycle actions whose event was lost.
 */
export async function onMessage(run: DrainRun, r: SQSRecord): Promise<void> {
  const kit = kitOf(run, messageContext(r, run.dryRun, run.runtime.now));
  const msg = await orFailed(kit, 'drain.message', unreadableSubject(r.body, run.groups), async () =>
    parse(r),
  );
  if (msg.kind === 'spot') await spot(run, msg.event, sqsDelivery(r));
  else if (msg.kind === 'look') await look(run, msg.event, sqsDelivery(r));
  else await drain(run, msg, sqsDelivery(r));
}
