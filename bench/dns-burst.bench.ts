/**
 * Burst: 1,000 (up to 10,000) instances reach `running` within 10 s, into a zone that already holds
 * 0 to 100,000 record sets. The events go through the real dns-sync handler in SQS batches as the
 * DnsSync construct configures them (batch size, batching window), against the in-memory Route 53
 * fake. The naive design RUNS in the same process on its own copy of the same zone: per event one
 * DescribeInstances and one ChangeResourceRecordSets (UPSERT) per zone, no read. Every Route 53
 * call is counted on both sides (ListResourceRecordSets and ChangeResourceRecordSets, rejected
 * ones included; GetChange is never made), and so is DescribeInstances. CPU is the process's, split
 * into the handler's and the fakes' share; "time at 5/s" is the calls at Route 53's account rate.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { InMemoryAuditSink } from '../shared/audit/in-memory-audit-sink';
import { DEFAULT_PACING } from '../shared/core/pacing';
import { DNS_SYNC_BATCHING } from '../shared/dns/batching';
import { InMemoryRoute53 } from '../shared/dns/in-memory-route53';
import { formatMarker } from '../shared/dns/marker';
import { markerNameFor, ptrNameFor } from '../shared/dns/names';
import type { RecordSet, Route53Port } from '../shared/dns/port';
import { sqsRecord, stateChangeEvent } from '../shared/dns/testing/state-change-event';
import type { InstanceInfo, InstanceInventory } from '../shared/ec2/port';
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
  /**
   * Record sets in the forward zone before the burst: `zoneSize / 2` earlier instances `web-<k>`,
   * each an A record and its marker (and, with PTR, the same in the reverse zone). Default 0.
   */
  zoneSize?: number | undefined;
  /** Run the naive design (one DescribeInstances and one UPSERT per zone per event) instead. */
  naive?: boolean | undefined;
}

/** A name of exactly `length` characters (two labels, each at most 63) for instance `n`. */
export function longName(n: number, length: number): string {
  const first = `web-${n}-`.padEnd(60, 'a');
  return `${first}.${'b'.repeat(Math.max(1, length - first.length - 1))}`;
}

