import { SweepStateError } from './errors';
import type { RemovalReservation, RemovalTally, SweepStateStore } from './port';

/**
 * The sweep state in memory, with DynamoDB's semantics as the adapter uses them: expired records
 * are gone (TTL), removals are summed over an inclusive time range, a first sighting is set once
 * (if_not_exists) and its expiry refreshed on every call. `failNext()` makes the next call throw.
 */
export class InMemorySweepState implements SweepStateStore {
  private readonly removals: Array<{
    /** a record replaces only a record of its run and time, never a reservation */
    kind: 'reserved' | 'recorded';
    at: number;
    runId: string;
    count: number;
    unconfirmed: number;
    expiresAt: number;
  }> = [];
  private readonly seen = new Map<string, { first: number; expiresAt: number }>();
  private failures = 0;

  constructor(private readonly clock: () => number = () => Date.now()) {}

  failNext(times = 1): void {
    this.failures = times;
  }

  async removalsSince(since: Date): Promise<RemovalTally> {
    this.maybeFail('removalsSince');
    return this.sum(since);
  }

  private sum(since: Date): RemovalTally {
    const now = this.clock();
    return this.removals
      .filter((r) => r.at >= since.getTime() && r.expiresAt > now)
      .reduce((sum, r) => ({ total: sum.total + r.count, unconfirmed: sum.unconfirmed + r.unconfirmed }), {
        total: 0,
        unconfirmed: 0,
      });
  }

  async reserveRemovals(r: RemovalReservation): Promise<{ spent: number; granted: number }> {
    this.maybeFail('reserveRemovals');
    // no await from the read to the write: atomic, as the adapter's versioned put makes it
    const spent = this.sum(r.since).total;
    const granted = Math.max(0, Math.min(r.want, r.limit - spent));
    if (granted > 0)
      this.removals.push({
        kind: 'reserved',
        at: r.at.getTime(),
        runId: r.runId,
        count: granted,
        unconfirmed: Math.min(r.unconfirmed ?? 0, granted),
        expiresAt: r.expiresAt.getTime(),
      });
    return { spent, granted };
  }

  async recordRemovals(
    count: number,
    runId: string,
    at: Date,
    expiresAt: Date,
    unconfirmed = 0,
  ): Promise<void> {
    this.maybeFail('recordRemovals');
    const existing = this.removals.findIndex(
      (r) => r.kind === 'recorded' && r.at === at.getTime() && r.runId === runId,
    );
    const row = {
      kind: 'recorded' as const,
      at: at.getTime(),
      runId,
      count,
      unconfirmed,
      expiresAt: expiresAt.getTime(),
    };
    if (existing >= 0) this.removals[existing] = row;
    else this.removals.push(row);
  }

  async firstSeen(keys: readonly string[], now: Date, expiresAt: Date): Promise<Map<string, Date>> {
    this.maybeFail('firstSeen');
    const out = new Map<string, Date>();
    for (const key of keys) {
      const prev = this.seen.get(key);
      const first = prev && prev.expiresAt > this.clock() ? prev.first : now.getTime();
      this.seen.set(key, { first, expiresAt: Math.max(expiresAt.getTime(), prev?.expiresAt ?? 0) });
      out.set(key, new Date(first));
    }
    return out;
  }

  private maybeFail(op: string): void {
    if (this.failures <= 0) return;
    this.failures--;
    throw new SweepStateError(`sweep state ${op} failed (injected)`, { cause: new Error('injected fault') });
  }
}
