import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type AuditContext, auditedAction, sqsDelivery } from '../audit/audited-action';
import type { AuditSink } from '../audit/port';
import type { Subject } from '../audit/schema';
import {
  type AwsScope,
  type ScopeVerdict,
  sameScope,
  scopeKey,
  scopeOf,
  scopesOf,
  type Topology,
} from '../aws/scope';
import { inSpoke } from '../aws/scope-context';
import type { Handler } from './remediation';

/** What `routeByScope` needs: the topology, a handler per scope, and the hub's audit sink for refusals. */
export interface ScopeRouting<E, R> {
  /** Function name (audit `function`). */
  name: string;
  /** The deployed topology; undefined (no spokes): every event goes to `handlerFor(undefined)`, as before. */
  topology: Topology | undefined;
  /** The handler whose ports act in `scope` (built once per scope). */
  handlerFor: (scope: AwsScope | undefined) => Promise<Handler<E, R>> | Handler<E, R>;
  /** The hub's audit sink: where a refused event's record goes. */
  audit: AuditSink;
  mode: 'dry-run' | 'live';
  now?: () => Date;
  /**
   * How a queue batch reaches the handlers. @default `batchByScope`: one call per scope with that
   * scope's messages. `wholeBatch` (whole-batch.ts): ONE call of the hub's handler with every message
   * of a known scope, each message's scope known to the kernel, for a remediation whose batch-wide
   * step is the hub's (dns-sync) and whose ports follow the scope acted in (`portsFollowingScope`).
   * A router of its own module, so an entry that does not use it does not bundle it. Unknown scopes
   * are refused alike (`refuse`).
   */
  batches?: BatchRouter;
}

/** How one SQS batch reaches the scopes' handlers (`ScopeRouting.batches`). */
export type BatchRouter = <E, R>(
  routing: ScopeRouting<E, R>,
  handlerOf: (scope: AwsScope | undefined) => Promise<Handler<E, R>>,
  event: SQSEvent,
  context: Context | undefined,
) => Promise<R>;

type Unknown = Extract<ScopeVerdict, { kind: 'unknown' }>;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const text = (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : undefined);

export function parseBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined; // the hub's handler refuses it as malformed, with its own record
  }
}

/** The subject of a refused event: its instance, its group, else what it claimed to come from. */
function subjectOf(event: Record<string, unknown>, v: Unknown): Subject {
  const detail = isObject(event.detail) ? event.detail : {};
  const id = text(detail['instance-id']) ?? text(detail.EC2InstanceId);
  if (id && /^i-[0-9a-f]{8,17}$/.test(id)) return { instanceId: id };
  const group = text(detail.AutoScalingGroupName);
  if (group) return { autoScalingGroupName: group };
  return { recordName: `${String(v.account)}/${String(v.region)}` };
}

/**
 * The audited refusal of an event whose account/region is neither the hub's nor a configured
 * spoke's: `trust.unknown-account`, refused; nothing is called, and the message is not retried.
 */
export async function refuse<E, R>(
  routing: ScopeRouting<E, R>,
  body: unknown,
  v: Unknown,
  record?: SQSRecord,
): Promise<void> {
  const event = isObject(body) ? body : {};
  const id = text(event.id) ?? record?.messageId ?? 'unknown';
  const detailType = text(event['detail-type']);
  const ctx: AuditContext = {
    function: routing.name,
    // the event's own time is not trusted here: it is not needed to refuse
    trigger: { source: text(event.source) ?? 'unknown', id, ...(detailType ? { detailType } : {}) },
    mode: routing.mode,
    ...(routing.now ? { now: routing.now } : {}),
    ...(record ? sqsDelivery(record) : {}),
  };
  await auditedAction(
    routing.audit,
    ctx,
    { action: 'trust.unknown-account', subject: subjectOf(event, v) },
    async () => ({
      decision: 'refused',
      reason: `account ${String(v.account)} region ${String(v.region)} is neither the hub (${scopeKey((routing.topology as Topology).hub)}) nor a configured spoke: not acted on`,
      details: { account: v.account, region: v.region },
      result: undefined,
    }),
  );
}

const isSqs = (e: unknown): e is SQSEvent =>
  isObject(e) &&
  Array.isArray(e.Records) &&
  e.Records.every((r) => isObject(r) && typeof r.body === 'string');
