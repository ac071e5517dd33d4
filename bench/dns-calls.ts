/**
 * The chaos day's DNS ledgers: where dns-sync's Route 53 calls go, batch by batch (what each batch
 * held and what it cost), and how long a running instance waits for its A record (time-to-record).
 */
import type { SQSBatchResponse } from 'aws-lambda';
import type { RecordSet } from '../shared/dns/port';

/** One dns-sync invocation: what its batch held and the Route 53 calls it made. */
export interface SyncBatch {
  at: number;
  messages: number;
  /** Messages received before (SQS redelivered them after a failed try). */
  retried: number;
  /** Messages whose event an earlier batch already handled (an EventBridge duplicate, or a retry after success). */
  alreadyApplied: number;
  running: number;
  leaving: number;
  /** Other states (stopping, stopped) and name-tag changes. */
  other: number;
  list: number;
  change: number;
  /** Messages the batch failed (they come back). */
  failed: number;
}

/** How batches split by what they did: the breakdown the bench prints. */
export interface BatchGroup {
  batches: number;
  messages: number;
  running: number;
  leaving: number;
  alreadyApplied: number;
  list: number;
  change: number;
}

export type BatchKind = 'wrote' | 'read, wrote nothing' | 'only already-applied events' | 'no Route 53 call';

interface SyncMessage {
  messageId: string;
  body: string;
  attributes: { ApproximateReceiveCount: string };
}

const LEAVING = new Set(['shutting-down', 'terminated']);

/** Every dns-sync batch, and the events the earlier ones handled. */
export class DnsSyncLedger {
  readonly batches: SyncBatch[] = [];
  private readonly applied = new Set<string>();

  /** Before the batch runs: what it holds (`calls`: filled in by `settle`). */
  open(at: number, records: readonly SyncMessage[]): SyncBatch {
    const b: SyncBatch = {
      at,
      messages: records.length,
      retried: 0,
      alreadyApplied: 0,
      running: 0,
      leaving: 0,
      other: 0,
      list: 0,
      change: 0,
      failed: 0,
    };
    for (const r of records) {
      const e = eventOf(r.body);
      if (Number(r.attributes.ApproximateReceiveCount) > 1) b.retried++;
      if (e.id && this.applied.has(e.id)) b.alreadyApplied++;
      if (e.state === 'running') b.running++;
      else if (e.state && LEAVING.has(e.state)) b.leaving++;
      else b.other++;
    }
    this.batches.push(b);
    return b;
  }

  /** After it ran: the messages it did not fail are handled (a thrown batch handled none). */
  settle(b: SyncBatch, records: readonly SyncMessage[], response: unknown, threw: boolean): void {
    const failed = threw
      ? new Set(records.map((r) => r.messageId))
      : new Set(
          ((response as SQSBatchResponse | undefined)?.batchItemFailures ?? []).map((f) => f.itemIdentifier),
        );
    b.failed = failed.size;
    for (const r of records) {
      const id = eventOf(r.body).id;
      if (id && !failed.has(r.messageId)) this.applied.add(id);
    }
  }

  /** The batches by what they did. */
  groups(): Map<BatchKind, BatchGroup> {
    const out = new Map<BatchKind, BatchGroup>();
    for (const b of this.batches) {
      const kind = kindOf(b);
      const g = out.get(kind) ?? {
        batches: 0,
        messages: 0,
        running: 0,
        leaving: 0,
        alreadyApplied: 0,
        list: 0,
        change: 0,
      };
      g.batches++;
      g.messages += b.messages;
      g.running += b.running;
      g.leaving += b.leaving;
      g.alreadyApplied += b.alreadyApplied;
      g.list += b.list;
      g.change += b.change;
      out.set(kind, g);
    }
    return out;
  }
}

export function kindOf(b: SyncBatch): BatchKind {
  if (b.change > 0) return 'wrote';
  if (b.list === 0) return 'no Route 53 call';
  if (b.alreadyApplied === b.messages) return 'only already-applied events';
  return 'read, wrote nothing';
}

