import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsDelivery } from '../../shared/audit/audited-action';
import { byMessageSpoke, inSpoke } from '../../shared/aws/scope-context';
import { MalformedEventError } from '../../shared/core/errors';
import type { SyncResult } from '../../shared/dns/apply';
import { MissingDecisionError } from '../../shared/dns/errors';
import type { DnsOptIn } from '../../shared/dns/opt-in';
import { type InstanceFact, latestPerInstance, type PlanDecision } from '../../shared/dns/planner';
import {
  type DnsSyncEvent,
  EC2_STATE_CHANGE_DETAIL_TYPE,
  type FactOutcome,
  factsFromEvents,
  parseDnsSyncEvent,
} from '../../shared/dns/state-change';
import type { InstanceInventory } from '../../shared/ec2/port';

/**
 * dns-sync's reading of one SQS batch: every message parsed, the facts of its events verified
 * against DescribeInstances, and the newest fact per instance (the batch's winners) chosen.
 */
export type Parsed = { kind: 'event'; event: DnsSyncEvent } | { kind: 'malformed'; error: Error };

export function parseRecord(record: SQSRecord): Parsed {
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch (err) {
    return {
      kind: 'malformed',
      error: new MalformedEventError(`message ${record.messageId} is not JSON`, { cause: err }),
    };
  }
  const result = parseDnsSyncEvent(body);
  if (!result.ok) {
    return {
      kind: 'malformed',
      error: new MalformedEventError(
        `message ${record.messageId} is not an EC2 state-change or instance tag-change event: ${result.error.message}`,
        { cause: result.error },
      ),
    };
  }
  return { kind: 'event', event: result.event };
}

export interface Batch {
  parsed: Map<string, Parsed>;
  facts: Map<string, FactOutcome>;
  /** One fact per instance: the newest event in the batch (the rest are superseded). */
  winners: InstanceFact[];
  winnerEvent: Map<string, DnsSyncEvent>;
  /** Per event id, its most-retried delivery in the batch. */
  attemptOf: Map<string, number>;
}

/** Parse the batch, verify its events' facts, keep the newest fact per instance. */
export async function readBatch(
  event: SQSEvent,
  input: {
    inventory: InstanceInventory;
    nameTag: string;
    optIn: Omit<DnsOptIn, 'nameTag'>;
    now: Date;
    absentAfterMs: number;
  },
): Promise<Batch> {
  const parsed = new Map(event.Records.map((r) => [r.messageId, parseRecord(r)]));
  const events = [...parsed.values()].flatMap((p) => (p.kind === 'event' ? [p.event] : []));
  // the batch's attempt is its most-retried message's: a retried batch keeps its own record
  const attemptOf = new Map<string, number>();
  for (const r of event.Records) {
    const p = parsed.get(r.messageId);
    if (p?.kind !== 'event') continue;
    attemptOf.set(p.event.id, Math.max(attemptOf.get(p.event.id) ?? 1, sqsDelivery(r).attempt));
  }
  // each event's instance is described in its own event's scope only (a whole batch across scopes)
  const facts = new Map<string, FactOutcome>();
  for (const group of byMessageSpoke(event.Records)) {
    const mine = group.records.flatMap((r) => {
      const p = parsed.get(r.messageId);
      return p?.kind === 'event' ? [p.event] : [];
    });
    if (mine.length === 0) continue;
    const part = await inSpoke(group.spoke, () =>
      factsFromEvents({ ...input, events: mine, attempts: attemptOf }),
    );
    for (const [id, outcome] of part) facts.set(id, outcome);
  }
  const usable = events.flatMap((e) => {
    const f = facts.get(e.id) as FactOutcome;
    return f.kind === 'fact' ? [{ event: e, fact: f.fact }] : [];
  });
  const winners = latestPerInstance(usable.map((u) => u.fact));
  const winnerEvent = new Map<string, DnsSyncEvent>();
  for (const w of winners) {
    // latestPerInstance may hand back a tag change as a copy (no longer rename-only)
    const u = usable.find(
      (x) => x.fact.instanceId === w.instanceId && x.fact.time === w.time && x.fact.state === w.state,
    );
    if (u) winnerEvent.set(w.instanceId, u.event);
  }
  return { parsed, facts, winners, winnerEvent, attemptOf };
}

/**
 * The batch action's trigger: named by the deliveries (SQS message ids) of the winning events, not
 * by the event ids: an EventBridge duplicate of the same events in a later batch gets its own record
 * and never overwrites the one that acted.
 */
export function batchTrigger(event: SQSEvent, b: Batch) {
  const ids = event.Records.filter((r) => {
    const p = b.parsed.get(r.messageId);
    return p?.kind === 'event' && b.winnerEvent.get(p.event.instanceId) === p.event;
  })
    .map((r) => r.messageId)
    .sort()
    .join(',');
  return {
    source: 'aws.ec2',
    id: `batch-${createHash('sha256').update(ids).digest('hex').slice(0, 24)}`,
    detailType: EC2_STATE_CHANGE_DETAIL_TYPE,
  };
}

/** What became of the batch action: its result, or the error that failed it. */
export interface Applied {
  result?: SyncResult | undefined;
  error?: Error | undefined;
}

export interface EventOutcome {
  decision?: PlanDecision;
  skip?: string;
  refuse?: { reason: string; details: Record<string, unknown> };
  error?: Error;
}

/** What the batch decided for one event: its fact's verdict, superseded, failed, or its decision. */
export function outcomeOf(b: Batch, applied: Applied, e: DnsSyncEvent): EventOutcome {
  const f = b.facts.get(e.id) as FactOutcome;
  if (f.kind === 'skip') return { skip: f.reason };
  if (f.kind === 'refuse') return { refuse: { reason: f.reason, details: f.details } };
  if (f.kind === 'error') return { error: f.error };
  const winner = b.winnerEvent.get(e.instanceId);
  if (winner && winner.id !== e.id) {
    return { skip: `superseded by event ${winner.id} (${winner.state} at ${winner.time}) in the same batch` };
  }
  if (applied.error) return { error: applied.error };
  const { result } = applied;
  const failure = result?.failures.find((x) => x.instanceId === e.instanceId);
  if (failure) return { error: failure.error };
  const decision = result?.decisions.find((d) => d.instanceId === e.instanceId);
  return decision
    ? { decision }
    : {
        error: new MissingDecisionError(`no decision planned for ${e.instanceId}`, {
          cause: result?.planned,
        }),
      };
}