const isSchedule = (e: unknown) =>
  isObject(e) && e.source === 'aws.events' && e['detail-type'] === 'Scheduled Event';

/** Run `run` for each group; a group that throws fails its own messages (or rethrows when alone). */
export const batchByScope: BatchRouter = async <E, R>(
  routing: ScopeRouting<E, R>,
  handlerOf: (scope: AwsScope | undefined) => Promise<Handler<E, R>>,
  event: SQSEvent,
  context: Context | undefined,
): Promise<R> => {
  const groups = new Map<string, { scope: AwsScope; records: SQSRecord[] }>();
  for (const record of event.Records) {
    const body = parseBody(record.body);
    const v = scopeOf(body, routing.topology);
    if (v.kind === 'unknown') {
      await refuse(routing, body, v, record);
      continue;
    }
    const scope = v.scope as AwsScope;
    const group = groups.get(scopeKey(scope)) ?? { scope, records: [] };
    group.records.push(record);
    groups.set(scopeKey(scope), group);
  }
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const { scope, records } of groups.values()) {
    try {
      const handler = await handlerOf(scope);
      const res = (await handler({ ...event, Records: records } as E, context)) as
        | SQSBatchResponse
        | undefined;
      failures.push(...(res?.batchItemFailures ?? []));
    } catch (err) {
      if (groups.size === 1) throw err;
      failures.push(...records.map((r) => ({ itemIdentifier: r.messageId })));
    }
  }
  return { batchItemFailures: failures } as R;
};

/** A schedule tick runs in every scope, the hub first; every scope runs even when one fails. */
async function everyScope<E, R>(
  topology: Topology,
  handlerOf: (scope: AwsScope | undefined) => Promise<Handler<E, R>>,
  event: E,
  context: Context | undefined,
): Promise<R> {
  const results: R[] = [];
  const errors: Error[] = [];
  for (const scope of scopesOf(topology)) {
    try {
      results.push(await (await handlerOf(scope))(event, context));
    } catch (err) {
      errors.push(err as Error);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1)
    throw new AggregateError(
      errors,
      `${errors.length} scopes failed: ${errors.map((e) => e.message).join('; ')}`,
    );
  return results[0] as R;
}

/**
 * The handler of each scope, built once (a failed wiring is retried on the next invocation); a
 * spoke's runs as acting in that spoke (its audit record ids are its own).
 */
export function scopeHandlers<E, R>(
  routing: Pick<ScopeRouting<E, R>, 'topology' | 'handlerFor'>,
): (scope: AwsScope | undefined) => Promise<Handler<E, R>> {
  const handlers = new Map<string, Promise<Handler<E, R>>>();
  return (scope) => {
    const key = scope ? scopeKey(scope) : '';
    let h = handlers.get(key);
    if (!h) {
      const spoke = scope && routing.topology && !sameScope(scope, routing.topology.hub) ? scope : undefined;
      h = Promise.resolve(routing.handlerFor(scope)).then(
        (handler): Handler<E, R> =>
          (event, context) =>
            inSpoke(spoke, () => handler(event, context)),
      );
      h.catch(() => handlers.delete(key));
      handlers.set(key, h);
    }
    return h;
  };
}

/**
 * The scope seam of a hub function (README "Hub and spokes"): every event is acted on only in its
 * own `{account, region}` (`scopeOf`), by the handler whose ports call there; an event of any
 * other account/region is refused and audited, never handed to a handler. A queue batch is split
 * by scope (failures merged); a schedule tick runs once per scope; without a topology (no spokes)
 * the handler gets every event unchanged.
 */
export function routeByScope<E, R>(routing: ScopeRouting<E, R>): Handler<E, R> {
  const handlerOf = scopeHandlers(routing);
  const topology = routing.topology;
  return async (event, context) => {
    if (!topology) return (await handlerOf(undefined))(event, context);
    if (isSqs(event)) return (routing.batches ?? batchByScope)(routing, handlerOf, event, context);
    if (isSchedule(event)) return everyScope(topology, handlerOf, event, context);
    const v = scopeOf(event, topology);
    if (v.kind !== 'unknown') return (await handlerOf(v.scope))(event, context);
    await refuse(routing, event, v);
    return undefined as R;
  };
}
