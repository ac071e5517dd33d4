/**
 * Port: what runner-sweep keeps between runs (one DynamoDB table per fleet, `SWEEP_STATE_TABLE`).
 * Implementations: `DynamoDbSweepState` and `InMemorySweepState`, held to `sweep-state.contract.ts`.
 *
 * - The rolling removal budget: every live run that removes anything records how many removals it
 *   is about to make, BEFORE making them (a run that dies half-way has still spent its budget: the
 *   budget errs on the side of removing less). `removalsSince` sums what was recorded in the window.
 * - First sightings: when the sweep first saw an instance gone (EC2 no longer describes it) or
 *   leaving with no readable state-transition time, so grace periods and ages are measured from a
 *   time that survives the run (a clock that restarted each run would never reach a long grace).
 */
export interface RemovalTally {
  total: number;
  /** Of `total`, removals of runners whose instance EC2 did not describe (only their labels claimed them). */
  unconfirmed: number;
}

/** A run's claim on the rolling removal budget (`SweepStateStore.reserveRemovals`). */
export interface RemovalReservation {
  /** Names the delivery: a duplicate delivery of one trigger reserves its own share. */
  runId: string;
  at: Date;
  /** The window starts here (inclusive): what was reserved or recorded since is spent. */
  since: Date;
  /** Units allowed in the window. */
  limit: number;
  /** Units the run would spend. */
  want: number;
  /** Of the grant, at most this many are removals EC2 did not confirm. */
  unconfirmed?: number;
  /** Keep the reservation at least until then. */
  expiresAt: Date;
}

export interface SweepStateStore {
  /**
   * Atomically: what the window has spent, the grant (what is left of `limit`, at most `want`, never
   * below 0) and, when it is more than 0, the grant recorded as run `runId`'s removals at `at`.
   * Reservations and records are serialized: two never both spend the same units. A second
   * reservation under one `runId` and `at` spends what is left, as any other. Throws
   * SweepStateError when the ledger cannot be read or written (nothing granted).
   */
  reserveRemovals(r: RemovalReservation): Promise<{ spent: number; granted: number }>;
  /** Removals recorded at or after `since` (inclusive). Throws SweepStateError when unreadable. */
  removalsSince(since: Date): Promise<RemovalTally>;
  /**
   * Record `count` removals made by run `runId` outside a reservation (no check against a limit) (unique per delivery: a duplicate delivery of one
   * schedule is a run of its own) at `at`, `unconfirmed` of them unconfirmed by EC2, kept at least
   * until `expiresAt`. The same (runId, at) recorded again overwrites (a retried write).
   */
  recordRemovals(
    count: number,
    runId: string,
    at: Date,
    expiresAt: Date,
    unconfirmed?: number,
  ): Promise<void>;
  /**
   * For each key, the first time it was passed here (`now` for a key never seen, or whose record
   * expired); every call keeps the records of these keys at least until `expiresAt`.
   */
  firstSeen(keys: readonly string[], now: Date, expiresAt: Date): Promise<Map<string, Date>>;
}
