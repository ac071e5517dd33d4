import type { CloudTrailLookup } from '../cloudtrail/port';
import { ThrottledError } from '../core/errors';
import { type CorrelateOptions, correlateRecord } from './correlate';
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
}

/**
 * One scheduled correlation pass: page through the pending list (oldest first), correlate each
 * record, store the result. Stops early, leaving records pending (never dropping them), when
 * CloudTrail throttles beyond the limiter's retries or when `stopAt()` says the budget is spent.
 */
export async function runCorrelation(deps: {
  store: AuditStore;
  lookup: CloudTrailLookup;
  options: Omit<CorrelateOptions, 'now'>;
  now: () => Date;
  pageSize?: number;
  maxRecords?: number;
  stopAt?: () => boolean;
}): Promise<CorrelationRunResult> {
  const result: CorrelationRunResult = {
    examined: 0,
    resolved: 0,
    unresolved: 0,
    stillPending: 0,
    conflicts: 0,
    throttled: false,
    outOfTime: false,
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
      try {
        correlation = await correlateRecord(record, deps.lookup, { ...deps.options, now: deps.now() });
      } catch (err) {
        if (err instanceof ThrottledError) {
          result.throttled = true;
          return result;
        }
        throw err;
      }
      if (!correlation) continue;
      if (!(await deps.store.updateCorrelation(record, correlation))) {
        result.conflicts++;
        continue;
      }
      if (correlation.status === 'resolved') result.resolved++;
      else if (correlation.status === 'unresolved') result.unresolved++;
      else result.stillPending++;
    }
    cursor = page.cursor;
  } while (cursor);
  return result;
}
