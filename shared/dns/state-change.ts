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

export type FactOutcome =
  | { kind: 'fact'; fact: InstanceFact }
  | { kind: 'skip'; reason: string }
  | { kind: 'error'; error: Error };

/**
 * Turn state-change events into planner facts. Only `running` events need DescribeInstances (one
 * call for the whole batch): it supplies the IP and the name tag. Leaving events need nothing: the
 * records are found through their ownership markers, so a terminated instance without an IP is fine.
 * A running instance that DescribeInstances does not show with an IP yet (eventual consistency) is
 * an error for that event only, so SQS retries it; after `absentAfterMs` it is skipped instead
 * (the instance is long gone), so the message does not cycle into the DLQ for nothing.
 */
export async function factsFromEvents(input: {
  events: readonly Ec2StateChangeEvent[];
  inventory: InstanceInventory;
  nameTag: string;
  now: Date;
  absentAfterMs: number;
}): Promise<Map<string, FactOutcome>> {
  const out = new Map<string, FactOutcome>();
  const runningIds = [
    ...new Set(input.events.filter((e) => e.detail.state === 'running').map((e) => e.detail['instance-id'])),
  ];
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
    const instanceId = e.detail['instance-id'];
    const state = e.detail.state as InstanceState;
    const time = new Date(e.time).toISOString();
    if (state !== 'running') {
      out.set(e.id, { kind: 'fact', fact: { instanceId, state, time, source: 'event' } });
      continue;
    }
    if (describeError) {
      out.set(e.id, { kind: 'error', error: describeError });
      continue;
    }
    const info = described?.get(instanceId);
    if (info?.privateIp) {
      out.set(e.id, {
        kind: 'fact',
        fact: {
          instanceId,
          state,
          time,
          source: 'event',
          name: info.tags[input.nameTag],
          privateIp: info.privateIp,
          publicIp: info.publicIp,
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
