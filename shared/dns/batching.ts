/**
 * How the dns-sync queue feeds the function. One place, used by the DnsSync construct (SqsEventSource)
 * and by bench/dns-burst.bench.ts, so the benchmark measures the batching that is deployed.
 * A batch of 200 state changes plans to ~400 forward records (A + marker) and ~30,000 value
 * characters, which fits one ChangeResourceRecordSets request (1,000 records / 32,000 characters).
 */
export const DNS_SYNC_BATCHING = {
  /** Messages per invocation. */
  batchSize: 200,
  /**
   * Lambda waits up to this long to fill a batch. 60 s, external-dns's default sync interval: on
   * the chaos day (bench/chaos-day.bench.ts) dns-sync makes 72 Route 53 calls at 60 s against 181 at
   * 5 s (one List and one Change per batch, and batches gather 3.3 events instead of 1.3), and a
   * running instance's A record shows a median 39 s after its event (p95 70 s; 7 s / 35 s at 5 s);
   * a leaving instance's record goes as late. SQS allows up to 300 s; the construct's
   * `maxBatchingWindow` sets it per deployment.
   */
  maxBatchingWindowSeconds: 60,
  /** Concurrent dns-sync invocations (SQS event source maxConcurrency, minimum 2). */
  maxConcurrency: 2,
} as const;
