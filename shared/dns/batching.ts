/**
 * How the dns-sync queue feeds the function. One place, used by the DnsSync construct (SqsEventSource)
 * and by bench/dns-burst.bench.ts, so the benchmark measures the batching that is deployed.
 * A batch of 200 state changes plans to ~400 forward records (A + marker) and ~30,000 value
 * characters, which fits one ChangeResourceRecordSets request (1,000 records / 32,000 characters).
 */
export const DNS_SYNC_BATCHING = {
  /** Messages per invocation. */
  batchSize: 200,
  /** Lambda waits up to this long to fill a batch. */
  maxBatchingWindowSeconds: 5,
  /** Concurrent dns-sync invocations (SQS event source maxConcurrency, minimum 2). */
  maxConcurrency: 2,
} as const;
