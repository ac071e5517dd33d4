import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { sqsDelivery } from '../../shared/audit/audited-action';
import { type AwsScope, sameScope, scopeKey, scopesOf, type Topology } from '../../shared/aws/scope';
import { byMessageSpoke, inSpoke } from '../../shared/aws/scope-context';
import { ConfigError, MalformedEventError } from '../../shared/core/errors';
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

/**
 * The batch read per delivery: a message is judged on its own event, verified in its own scope.
 * Event ids are not trusted to tell deliveries apart (a forged message can reuse a spoke event's id
 * in another scope): what is per delivery is keyed by the SQS message id, and deliveries share an
 * outcome only when they carry the same event in the same scope (an EventBridge duplicate).
 */
export interface Batch {
  parsed: Map<string, Parsed>;
  /** Per SQS message id: its event's verdict, from its own scope's DescribeInstances. */
  facts: Map<string, FactOutcome>;
  /** One fact per instance: the newest event in the batch (the rest are superseded). */
  winners: InstanceFact[];
  /** Per instance id: the winning event and its event key. */
  winnerOf: Map<string, { key: string; event: DnsSyncEvent }>;
  /** Per SQS message id: its event key (scope, event id and contents; duplicates share it). */
  keyOf: Map<string, string>;
  /** Per event key, its most-retried delivery in the batch. */
  attemptOf: Map<string, number>;
}

interface Delivery {
  record: SQSRecord;
  key: string;
  event: DnsSyncEvent;
}

/** The event of a delivery as it is judged: its scope, its id and what it claims. */
const eventKey = (spoke: AwsScope | undefined, e: DnsSyncEvent) =>
  JSON.stringify([spoke ? scopeKey(spoke) : '', e.id, e.instanceId, e.state, e.time, e.tags ?? null]);

/** Each scope's deliveries (parsed events only), keyed as `Batch.keyOf` says. */
function deliveriesByScope(records: readonly SQSRecord[], parsed: Map<string, Parsed>) {
  return byMessageSpoke(records).map((group) => ({
    spoke: group.spoke,
    deliveries: group.records.flatMap((record): Delivery[] => {
      const p = parsed.get(record.messageId);
      return p?.kind === 'event' ? [{ record, key: eventKey(group.spoke, p.event), event: p.event }] : [];
    }),
  }));
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
    /** The hub and spokes (absent: one scope): an instance unseen in its own scope is looked for in the others. */
    topology?: Topology | undefined;
  },
): Promise<Batch> {
  const parsed = new Map(event.Records.map((r) => [r.messageId, parseRecord(r)]));
  const groups = deliveriesByScope(event.Records, parsed);
  const keyOf = new Map<string, string>();
  // the batch's attempt is its most-retried message's: a retried batch keeps its own record
  const attemptOf = new Map<string, number>();
  for (const { record, key } of groups.flatMap((g) => g.deliveries)) {
    keyOf.set(record.messageId, key);
    attemptOf.set(key, Math.max(attemptOf.get(key) ?? 1, sqsDelivery(record).attempt));
  }
  // each event's instance is described in its own event's scope only (a whole batch across scopes)
  const facts = new Map<string, FactOutcome>();
  for (const g of groups) {
    if (g.deliveries.length === 0) continue;
    const keys = new Map(g.deliveries.map((d) => [d.event, d.key]));
    const part = await inSpoke(g.spoke, () =>
      factsFromEvents({
        ...input,
        events: g.deliveries.map((d) => d.event),
        attempts: attemptOf,
        keyOf: (e) => keys.get(e) as string,
      }),
    );
    for (const d of g.deliveries) facts.set(d.record.messageId, part.get(d.key) as FactOutcome);
  }
  await refuseSeenElsewhere(input.inventory, input.topology, groups, facts);
  const usable = groups.flatMap((g) =>
    g.deliveries.flatMap((d) => {
      const f = facts.get(d.record.messageId) as FactOutcome;
      return f.kind === 'fact' ? [{ ...d, fact: f.fact }] : [];
    }),
  );
  const winners = latestPerInstance(usable.map((u) => u.fact));
  const winnerOf = new Map<string, { key: string; event: DnsSyncEvent }>();
  for (const w of winners) {
    // latestPerInstance may hand back a tag change as a copy (no longer rename-only)
    const u =
      usable.find((x) => x.fact === w) ??
      usable.find(
        (x) => x.fact.instanceId === w.instanceId && x.fact.time === w.time && x.fact.state === w.state,
      );
    if (u) winnerOf.set(w.instanceId, { key: u.key, event: u.event });
  }
  return { parsed, facts, winners, winnerOf, keyOf, attemptOf };
}

/**
 * A leaving event whose instance its own scope does not show is taken as gone only if no other
 * scope of the fleet shows it either: record markers name no account, so a spoke's (or the hub's)
 * word about an instance it does not have would otherwise delete another scope's records. Only
 * such unseen instances cost a DescribeInstances per other scope; a failing one fails their
 * messages (retried), never lets them act.
 */
