import type { SweepStateStore } from '../budget/port';
import { type Allowance, allowance } from './perform';

export interface Reservation {
  /** Names the delivery: a duplicate delivery of one trigger reserves its own share. */
  runId: string;
  at: Date;
  /** The rolling window the limit holds over. */
  windowMs: number;
  /** Units allowed in any window (max(1, share x fleet) for removals). */
  limit: number;
  /** Units the plan would spend. */
  want: number;
  /** Of `want`, units whose subject the source of truth did not confirm (kept apart in the ledger). */
  unconfirmed?: number;
  /** A dry run spends nothing: it may report anything. */
  dryRun?: boolean;
}

/**
 * Reserve a run's share of the persisted rolling blast-radius budget BEFORE acting: what is left of
 * the window (limit minus what runs recorded in it), at most what the plan wants, is recorded in the
 * ledger first, so a run that dies half-way has still spent it (the budget errs on removing less)
 * and concurrent runs cannot both spend the same units (the ledger reserves atomically). A ledger
 * failure throws: nothing is granted, nothing is done.
 */
export async function reserveBudget(
  ledger: SweepStateStore,
  r: Reservation,
): Promise<Allowance & { spent: number; limit: number }> {
  if (r.dryRun) return Object.assign(allowance(Number.POSITIVE_INFINITY), { spent: 0, limit: r.limit });
  // one atomic reservation: read the window, grant, record (a read here and a write after it let
  // two concurrent runs both spend the units left)
  const { spent, granted } = await ledger.reserveRemovals({
    runId: r.runId,
    at: r.at,
    since: new Date(r.at.getTime() - r.windowMs),
    limit: r.limit,
    want: r.want,
    unconfirmed: r.unconfirmed ?? 0,
    expiresAt: new Date(r.at.getTime() + 2 * r.windowMs),
  });
  return Object.assign(allowance(granted), { spent, limit: r.limit });
}
