import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import type { InstanceInventory, InstanceState } from '../ec2/port';
import { InstanceFactsUnavailableError } from './errors';
import type { InstanceFact } from './planner';

/** The instance states DNS sync reacts to (pending is ignored: there is nothing to write yet). */
export const DNS_SYNC_STATES = ['running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;
export const EC2_STATE_CHANGE_DETAIL_TYPE = 'EC2 Instance State-change Notification';

export const Ec2StateChangeEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.ec2'),
  'detail-type': z.literal(EC2_STATE_CHANGE_DETAIL_TYPE),
  detail: z.object({
    'instance-id': z.string().regex(/^i-[0-9a-f]{8,17}$/),
    state: z.enum(DNS_SYNC_STATES),
  }),
});
export type Ec2StateChangeEvent = z.infer<typeof Ec2StateChangeEventSchema>;

export const TAG_CHANGE_DETAIL_TYPE = 'Tag Change on Resource';
const INSTANCE_ARN = /^arn:aws[a-z-]*:ec2:[a-z0-9-]+:\d{12}:instance\/(i-[0-9a-f]{8,17})$/;

/** EventBridge "Tag Change on Resource" for an EC2 instance; `detail.tags` is the full tag set after the change. */
export const TagChangeEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.tag'),
  'detail-type': z.literal(TAG_CHANGE_DETAIL_TYPE),
  resources: z.array(z.string().regex(INSTANCE_ARN)).length(1),
  detail: z.object({
    'changed-tag-keys': z.array(z.string()),
    service: z.literal('ec2'),
    'resource-type': z.literal('instance'),
    tags: z.record(z.string(), z.string()).default({}),
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
): { ok: true; event: DnsSyncEvent } | { ok: false; error: z.ZodError } {
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
  | { kind: 'fact'; fact: InstanceFact }
  | { kind: 'skip'; reason: string }
  | { kind: 'error'; error: Error };

/**
 * Turn state-change and tag-change events into planner facts. Only `running` events and tag changes
 * need DescribeInstances (one call for the whole batch): it supplies the IP and the name tag (a tag
 * change brings its own tags; one on an instance that is not running is skipped). Leaving events need nothing: the
 * records are found through their ownership markers, so a terminated instance without an IP is fine.
 * A running instance that DescribeInstances does not show with an IP yet (eventual consistency) is
 * an error for that event only, so SQS retries it; after `absentAfterMs` it is skipped instead
 * (the instance is long gone), so the message does not cycle into the DLQ for nothing.
 */
export async function factsFromEvents(input: {
  events: readonly DnsSyncEvent[];
  inventory: InstanceInventory;
  nameTag: string;
  now: Date;
  absentAfterMs: number;
}): Promise<Map<string, FactOutcome>> {
  const out = new Map<string, FactOutcome>();
  const runningIds = [...new Set(input.events.filter((e) => e.state === 'running').map((e) => e.instanceId))];
  let described: Map<string, Awaited<ReturnType<InstanceInventory['describe']>>[number]> | undefined;
  let describeError: Error | undefined;
  if (runningIds.length > 0) {
    try {
      described = new Map((await input.inventory.describe(runningIds)).map((i) => [i.instanceId, i]));
    } catch (err) {
      describeError = err as Error;
    }
  }
  for (const e of input.events) {
    const { instanceId, time } = e;
    const state = e.state as InstanceState;
    if (state !== 'running') {
      out.set(e.id, { kind: 'fact', fact: { instanceId, state, time, source: 'event' } });
      continue;
    }
    if (describeError) {
      out.set(e.id, { kind: 'error', error: describeError });
      continue;
    }
    const info = described?.get(instanceId);
    if (e.tags && info && info.state !== 'running') {
      // a tag change only renames a running instance's record; the running event reads the tags
      out.set(e.id, {
        kind: 'skip',
        reason: `tag change on a ${info.state} instance: nothing to publish now (the running event will use the tags)`,
      });
      continue;
    }
    if (info?.privateIp) {
      out.set(e.id, {
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
        },
      });
      continue;
    }
    if (info && (info.state === 'terminated' || info.state === 'shutting-down')) {
      // terminal states never go back to running: this running event is necessarily old
      out.set(e.id, {
        kind: 'skip',
        reason: `stale running event: DescribeInstances shows the instance ${info.state}`,
      });
      continue;
    }
    const ageMs = input.now.getTime() - Date.parse(e.time);
    const seen = info ? `shows it ${info.state} without a private IP` : 'does not show it';
    if (ageMs > input.absentAfterMs) {
      out.set(e.id, {
        kind: 'skip',
        reason: `running event is ${Math.round(ageMs / 60_000)} min old and DescribeInstances ${seen}; nothing to write`,
      });
    } else {
      out.set(e.id, {
        kind: 'error',
        error: new InstanceFactsUnavailableError(`DescribeInstances ${seen} yet (${instanceId}); will retry`),
      });
    }
  }
  return out;
}