async function refuseSeenElsewhere(
  inventory: InstanceInventory,
  topology: Topology | undefined,
  groups: ReturnType<typeof deliveriesByScope>,
  facts: Map<string, FactOutcome>,
): Promise<void> {
  const unseen = groups.flatMap((g) =>
    g.deliveries
      .filter((d) => {
        const f = facts.get(d.record.messageId);
        return f?.kind === 'fact' && f.unseen;
      })
      .map((d) => ({ ...d, spoke: g.spoke })),
  );
  if (unseen.length === 0) return;
  if (!topology) {
    // one scope: nowhere else to look. Spoke events without the topology: a wiring error, never a guess
    if (!unseen.some((u) => u.spoke)) return;
    const error = new ConfigError(
      'dns-sync serves spoke events without the topology (Runtime.topology): an instance its own scope does not show cannot be looked for in the others, so it is not counted gone',
    );
    for (const u of unseen) facts.set(u.record.messageId, { kind: 'error', error });
    return;
  }
  const homed = unseen.map((u) => ({ ...u, home: u.spoke ?? topology.hub }));
  const shownIn = await describeElsewhere(inventory, topology, homed, facts);
  for (const u of homed) {
    const where = shownIn.get(u.event.instanceId);
    if (!where || facts.get(u.record.messageId)?.kind === 'error') continue;
    facts.set(u.record.messageId, {
      kind: 'refuse',
      reason: `${u.event.state} event claimed in ${scopeKey(u.home)}, where DescribeInstances does not show ${u.event.instanceId}, but ${where.join(', ')} shows it: one scope's word never removes another scope's records (forged or misrouted); the records stay`,
      details: { refusal: 'trust.instance-in-another-scope', claimedScope: scopeKey(u.home), shownIn: where },
    });
  }
}

/**
 * Per instance id, the other scopes whose DescribeInstances shows it (one call per scope, for the
 * ids claimed elsewhere); a scope that cannot be described fails the messages that needed it.
 */
async function describeElsewhere(
  inventory: InstanceInventory,
  topology: Topology,
  homed: readonly (Delivery & { home: AwsScope })[],
  facts: Map<string, FactOutcome>,
): Promise<Map<string, string[]>> {
  const shownIn = new Map<string, string[]>();
  for (const scope of scopesOf(topology)) {
    const ids = [...new Set(homed.filter((u) => !sameScope(u.home, scope)).map((u) => u.event.instanceId))];
    if (ids.length === 0) continue;
    try {
      const spoke = sameScope(scope, topology.hub) ? undefined : scope;
      // the inventory follows the scope acted in (portsFollowingScope): read it inside inSpoke
      const found = await inSpoke(spoke, () => inventory.describe(ids.sort()));
      for (const i of found)
        shownIn.set(i.instanceId, [...(shownIn.get(i.instanceId) ?? []), scopeKey(scope)]);
    } catch (err) {
      for (const u of homed.filter((x) => ids.includes(x.event.instanceId)))
        facts.set(u.record.messageId, { kind: 'error', error: err as Error });
    }
  }
  return shownIn;
}

/** Whether message `messageId` carries its instance's winning event (or a duplicate of it). */
export const isWinner = (b: Batch, messageId: string, e: DnsSyncEvent) =>
  b.winnerOf.get(e.instanceId)?.key === b.keyOf.get(messageId);

/**
 * The batch action's trigger: named by the deliveries (SQS message ids) of the winning events, not
 * by the event ids: an EventBridge duplicate of the same events in a later batch gets its own record
 * and never overwrites the one that acted.
 */
export function batchTrigger(event: SQSEvent, b: Batch) {
  const ids = event.Records.filter((r) => {
    const p = b.parsed.get(r.messageId);
    return p?.kind === 'event' && isWinner(b, r.messageId, p.event);
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

/**
 * What became of the batch action: its result, the error that failed it, or both (Route 53 failed
 * every request it sent: each instance's outcome is then in `result.failures`).
 */
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

/**
 * What the batch decided for one message's event: its fact's verdict, superseded, failed, or its
 * decision.
 */
export function outcomeOf(b: Batch, applied: Applied, messageId: string, e: DnsSyncEvent): EventOutcome {
  const f = b.facts.get(messageId) as FactOutcome;
  if (f.kind === 'skip') return { skip: f.reason };
  if (f.kind === 'refuse') return { refuse: { reason: f.reason, details: f.details } };
  if (f.kind === 'error') return { error: f.error };
  const winner = b.winnerOf.get(e.instanceId)?.event;
  if (winner && !isWinner(b, messageId, e)) {
    return { skip: `superseded by event ${winner.id} (${winner.state} at ${winner.time}) in the same batch` };
  }
  // without a result (the zone read, the audit failed), the batch's error is every message's
  if (applied.error && !applied.result) return { error: applied.error };
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
