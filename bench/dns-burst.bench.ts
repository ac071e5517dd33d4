/**
 * Burst: 1,000 instances reach `running` within 10 s. The events go through the real dns-sync
 * handler in SQS batches as the DnsSync construct configures them (batch size, batching window),
 * against the in-memory Route 53 and EC2 fakes. Compared, in the same run, with a naive design
 * that makes one ChangeResourceRecordSets call per event. Prints call counts and the ratio.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { InMemoryAuditSink } from '../shared/audit/in-memory-audit-sink';
import { DEFAULT_PACING } from '../shared/core/pacing';
import { DNS_SYNC_BATCHING } from '../shared/dns/batching';
import { InMemoryRoute53 } from '../shared/dns/in-memory-route53';
import { sqsRecord, stateChangeEvent } from '../shared/dns/testing/state-change-event';
import { InMemoryInstanceInventory } from '../shared/ec2/in-memory-instance-inventory';
import { REPORT_ONLY_GATE } from '../shared/kernel/approval';

const T0 = Date.parse('2026-11-24T10:00:00Z');

export interface BurstOptions {
  instances: number;
  /** All instances reach running within this window. */
  spreadMs: number;
  batchSize: number;
  batchingWindowMs: number;
  /** Also write PTR records in a reverse zone. */
  withPtr: boolean;
  /**
   * Length of each record name (characters, without the zone), e.g. 100: names like
   * `web-7-aaa….bbb…` in two labels. Long names make markers and PTR values long, so the 32,000
   * value characters per request, not the 1,000 records, decide the splits. Default: `web-<n>`.
   */
  nameLength?: number | undefined;
}

/** A name of exactly `length` characters (two labels, each at most 63) for instance `n`. */
export function longName(n: number, length: number): string {
  const first = `web-${n}-`.padEnd(60, 'a');
  return `${first}.${'b'.repeat(Math.max(1, length - first.length - 1))}`;
}

export interface BurstResult {
  invocations: number;
  changeCalls: number;
  forwardARecords: number;
  failedMessages: number;
}

/** Group arrivals the way Lambda's SQS poller does: close a batch when full or when the window expires. */
function batchesOf<T extends { atMs: number }>(arrivals: T[], batchSize: number, windowMs: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  for (const a of arrivals) {
    if (current.length > 0 && (current.length >= batchSize || a.atMs - (current[0] as T).atMs >= windowMs)) {
      out.push(current);
      current = [];
    }
    current.push(a);
  }
  if (current.length > 0) out.push(current);
  return out;
}

/** Benchmarks print figures, not EMF metrics or logs: quiet Powertools before it is first loaded. */
async function quietHandlerModule() {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  const { logger } = await import('../shared/observability/powertools');
  logger.setLogLevel('SILENT');
  return import('../functions/dns-sync/definition');
}

export async function simulateBurst(o: BurstOptions): Promise<BurstResult> {
  const { dnsSync } = await quietHandlerModule();
  let now = T0;
  const route53 = new InMemoryRoute53().addZone('ZFWD', 'example.com').addZone('ZREV', '10.in-addr.arpa');
  const inventory = new InMemoryInstanceInventory({ now: () => now });
  const id = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
  const arrivals = Array.from({ length: o.instances }, (_, n) => ({
    atMs: T0 + Math.floor((n * o.spreadMs) / o.instances),
    n,
  }));
  for (const { n } of arrivals) {
    inventory.put({
      instanceId: id(n),
      state: 'running',
      privateIp: `10.0.${Math.floor(n / 250)}.${(n % 250) + 1}`,
      tags: {
        'fleetwarden:dns-name': o.nameLength ? `${longName(n, o.nameLength)}.example.com` : `web-${n}`,
      },
    });
  }
  const handler = dnsSync.create(
    {
      route53,
      inventory,
      audit: new InMemoryAuditSink(),
      messageRetry: { after: async () => undefined },
      pacing: DEFAULT_PACING,
    },
    {
      auditTable: 'bench',
      hostedZoneId: 'ZFWD',
      zoneName: 'example.com',
      reverseZoneId: o.withPtr ? 'ZREV' : undefined,
      reverseZoneName: o.withPtr ? '10.in-addr.arpa' : undefined,
      ownerId: 'fleetwarden',
      ttl: 60,
      publishPublicIp: false,
      nameTag: 'fleetwarden:dns-name',
      fleetTagKey: undefined,
      fleetTagValue: undefined,
      autoScalingGroupNames: [],
      dryRun: false,
      absentAfter: 900,
      queueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/bench',
    },
    { now: () => new Date(now), gate: REPORT_ONLY_GATE },
  );
  let failedMessages = 0;
  const batches = batchesOf(arrivals, o.batchSize, o.batchingWindowMs);
  for (const batch of batches) {
    now = (batch.at(-1)?.atMs ?? T0) + 1000;
    const event: SQSEvent = {
      Records: batch.map(
        ({ n, atMs }) => sqsRecord(stateChangeEvent(id(n), 'running', atMs), `m-${n}`, atMs) as SQSRecord,
      ),
    };
    failedMessages += (await handler(event)).batchItemFailures.length;
  }
  return {
    invocations: batches.length,
    changeCalls: route53.changeRequests.filter((r) => r.outcome === 'applied').length,
    forwardARecords: route53.records('ZFWD').filter((r) => r.type === 'A').length,
    failedMessages,
  };
}

export async function run(): Promise<void> {
  for (const [withPtr, nameLength] of [
    [false, undefined],
    [true, undefined],
    [true, 100],
  ] as const) {
    const common = { instances: 1000, spreadMs: 10_000, withPtr, nameLength };
    const batched = await simulateBurst({
      ...common,
      batchSize: DNS_SYNC_BATCHING.batchSize,
      batchingWindowMs: DNS_SYNC_BATCHING.maxBatchingWindowSeconds * 1000,
    });
    const naive = await simulateBurst({ ...common, batchSize: 1, batchingWindowMs: 0 });
    const label = `${withPtr ? 'A + PTR' : 'A only'}${nameLength ? `, ${nameLength}-character names` : ''}`;
    console.log(`dns-burst (${label}): 1,000 instances running within 10 s`);
    console.log(
      `  batched (batch ${DNS_SYNC_BATCHING.batchSize}, window ${DNS_SYNC_BATCHING.maxBatchingWindowSeconds} s): ${batched.changeCalls} ChangeResourceRecordSets calls in ${batched.invocations} invocations, ${batched.forwardARecords} A records, ${batched.failedMessages} failed messages`,
    );
    console.log(
      `  naive (one call per event):       ${naive.changeCalls} ChangeResourceRecordSets calls, ${naive.forwardARecords} A records`,
    );
    console.log(
      `  ratio naive/batched: ${(naive.changeCalls / batched.changeCalls).toFixed(1)}x; peak request rate needed: batched ${(batched.changeCalls / 10).toFixed(1)}/s vs naive ${(naive.changeCalls / 10).toFixed(1)}/s (Route 53 documents 5/s per account)`,
    );
  }
}