export interface BurstResult {
  invocations: number;
  listCalls: number;
  changeCalls: number;
  /** Every Route 53 call: List + Change (GetChange is never called). */
  route53Calls: number;
  /** Most Route 53 calls one invocation made. */
  maxCallsPerInvocation: number;
  describeCalls: number;
  forwardARecords: number;
  failedMessages: number;
  /** CPU of the whole run (user + system) and the part spent inside the fakes. */
  cpuMs: number;
  fakeCpuMs: number;
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

const cpuNow = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** CPU spent inside the fakes (their work is synchronous, before their promise resolves). */
class FakeClock {
  ms = 0;
  async time<T>(f: () => Promise<T>): Promise<T> {
    const t = cpuNow();
    const p = f();
    this.ms += cpuNow() - t;
    return p;
  }
}

/** DescribeInstances by id from a map: the bench's own inventory, so it never dominates the CPU. */
class IndexedInventory implements InstanceInventory {
  readonly byId = new Map<string, InstanceInfo>();
  calls = 0;
  constructor(private readonly clock: FakeClock) {}
  describe(ids: readonly string[]): Promise<InstanceInfo[]> {
    this.calls++;
    return this.clock.time(async () =>
      ids.flatMap((i) => {
        const info = this.byId.get(i);
        return info ? [structuredClone(info)] : [];
      }),
    );
  }
  async listByTag(): Promise<InstanceInfo[]> {
    throw new Error('dns-sync does not list instances');
  }
  async listInStates(): Promise<InstanceInfo[]> {
    throw new Error('dns-sync does not list instances');
  }
}

/** Route 53 through the fake, timing the fake's own work. */
function timedPort(fake: InMemoryRoute53, clock: FakeClock): Route53Port {
  return {
    listRecordSets: (z) => clock.time(() => fake.listRecordSets(z)),
    listPage: (z, start, max) => clock.time(() => fake.listPage(z, start, max)),
    changeRecordSets: (z, c) => clock.time(() => fake.changeRecordSets(z, c)),
  };
}

const T_EARLIER = '2026-11-24T09:00:00.000Z';
const instanceId = (n: number) => `i-${n.toString(16).padStart(17, '0')}`;
const ipOf = (n: number) => `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
const nameOf = (n: number, o: BurstOptions) =>
  o.nameLength ? `${longName(n, o.nameLength)}.example.com` : `web-${n}`;

/** The zones as `zoneSize / 2` earlier instances left them: A + marker, PTR + marker. */
function existingZones(o: BurstOptions): { forward: RecordSet[]; reverse: RecordSet[] } {
  const forward: RecordSet[] = [];
  const reverse: RecordSet[] = [];
  for (let k = 0; k < (o.zoneSize ?? 0) / 2; k++) {
    const name = `web-${k}.example.com.`;
    const m = { owner: 'fleetwarden', instanceId: instanceId(k), state: 'running' as const, time: T_EARLIER };
    forward.push({ name, type: 'A', ttl: 60, values: [ipOf(k)] });
    forward.push({
      name: markerNameFor(name),
      type: 'TXT',
      ttl: 60,
      values: [formatMarker({ ...m, type: 'A', value: ipOf(k) })],
    });
    if (!o.withPtr) continue;
    const ptr = ptrNameFor(ipOf(k));
    reverse.push({ name: ptr, type: 'PTR', ttl: 60, values: [name] });
    reverse.push({
      name: markerNameFor(ptr),
      type: 'TXT',
      ttl: 60,
      values: [formatMarker({ ...m, type: 'PTR', value: name })],
    });
  }
  return { forward, reverse };
}

/** The naive design: per event, DescribeInstances, then one UPSERT per zone; no read, no marker. */
function naiveHandler(port: Route53Port, inventory: InstanceInventory, o: BurstOptions) {
  return async (event: SQSEvent): Promise<{ batchItemFailures: unknown[] }> => {
    const failures: unknown[] = [];
    for (const r of event.Records) {
      const id = (JSON.parse(r.body) as { detail: { 'instance-id': string } }).detail['instance-id'];
      const [info] = await inventory.describe([id]);
      const ip = info?.privateIp;
      if (!ip) continue;
      const name = `${(info.tags['fleetwarden:dns-name'] ?? id).replace(/\.example\.com$/, '')}.example.com.`;
      try {
        await port.changeRecordSets('ZFWD', [
          { action: 'UPSERT', record: { name, type: 'A', ttl: 60, values: [ip] } },
        ]);
        if (o.withPtr) {
          const record = { name: ptrNameFor(ip), type: 'PTR', ttl: 60, values: [name] };
          await port.changeRecordSets('ZREV', [{ action: 'UPSERT', record }]);
        }
      } catch {
        failures.push(r.messageId);
      }
    }
    return { batchItemFailures: failures };
  };
}

function burstHandler(
  port: Route53Port,
  inventory: InstanceInventory,
  o: BurstOptions,
  dnsSync: DnsSyncModule['dnsSync'],
  now: () => number,
) {
  return dnsSync.create(
    {
      route53: port,
      inventory,
      audit: new InMemoryAuditSink(),
      messageRetry: { after: async () => undefined },
      // no real sleeps: the bench counts calls; their time at Route 53's rate is calls / 5 s
      pacing: { ...DEFAULT_PACING, sleep: async () => undefined },
    },
    {
      auditTable: 'bench',
      hostedZoneId: 'ZFWD',
      zoneName: 'example.com',
      zones: undefined,
      dnsRoleName: undefined,
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
    { now: () => new Date(now()), gate: REPORT_ONLY_GATE },
  );
}
type DnsSyncModule = Awaited<ReturnType<typeof quietHandlerModule>>;

export async function simulateBurst(o: BurstOptions): Promise<BurstResult> {
  const { dnsSync } = await quietHandlerModule();
  let now = T0;
  const existing = existingZones(o);
  const route53 = new InMemoryRoute53()
    .addZone('ZFWD', 'example.com', existing.forward)
    .addZone('ZREV', '10.in-addr.arpa', existing.reverse);
  const clock = new FakeClock();
  const port = timedPort(route53, clock);
  const inventory = new IndexedInventory(clock);
  const first = (o.zoneSize ?? 0) / 2;
  const arrivals = Array.from({ length: o.instances }, (_, i) => ({
    atMs: T0 + Math.floor((i * o.spreadMs) / o.instances),
    n: first + i,
  }));
  for (const { n } of arrivals) {
    const info = {
      instanceId: instanceId(n),
      state: 'running' as const,
      privateIp: ipOf(n),
      tags: { 'fleetwarden:dns-name': nameOf(n, o) },
    };
    inventory.byId.set(info.instanceId, info);
  }
  const handler = o.naive
    ? naiveHandler(port, inventory, o)
    : burstHandler(port, inventory, o, dnsSync, () => now);
  let failedMessages = 0;
  let maxCalls = 0;
  const batches = batchesOf(arrivals, o.batchSize, o.batchingWindowMs);
  const cpu0 = cpuNow();
  for (const batch of batches) {
    now = (batch.at(-1)?.atMs ?? T0) + 1000;
    const event: SQSEvent = {
      Records: batch.map(
        ({ n, atMs }) =>
          sqsRecord(stateChangeEvent(instanceId(n), 'running', atMs), `m-${n}`, atMs) as SQSRecord,
      ),
    };
    const before = route53.listRequests + route53.changeRequests.length;
    failedMessages += (await handler(event)).batchItemFailures.length;
    maxCalls = Math.max(maxCalls, route53.listRequests + route53.changeRequests.length - before);
  }
  const cpuMs = cpuNow() - cpu0;
  return {
    invocations: batches.length,
    listCalls: route53.listRequests,
    changeCalls: route53.changeRequests.length,
    route53Calls: route53.listRequests + route53.changeRequests.length,
    maxCallsPerInvocation: maxCalls,
    describeCalls: inventory.calls,
    forwardARecords: route53.records('ZFWD').filter((r) => r.type === 'A').length,
    failedMessages,
    cpuMs,
    fakeCpuMs: clock.ms,
  };
}

/** The deployed batching (batch size, window). */
export const DEPLOYED = {
  batchSize: DNS_SYNC_BATCHING.batchSize,
  batchingWindowMs: DNS_SYNC_BATCHING.maxBatchingWindowSeconds * 1000,
};
export const NAIVE = { batchSize: 1, batchingWindowMs: 0, naive: true };

/** Growth exponent k of y ~ x^k between the first and last points. */
export function growth(points: readonly [number, number][]): number {
  const [x1, y1] = points[0] as [number, number];
  const [x2, y2] = points.at(-1) as [number, number];
  return Math.log(Math.max(y2, 1) / Math.max(y1, 1)) / Math.log(x2 / x1);
}

const ROUTE53_RATE = 5;
const fmt = (n: number) => n.toLocaleString('en-US');
function row(label: string, r: BurstResult): string {
  return `  ${label.padEnd(34)} ${fmt(r.route53Calls).padStart(7)} calls (${fmt(r.listCalls)} List + ${fmt(r.changeCalls)} Change), max ${r.maxCallsPerInvocation}/invocation, ${fmt(r.describeCalls)} DescribeInstances, CPU ${fmt(Math.round(r.cpuMs))} ms (fakes ${fmt(Math.round(r.fakeCpuMs))}), ${(r.route53Calls / ROUTE53_RATE).toFixed(1)} s at 5/s, ${r.forwardARecords} A, ${r.failedMessages} failed`;
}

async function zoneSizes(): Promise<void> {
  console.log('dns-burst by zone size: 1,000 instances running within 10 s (A only), batching as deployed');
  const points: [number, number][] = [];
  const perBatch: [number, number][] = [];
  for (const zoneSize of [1000, 10_000, 50_000, 100_000]) {
    const common = { instances: 1000, spreadMs: 10_000, withPtr: false, zoneSize };
    const batched = await simulateBurst({ ...common, ...DEPLOYED });
    const naive = await simulateBurst({ ...common, ...NAIVE });
    points.push([zoneSize, batched.route53Calls]);
    perBatch.push([zoneSize, batched.maxCallsPerInvocation]);
    console.log(row(`zone ${fmt(zoneSize)}: batched`, batched));
    console.log(row(`zone ${fmt(zoneSize)}: naive`, naive));
    console.log(
      `  zone ${fmt(zoneSize)}: naive/batched ${(naive.route53Calls / batched.route53Calls).toFixed(1)}x (target at 100k: >= 50x)`,
    );
  }
  const ratio = (perBatch.at(-1)?.[1] ?? 0) / (perBatch[0]?.[1] ?? 1);
  console.log(
    `  growth exponent of calls vs zone size: ${growth(points).toFixed(2)}; calls per batch at 100k / at 1k: ${ratio.toFixed(2)}x (target <= 2x)`,
  );
}

async function burstSizes(): Promise<void> {
  console.log('dns-burst by burst size: 1x-10x 1,000 instances within 10 s into an empty zone (A only)');
  const points: [number, number][] = [];
  const cpu: [number, number][] = [];
  for (const x of [1, 2, 5, 10]) {
    const common = { instances: 1000 * x, spreadMs: 10_000, withPtr: false };
    const batched = await simulateBurst({ ...common, ...DEPLOYED });
    const naive = await simulateBurst({ ...common, ...NAIVE });
    points.push([x, batched.route53Calls]);
    cpu.push([x, batched.cpuMs]);
    console.log(row(`${x}x: batched`, batched));
    console.log(row(`${x}x: naive`, naive));
  }
  console.log(
    `  growth exponent vs burst size: calls ${growth(points).toFixed(2)}, CPU ${growth(cpu).toFixed(2)} (1 = linear)`,
  );
}

export async function run(): Promise<void> {
  await zoneSizes();
  await burstSizes();
  for (const [withPtr, nameLength] of [
    [true, undefined],
    [true, 100],
  ] as const) {
    const common = { instances: 1000, spreadMs: 10_000, withPtr, nameLength };
    const batched = await simulateBurst({ ...common, ...DEPLOYED });
    const naive = await simulateBurst({ ...common, ...NAIVE });
    console.log(
      `dns-burst (A + PTR${nameLength ? `, ${nameLength}-character names` : ''}): 1,000 instances, empty zones`,
    );
    console.log(row('batched', batched));
    console.log(row('naive', naive));
    console.log(`  naive/batched ${(naive.route53Calls / batched.route53Calls).toFixed(1)}x`);
  }
}
