import '../core/zod-locale';
import * as z from 'zod/mini';
import { EventBridgeSchema } from '../core/eventbridge-schema';
import type { InstanceInventory, InstanceState } from '../ec2/port';
import { InstanceFactsUnavailableError } from './errors';
import { type DnsOptIn, optInReason, tagsForOptIn } from './opt-in';
import type { InstanceFact } from './planner';

/** The instance states DNS sync reacts to (pending is ignored: there is nothing to write yet). */
export const DNS_SYNC_STATES = ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;
export const EC2_STATE_CHANGE_DETAIL_TYPE = 'EC2 Instance State-change Notification';

export const Ec2StateChangeEventSchema = z.extend(EventBridgeSchema, {
  source: z.literal('aws.ec2'),
  'detail-type': z.literal(EC2_STATE_CHANGE_DETAIL_TYPE),
  detail: z.object({
    'instance-id': z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/)),
    state: z.enum(DNS_SYNC_STATES),
  }),
});
export type Ec2StateChangeEvent = z.infer<typeof Ec2StateChangeEventSchema>;

export const TAG_CHANGE_DETAIL_TYPE = 'Tag Change on Resource';
const INSTANCE_ARN = /^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:instance\/(i-[0-9a-f]{8,17})$/;

/** EventBridge "Tag Change on Resource" for an EC2 instance; `detail.tags` is the full tag set after the change. */
export const TagChangeEventSchema = z.extend(EventBridgeSchema, {
  source: z.literal('aws.tag'),
  'detail-type': z.literal(TAG_CHANGE_DETAIL_TYPE),
  resources: z.array(z.string().check(z.regex(INSTANCE_ARN))).check(z.length(1)),
  detail: z.object({
    'changed-tag-keys': z.array(z.string()),
    service: z.literal('ec2'),
    'resource-type': z.literal('instance'),
    tags: z._default(z.record(z.string(), z.string()), {}),
  }),
});
export type TagChangeEvent = z.infer<typeof TagChangeEventSchema>;

/**
 * What dns-sync acts on, from either event: a state change, or a tag change (treated as "running,
 * with these tags": it can only rename the record of a running instance).
 */
export interface DnsSyncEvent {
  id: string;
  source: string;
  detailType: string;
  /** ISO event time. */
  time: string;
  instanceId: string;
  state: (typeof DNS_SYNC_STATES)[number];
  /** Present for tag changes: the instance's full tag set after the change. */
  tags?: Record<string, string> | undefined;
}

/** Parse an EventBridge body into a DnsSyncEvent, or say why it is not one. */
export function parseDnsSyncEvent(
  body: unknown,
): { ok: true; event: DnsSyncEvent } | { ok: false; error: z.core.$ZodError } {
  const envelope = (e: { id: string; source: string; 'detail-type': string; time: Date | string }) => ({
    id: e.id,
    source: e.source,
    detailType: e['detail-type'],
    time: new Date(e.time).toISOString(),
  });
  const state = Ec2StateChangeEventSchema.safeParse(body);
  if (state.success) {
    const e = state.data;
    return {
      ok: true,
      event: { ...envelope(e), instanceId: e.detail['instance-id'], state: e.detail.state },
    };
  }
  const tag = TagChangeEventSchema.safeParse(body);
  if (!tag.success) {
    const isTag = (body as { source?: unknown } | null)?.source === 'aws.tag';
    return { ok: false, error: isTag ? tag.error : state.error };
  }
  const e = tag.data;
  return {
    ok: true,
    event: {
      ...envelope(e),
      // the schema admits exactly one instance ARN
      instanceId: INSTANCE_ARN.exec(e.resources[0] ?? '')?.[1] as string,
      state: 'running',
      tags: e.detail.tags,
    },
  };
}

export type FactOutcome =
  /**
   * `unseen`: a leaving event taken as true only because DescribeInstances does not show its
   * instance (in the scope described) past the absence window; a caller that knows other scopes
   * confirms the instance is in none of them before acting (dns-sync's batch.ts).
   */
  | { kind: 'fact'; fact: InstanceFact; unseen?: true }
  | { kind: 'skip'; reason: string }
  | { kind: 'refuse'; reason: string; details: Record<string, unknown> }
  | { kind: 'error'; error: Error };

/**
 * How far ahead of our clock an event may be dated (clock skew between EC2 and Lambda is seconds):
 * a later one is forged or broken, and is refused. A future-dated event must never act: its time
 * would make every real event after it look stale against the marker it leaves.
 */
