import type { CloudTrailLookup } from '../cloudtrail/port';
import { ThrottledError } from '../core/errors';
import { type CorrelateOptions, correlateRecord, correlationAfterError } from './correlate';
import type { AuditStore } from './store-port';

export interface CorrelationRunResult {
  examined: number;
  resolved: number;
  unresolved: number;
  stillPending: number;
  /** Records rewritten (redelivered) between read and update; they come round again. */
  conflicts: number;
  /** CloudTrail kept throttling: the run stopped early; the rest stay pending for the next run. */
  throttled: boolean;
  /** The time budget ran out before the pending list did. */
  outOfTime: boolean;
  /**
   * Records whose attempt failed with an error other than throttling (a rejected lookup, a store
   * failure). Each was isolated: the run carried on with the others, and the record was left pending
   * with a backoff and its error (or marked unresolved past its deadline). The caller fails the
   * invocation when this is not zero, after the others are done, so the alarm still fires.
   */
  failed: number;
  failures: { recordId: string; error: string }[];
}

/**
 * One scheduled correlation pass: page through the pending list (earliest due first), correlate
 * each record, store the result. Stops early, leaving records pending (never dropping them), when
 * CloudTrail throttles beyond the limiter's retries or when `stopAt()` says the budget is spent.
 * Any other error is isolated to its record (counted in `failed`, reported to `onRecordError`,
 * stored on the record with a backoff) and the run goes on with the next one.
 */
export async function runCorrelation(deps: {
  store: AuditStore;
  lookup: CloudTrailLookup;
  options: Omit<CorrelateOptions, 'now'>;
  now: () => Date;
  pageSize?: number;
  maxRecords?: number;
  stopAt?: () => boolean;
  /** Called for each record whose attempt failed (the handler logs it). */
  onRecordError?: (recordId: string, err: unknown) => void;
}): Promise<CorrelationRunResult> {
  const result: CorrelationRunResult = {
    examined: 0,
    resolved: 0,
    unresolved: 0,
    stillPending: 0,
    conflicts: 0,
    throttled: false,
    outOfTime: false,
    failed: 0,
    failures: [],
  };
  const listedAt = deps.now();
  let cursor: string | undefined;
  do {
    const page = await deps.store.pending(listedAt, {
      limit: deps.pageSize ?? 25,
      ...(cursor ? { cursor } : {}),
    });
    for (const record of page.records) {
      if (deps.stopAt?.() || result.examined >= (deps.maxRecords ?? 500)) {
        result.outOfTime = true;
        return result;
      }
      result.examined++;
      let correlation: Awaited<ReturnType<typeof correlateRecord>>;
      let failedHere = false;
      const fail = (err: unknown) => {
        if (!failedHere) {
          result.failed++;
          result.failures.push({ recordId: record.recordId, error: describe(err) });
        }
        failedHere = true;
        deps.onRecordError?.(record.recordId, err);
      };
      try {
        correlation = await correlateRecord(record, deps.lookup, { ...deps.options, now: deps.now() });
      } catch (err) {
        if (err instanceof ThrottledError) {
          result.throttled = true;
          return result;
        }
        // One bad record must not stop the others (it would fail first on every run, oldest first).
        fail(err);
        correlation = correlationAfterError(record, describe(err), { ...deps.options, now: deps.now() });
      }
      if (!correlation) continue;
      let stored: boolean;
      try {
        stored = await deps.store.updateCorrelation(record, correlation);
      } catch (err) {
        fail(err);
        continue;
      }
      if (!stored) {
        result.conflicts++;
        continue;
      }
      if (correlation.status === 'resolved') result.resolved++;
      else if (correlation.status === 'unresolved') result.unresolved++;
      else if (correlation.status === 'pending') result.stillPending++;
      // not-applicable: an intent-only record left the queue (see correlateRecord)
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