function eventOf(body: string): { id?: string; state?: string } {
  try {
    const e = JSON.parse(body) as { id?: string; detail?: { state?: string } };
    return { ...(e.id ? { id: e.id } : {}), ...(e.detail?.state ? { state: e.detail.state } : {}) };
  } catch {
    return {};
  }
}

/** Seconds from an event's time to the zone showing it. */
export interface Delay {
  count: number;
  medianS: number;
  p95S: number;
  maxS: number;
}

/**
 * Time-to-record, in seconds: from a running event's time to its A record being visible; and
 * time-to-removal: from a leaving event's time to that record being gone (records that showed only).
 */
export interface TimeToRecord {
  /** Running events whose record became visible. */
  recorded: number;
  medianS: number;
  p95S: number;
  maxS: number;
  /** Running events whose instance left (or the run ended) before its record showed. */
  neverRecorded: number;
  /** Leaving event -> the instance's A record gone. */
  removal: Delay;
}

interface Awaited {
  name: string;
  ip: string;
  since: number;
}

/**
 * Watches one zone for the A records of running instances. `running` on the first delivery of a
 * running event (the event's own time starts the clock), `leaving` on a leaving event, `check`
 * after each call that may have written the zone.
 */
export class RecordWatch {
  private readonly waiting = new Map<string, Awaited>();
  /** Newest event time seen per instance (a reordered older event starts nothing). */
  private readonly newest = new Map<string, number>();
  private readonly seenEvents = new Set<string>();
  private readonly samples: number[] = [];
  /** Recorded instances (their record showed), and those leaving whose record still shows. */
  private readonly shown = new Map<string, Awaited>();
  private readonly going = new Map<string, Awaited>();
  private readonly removals: number[] = [];
  private left = 0;

  /** Whether this event is news (its first delivery, newer than the instance's last event). */
  private fresh(eventId: string, instanceId: string, time: number): boolean {
    if (this.seenEvents.has(eventId)) return false;
    this.seenEvents.add(eventId);
    if ((this.newest.get(instanceId) ?? Number.NEGATIVE_INFINITY) > time) return false;
    this.newest.set(instanceId, time);
    return true;
  }

  running(
    e: { eventId: string; instanceId: string; time: number },
    record: { name: string; ip: string },
  ): void {
    if (!this.fresh(e.eventId, e.instanceId, e.time)) return;
    if (!this.waiting.has(e.instanceId)) this.waiting.set(e.instanceId, { ...record, since: e.time });
  }

  leaving(e: { eventId: string; instanceId: string; time: number }): void {
    if (!this.fresh(e.eventId, e.instanceId, e.time)) return;
    if (this.waiting.delete(e.instanceId)) this.left++;
    const shown = this.shown.get(e.instanceId);
    if (shown) this.going.set(e.instanceId, { ...shown, since: e.time });
    this.shown.delete(e.instanceId);
  }

  check(now: number, records: readonly RecordSet[]): void {
    if (this.waiting.size === 0 && this.going.size === 0) return;
    const a = new Map<string, string[]>();
    for (const r of records) if (r.type === 'A') a.set(bare(r.name), r.values);
    const visible = (w: Awaited) => a.get(bare(w.name))?.includes(w.ip) === true;
    const since = (w: Awaited) => Math.max(0, now - w.since) / 1000;
    for (const [id, w] of this.waiting) {
      if (!visible(w)) continue;
      this.samples.push(since(w));
      this.shown.set(id, w);
      this.waiting.delete(id);
    }
    for (const [id, w] of this.going) {
      if (visible(w)) continue;
      this.removals.push(since(w));
      this.going.delete(id);
    }
  }

  figures(): TimeToRecord {
    const d = delay(this.samples);
    return {
      recorded: d.count,
      medianS: d.medianS,
      p95S: d.p95S,
      maxS: d.maxS,
      neverRecorded: this.left + this.waiting.size,
      removal: delay(this.removals),
    };
  }
}

function delay(samples: readonly number[]): Delay {
  const s = [...samples].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return { count: s.length, medianS: at(0.5), p95S: at(0.95), maxS: s.at(-1) ?? Number.NaN };
}

const bare = (n: string) => n.toLowerCase().replace(/\.$/, '');