export const MAX_EVENT_SKEW_MS = 5 * 60_000;

/** How far along the way out each leaving state is (a later state confirms an earlier one). */
const LEAVING_RANK: Partial<Record<InstanceState, number>> = {
  stopping: 1,
  stopped: 2,
  'shutting-down': 3,
  terminated: 4,
};

type Described = Awaited<ReturnType<InstanceInventory['describe']>>[number];

interface FactInput {
  nameTag: string;
  now: Date;
  absentAfterMs: number;
  optIn?: Omit<DnsOptIn, 'nameTag'> | undefined;
}

const optedIn = (tags: Record<string, string>, input: FactInput) =>
  optInReason(tags, { ...input.optIn, nameTag: input.nameTag }) !== undefined;

const ageOf = (e: DnsSyncEvent, now: Date) => now.getTime() - Date.parse(e.time);

/**
 * A leaving event (stopping/stopped/shutting-down/terminated) is a hint: it acts only once
 * DescribeInstances confirms it (the instance in that state or further along), while the instance
 * is describable. Contradicted (DescribeInstances shows it running, or not as far along): on the
 * first receive the message is retried once (DescribeInstances lags by seconds), then refused and
 * audited, the records staying. Not describable: retried like a lagging running event until it is
 * `absentAfterMs` old, then taken as gone (terminated instances stay describable ~1 h).
 */
function leavingOutcome(
  e: DnsSyncEvent,
  info: Described | undefined,
  attempt: number,
  input: FactInput,
): FactOutcome {
  const { instanceId, time } = e;
  const state = e.state as InstanceState;
  // not describable any more: nothing is known of its tags, so it publishes nothing (no tombstone)
  const fact = (): FactOutcome & { kind: 'fact' } => ({
    kind: 'fact',
    fact: {
      instanceId,
      state,
      time,
      source: 'event',
      optedIn: info ? optedIn(info.tags, input) : false,
      // where its records are: dns-sync reads these names, not the zone (see touched-names.ts)
      ...(info?.tags[input.nameTag] !== undefined ? { name: info.tags[input.nameTag] } : {}),
      ...(info?.privateIp ? { privateIp: info.privateIp } : {}),
    },
  });
  const ageMs = ageOf(e, input.now);
  if (!info) {
    if (ageMs > input.absentAfterMs) return { ...fact(), unseen: true };
    return {
      kind: 'error',
      error: new InstanceFactsUnavailableError(
        `DescribeInstances does not show ${instanceId} yet, so its ${state} event is unconfirmed; will retry`,
      ),
    };
  }
  const rank = LEAVING_RANK[info.state];
  if (rank !== undefined && rank >= (LEAVING_RANK[state] ?? 0)) return fact();
  if (info.launchTime && Date.parse(info.launchTime) > Date.parse(time)) {
    return {
      kind: 'skip',
      reason: `stale ${state} event at ${time}: the instance was started again at ${info.launchTime} (DescribeInstances shows it ${info.state})`,
    };
  }
  const contradiction = `DescribeInstances shows ${instanceId} ${info.state}, which does not confirm the ${state} event at ${time}`;
  if (attempt <= 1) {
    return { kind: 'error', error: new InstanceFactsUnavailableError(`${contradiction}; will retry once`) };
  }
  return {
    kind: 'refuse',
    reason: `${contradiction} (receive ${attempt}): the event is not acted on, the records stay`,
    details: { refusal: 'unconfirmed-state', eventState: state, describedState: info.state },
  };
}

/** States in which an instance is not leaving: a running event's fact may stand on them. */
const COMING_UP: ReadonlySet<string> = new Set(['running', 'pending']);

/** A running event or a tag change: the IP and the tags come from DescribeInstances. */
function runningOutcome(e: DnsSyncEvent, info: Described | undefined, input: FactInput): FactOutcome {
  const { instanceId, time } = e;
  const state = 'running' as const;
  if (e.tags && info && info.state !== 'running') {
    // a tag change only renames a running instance's record; the running event reads the tags
    return {
      kind: 'skip',
      reason: `tag change on a ${info.state} instance: nothing to publish now (the running event will use the tags)`,
    };
  }
  // only a described running (or still pending: DescribeInstances lags a launch) instance makes a
  // running fact: a shutting-down or stopped one still has its IP, and a (forged) running message
  // must not outvote its genuine leaving event
  if (info && COMING_UP.has(info.state) && info.privateIp) {
    return {
      kind: 'fact',
      fact: {
        instanceId,
        state,
        time,
        source: 'event',
        // a tag change carries the tags as they are now; DescribeInstances may still lag behind it
        name: (e.tags ?? info.tags)[input.nameTag],
        privateIp: info.privateIp,
        publicIp: info.publicIp,
        ...(e.tags ? { renameOnly: true } : {}),
        optedIn: optedIn(tagsForOptIn(e.tags, info.tags), input),
      },
    };
  }
  if (info && (info.state === 'terminated' || info.state === 'shutting-down')) {
    // terminal states never go back to running: this running event is necessarily old
    return {
      kind: 'skip',
      reason: `stale running event: DescribeInstances shows the instance ${info.state}`,
    };
  }
  const since = info?.stateChangedAt ? Date.parse(info.stateChangedAt) : Number.NaN;
  if (info && Date.parse(time) <= since) {
    // stopped (stopping) after this event: stale. Unknown since when: a restart may lag, so retry
    return {
      kind: 'skip',
      reason: `stale running event at ${time}: DescribeInstances shows the instance ${info.state} since ${info.stateChangedAt}`,
    };
  }
  const ageMs = ageOf(e, input.now);
  const seen = !info
    ? 'does not show it'
    : COMING_UP.has(info.state)
      ? `shows it ${info.state} without a private IP`
      : `shows it ${info.state}, not running`;
  if (ageMs > input.absentAfterMs) {
    return {
      kind: 'skip',
      reason: `running event is ${Math.round(ageMs / 60_000)} min old and DescribeInstances ${seen}; nothing to write`,
    };
  }
  return {
    kind: 'error',
    error: new InstanceFactsUnavailableError(`DescribeInstances ${seen} yet (${instanceId}); will retry`),
  };
}

/**
 * Turn state-change and tag-change events into planner facts. Message contents are hints: an event
 * dated more than MAX_EVENT_SKEW_MS ahead of `now` is refused; every instance is described (one
 * DescribeInstances call for the batch): a running event or tag change takes its IP and name tag
 * from there (a tag change brings its own tags; one on an instance that is not running is
 * skipped), and a leaving event acts only once DescribeInstances confirms it (see leavingOutcome).
 * A running instance that DescribeInstances does not show with an IP yet (eventual consistency) is
 * an error for that event only, so SQS retries it; after `absentAfterMs` it is skipped instead
 * (the instance is long gone), so the message does not cycle into the DLQ for nothing.
 * `attempts` gives each event's receive count (default 1); both are keyed by `keyOf` (the event id).
 */
export async function factsFromEvents(input: {
  events: readonly DnsSyncEvent[];
  inventory: InstanceInventory;
  nameTag: string;
  now: Date;
  absentAfterMs: number;
  attempts?: ReadonlyMap<string, number>;
  /** Who opts in besides the name tag (fleet tag, Auto Scaling groups). @default the name tag only */
  optIn?: Omit<DnsOptIn, 'nameTag'> | undefined;
  /** What the outcomes and `attempts` are keyed by (dns-sync: the delivery's scope and event). @default the event id */
  keyOf?: ((e: DnsSyncEvent) => string) | undefined;
}): Promise<Map<string, FactOutcome>> {
  const out = new Map<string, FactOutcome>();
  const key = input.keyOf ?? ((e: DnsSyncEvent) => e.id);
  const latestOk = input.now.getTime() + MAX_EVENT_SKEW_MS;
  const current = input.events.filter((e) => {
    if (Date.parse(e.time) <= latestOk) return true;
    out.set(key(e), {
      kind: 'refuse',
      reason: `event dated ${e.time}, in the future: more than ${MAX_EVENT_SKEW_MS / 60_000} min after now (${input.now.toISOString()}); forged or broken, not acted on`,
      details: { refusal: 'future-dated', eventTime: e.time, now: input.now.toISOString() },
    });
    return false;
  });
  const ids = [...new Set(current.map((e) => e.instanceId))].sort();
  let described: Map<string, Described> | undefined;
  let describeError: Error | undefined;
  if (ids.length > 0) {
    try {
      described = new Map((await input.inventory.describe(ids)).map((i) => [i.instanceId, i]));
    } catch (err) {
      describeError = err as Error;
    }
  }
  for (const e of current) {
    if (describeError) {
      out.set(key(e), { kind: 'error', error: describeError });
      continue;
    }
    const info = described?.get(e.instanceId);
    out.set(
      key(e),
      e.state === 'running'
        ? runningOutcome(e, info, input)
        : leavingOutcome(e, info, input.attempts?.get(key(e)) ?? 1, input),
    );
  }
  return out;
}
