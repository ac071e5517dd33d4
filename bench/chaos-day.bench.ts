/**
 * Chaos day: a simulated day of a 60-instance fleet (runners taking jobs all day, a third of the
 * runners scaled in through the terminate hook, a spot interruption, web hosts leaving) with
 * EventBridge losing 5% of deliveries, duplicating 10%, reordering 20%, and 2% of invocations
 * meeting an API error. The real handlers run, routed by the synthesized stack's rules.
 *
 * The naive per-event design is MEASURED in the same run, on the same deliveries: an EventBridge
 * rule invoking a Lambda per event, so the naive DNS handler runs when EventBridge delivers to
 * dns-sync's rules (the engine's `onDelivery`: each copy of a duplicate, never a dropped one, not
 * waiting for dns-sync's queue) and makes one Route 53 call per running / shutting-down /
 * terminated event (UPSERT of the instance's IP, DELETE of it), no batching and no ownership
 * markers, against a zone of its own; its calls, rejections, time-to-record and the records it
 * leaves wrong at the end are counted. Invocation errors are drawn per function
 * (`errorsPerFunction`), so a run at another dns-sync batching window sees the same day: the bench
 * compares windows 5-60 s on it. dns-sync's calls are broken down by batch (`dns-calls.ts`). The naive runner-job-watch runs for real too: on
 * every workflow_job event runner-job-watch receives, it lists every runner, on a registry of its
 * own (its own installation's rate limit) kept equal to the simulator's, once at the simulator's
 * page size and once at GitHub's largest (100). Every GitHub request of both sides is counted by
 * function (bench/github-calls.ts: list pages, lookups, gets, deletes, label changes, rate-limited
 * answers, and installation tokens between their two bounds).
 */
import type { Context } from 'aws-lambda';
import type { RuleDelivery } from '../cli/simulate/engine';
import type { Summary } from '../cli/simulate/report';
import { type Routing, synthesizeFleet } from '../cli/simulate/routing';
import { DEFAULT_SIM_OPTIONS, type SimOptions } from '../cli/simulate/scenario';
import { fleetConfigFor, simulate } from '../cli/simulate/simulate';
import {
  GITHUB_SIM,
  type HandlerOverrides,
  type Invoke,
  type World,
  wireFunction,
} from '../cli/simulate/world';
import { DNS_SYNC_BATCHING } from '../shared/dns/batching';
import { InMemoryRoute53 } from '../shared/dns/in-memory-route53';
import { type Delay, DnsSyncLedger, RecordWatch, type SyncBatch, type TimeToRecord } from './dns-calls';
import { GitHubLedger, type GitHubTally, instrumentRegistry, NaiveRunnerListing } from './github-calls';

export const CHAOS_DAY: SimOptions = {
  ...DEFAULT_SIM_OPTIONS,
  seed: 2026,
  instances: 60,
  durationMinutes: 24 * 60,
  settleMinutes: 30,
  drop: 0.05,
  duplicate: 0.1,
  reorder: 0.2,
  errorRate: 0.02,
  // how often a function runs changes no other draw: runs at other batching windows see the same day
  errorsPerFunction: true,
  // a day of real traffic: GitHub's documented installation budget, not the simulator's tight default
  githubRateLimit: { requests: 5000, windowMs: 3_600_000 },
};

/** The batching windows the bench compares (seconds; SQS allows 0-300). */
export const BATCHING_WINDOWS = [5, 15, 30, 60] as const;

export interface NaiveFigures {
  route53: {
    /**
     * Deliveries of dns-sync's rules the naive handler received, when EventBridge made them (each
     * copy of a duplicate; never a dropped one): an EventBridge rule invoking a Lambda per event.
     */
    eventsHandled: number;
    /**
     * Every Route 53 call it made: one ChangeResourceRecordSets per running/shutting-down/terminated
     * event (it never lists; its zone's List counter is checked to be 0).
     */
    calls: number;
    listCalls: number;
    applied: number;
    /** Rejected by Route 53 (DELETE of a record already gone or holding other values). */
    rejected: number;
    /** At the end: A records for no running instance, and running instances without their record. */
    staleRecordsLeft: number;
    missingRecords: number;
    timeToRecord: TimeToRecord;
  };
  /** Run in the same run: one full listing per workflow_job event job-watch received. */
  github: {
    events: number;
    /** At the simulator's page size (the fleet's registry pages the same). */
    samePages: GitHubTally;
    /** At GitHub's largest page (100 runners). */
    pagesOf100: GitHubTally;
  };
  /** Pages of the naive listing at the simulator's page size (kept for the cost figures). */
  githubListPages: number;
}

/** The fleet's Route 53 calls, by the function that made them (counted around each invocation). */
export interface FleetRoute53 {
  'dns-sync': {
    invocations: number;
    list: number;
    change: number;
    /** Every batch: what it held and what it cost (`dns-calls.ts`). */
    batches: SyncBatch[];
    /** Running event -> its A record visible in the zone (written by dns-sync or dns-reconcile). */
    timeToRecord: TimeToRecord;
  };
  'dns-reconcile': { invocations: number; list: number; change: number; zoneReads: number; lookups: number };
}

export interface ChaosDayResult {
  summary: Summary;
  naive: NaiveFigures;
  fleet: FleetRoute53;
  /** Every GitHub call of the fleet, by function. */
  github: GitHubLedger;
  /** The dns-sync queue's batching window the run deployed (seconds). */
  batchingWindowSeconds: number;
  /** The ledger of dns-sync's batches (its groups are the printed breakdown). */
  ledger: DnsSyncLedger;
  /**
   * Records still pending correlation that were due by the run's end (a record written in its last
   * minutes is not due yet: CloudTrail has not logged its calls).
   */
  pendingDue: number;
}

const DNS_SYNC = 'functions/dns-sync/index.ts';
const JOB_WATCH = 'functions/runner-job-watch/index.ts';
const RECONCILE = 'functions/dns-reconcile/index.ts';

/** Runs `real` and adds the Route 53 calls it made (the World's zone) to `into`. */
async function counted<T>(
  w: World,
  into: { list: number; change: number },
  real: () => Promise<T>,
): Promise<T> {
  const list = w.route53.listRequests;
  const change = w.route53.changeRequests.length;
  try {
    return await real();
  } finally {
    into.list += w.route53.listRequests - list;
    into.change += w.route53.changeRequests.length - change;
  }
}

/** What both DNS designs share in a run: the zone, the world once wired, the watches. */
interface DnsRun {
  world?: World;
  zone: { id: string; name: string; nameTag: string };
  /** The naive design's own zone. */
  naiveR53: InMemoryRoute53;
  fleetWatch: RecordWatch;
  naiveWatch: RecordWatch;
  ledger: DnsSyncLedger;
}

interface StateChange {
  id: string;
  time: string;
  detail: { 'instance-id': string; state: string };
}

/**
 * The naive per-event design, run when EventBridge delivers to dns-sync's rule: one UPSERT of the
 * instance's IP (running) or DELETE of it (leaving) per delivery, of what DescribeInstances shows
 * right now (read without counting it as the fleet's call), no batching, no ownership marker, on a
 * zone of its own. Both designs' watches start a running instance's clock here.
 */
function naiveOnDelivery(dns: DnsRun, naive: NaiveFigures) {
  return async (d: RuleDelivery, at: number): Promise<void> => {
    const w = dns.world;
    if (d.entry !== DNS_SYNC || !w) return;
    naive.route53.eventsHandled++;
    const e = d.event as StateChange;
    const id = e.detail?.['instance-id'];
    const state = e.detail?.state;
    const action =
      state === 'running'
        ? 'UPSERT'
        : state === 'shutting-down' || state === 'terminated'
          ? 'DELETE'
          : undefined;
    if (!id || !action) return;
    const seen = { eventId: e.id, instanceId: id, time: Date.parse(e.time) };
    const info = w.inventory.visible().find((i) => i.instanceId === id);
    const ip = info?.privateIp;
    const name = `${info?.tags[dns.zone.nameTag] ?? id}.${dns.zone.name}`;
    for (const watch of [dns.fleetWatch, dns.naiveWatch])
      if (action === 'DELETE') watch.leaving(seen);
      else if (ip) watch.running(seen, { name, ip });
    if (!ip) return;
    try {
      await dns.naiveR53.changeRecordSets(dns.zone.id, [
        { action, record: { name, type: 'A', ttl: 60, values: [ip] } },
      ]);
    } catch {
      // counted below from the zone's own request log
    }
    dns.naiveWatch.check(at, dns.naiveR53.records(dns.zone.id));
  };
}

/** dns-sync as deployed, its calls counted per batch, the zone watched after each batch. */
function dnsSyncCounted(dns: DnsRun, fleet: FleetRoute53) {
  return (w: World, env: Record<string, string>): Invoke => {
    dns.world = w;
    dns.zone.id = env.HOSTED_ZONE_ID ?? 'Z0SIMULATED';
    dns.zone.name = env.ZONE_NAME ?? 'fleet.example.internal';
    dns.zone.nameTag = env.NAME_TAG ?? 'fleetwarden:dns-name';
    dns.naiveR53.addZone(dns.zone.id, dns.zone.name);
    const real = wireFunction({ logicalId: 'dns-sync', entry: DNS_SYNC, env }, w) as Invoke;
    return async (event: unknown, context: Context) => {
      const records = (event as { Records: Parameters<DnsSyncLedger['open']>[1] }).Records;
      const batch = dns.ledger.open(w.clock.now, records);
      fleet['dns-sync'].invocations++;
      let threw = true;
      let response: unknown;
      try {
        response = await counted(w, batch, () => real(event, context));
        threw = false;
        return response;
      } finally {
        fleet['dns-sync'].list += batch.list;
        fleet['dns-sync'].change += batch.change;
        dns.ledger.settle(batch, records, response, threw);
        dns.fleetWatch.check(w.clock.now, w.route53.records(dns.zone.id));
      }
    };
  };
}

/** dns-reconcile as deployed, its calls counted; the zone watched after each run (it writes too). */
function reconcileCounted(dns: DnsRun, fleet: FleetRoute53) {
  return (w: World, env: Record<string, string>): Invoke => {
    const real = wireFunction({ logicalId: 'dns-reconcile', entry: RECONCILE, env }, w) as Invoke;
    const mine = fleet['dns-reconcile'];
    return async (event: unknown, context: Context) => {
      mine.invocations++;
      const lookups = w.evidence.trail.lookups;
      try {
        const summary = (await counted(w, mine, () => real(event, context))) as { zoneRead?: boolean };
        mine.lookups += w.evidence.trail.lookups - lookups;
        if (summary?.zoneRead) mine.zoneReads++;
        return summary;
      } finally {
        if (dns.zone.id) dns.fleetWatch.check(w.clock.now, w.route53.records(dns.zone.id));
      }
    };
  };
}

/** runner-job-watch as deployed and, beside it, the naive listing of every runner per event. */
function jobWatchWithNaive(naive: NaiveFigures, github: { fleet: GitHubLedger; naive: GitHubLedger }) {
  return (w: World, env: Record<string, string>): Invoke => {
    const real = wireFunction({ logicalId: 'runner-job-watch', entry: JOB_WATCH, env }, w) as Invoke;
    const caller = () => ({ fn: w.journal.fn, invocation: w.journal.invocation, now: w.clock.now });
    instrumentRegistry(w.registry, github.fleet, caller);
    const limit = CHAOS_DAY.githubRateLimit ?? { requests: 5000, windowMs: 3_600_000 };
    const shadow = (perPage: number, fn: string) => {
      const n = new NaiveRunnerListing({
        perPage,
        rateLimit: limit.requests,
        rateWindowMs: limit.windowMs,
        now: () => w.clock.now,
      });
      instrumentRegistry(n.registry, github.naive, () => ({ ...caller(), fn }));
      return n;
    };
    const same = shadow(GITHUB_SIM.perPage, 'naive-job-watch');
    const of100 = shadow(100, 'naive-job-watch-100');
    return async (event: unknown, context: Context) => {
      naive.github.events++;
      const live = w.registry.snapshot();
      await same.onEvent(live);
      await of100.onEvent(live);
      return real(event, context);
    };
  };
}

/** The stack as synthesized for these options, with dns-sync's queue batching `windowSeconds`. */
const routings = new Map<string, Routing>();
function routingWith(options: SimOptions, windowSeconds: number): Routing {
  const key = JSON.stringify(fleetConfigFor(options));
  const base = routings.get(key) ?? synthesizeFleet(fleetConfigFor(options));
  routings.set(key, base);
  const consumers = new Map(
    [...base.consumers].map(([queue, c]) => [
      queue,
      base.functions.get(c.fn)?.entry === DNS_SYNC ? { ...c, windowMs: windowSeconds * 1000 } : c,
    ]),
  );
  return { ...base, consumers };
}

function emptyNaive(): NaiveFigures {
  return {
    route53: {
      eventsHandled: 0,
      calls: 0,
      listCalls: 0,
      applied: 0,
      rejected: 0,
      staleRecordsLeft: 0,
      missingRecords: 0,
      timeToRecord: new RecordWatch().figures(),
    },
    github: { events: 0, samePages: emptyTallyOf(), pagesOf100: emptyTallyOf() },
    githubListPages: 0,
  };
}

/**
 * One chaos day. `batchingWindowSeconds`: the dns-sync queue's batching window deployed for the run
 * (default: the construct's, DNS_SYNC_BATCHING); the day's events and deliveries stay the same.
 */
export async function chaosDay(
  options: SimOptions = CHAOS_DAY,
  batchingWindowSeconds: number = DNS_SYNC_BATCHING.maxBatchingWindowSeconds,
): Promise<ChaosDayResult> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const naive = emptyNaive();
  const github = { fleet: new GitHubLedger(), naive: new GitHubLedger() };
  const dns: DnsRun = {
    zone: { id: '', name: '', nameTag: '' },
    naiveR53: new InMemoryRoute53(),
    fleetWatch: new RecordWatch(),
    naiveWatch: new RecordWatch(),
    ledger: new DnsSyncLedger(),
  };
  const fleet: FleetRoute53 = {
    'dns-sync': {
      invocations: 0,
      list: 0,
      change: 0,
      batches: dns.ledger.batches,
      timeToRecord: naive.route53.timeToRecord,
    },
    'dns-reconcile': { invocations: 0, list: 0, change: 0, zoneReads: 0, lookups: 0 },
  };
  const overrides: HandlerOverrides = {
    [DNS_SYNC]: dnsSyncCounted(dns, fleet),
    [RECONCILE]: reconcileCounted(dns, fleet),
    [JOB_WATCH]: jobWatchWithNaive(naive, github),
  };
  const { summary, engine } = await simulate(
    {
      ...options,
      onDelivery: naiveOnDelivery(dns, naive),
      overrides: { ...overrides, ...options.overrides },
    },
    routingWith(options, batchingWindowSeconds),
  );
  naive.github.samePages = github.naive.tally('naive-job-watch');
  naive.github.pagesOf100 = github.naive.tally('naive-job-watch-100');
  naive.githubListPages = naive.github.samePages.listPages;
  const r53 = dns.naiveR53;
  const requests = r53.changeRequests;
  naive.route53.listCalls = r53.listRequests;
  naive.route53.calls = requests.length + r53.listRequests;
  naive.route53.applied = requests.filter((r) => r.outcome === 'applied').length;
  naive.route53.rejected = requests.filter((r) => r.outcome === 'rejected').length;
  naive.route53.timeToRecord = dns.naiveWatch.figures();
  fleet['dns-sync'].timeToRecord = dns.fleetWatch.figures();
  const bare = (n: string) => n.toLowerCase().replace(/\.$/, '');
  const expected = new Map(
    [...engine.truth.values()]
      .filter((t) => t.state === 'running')
      .map((t) => [bare(`${t.name}.${engine.zoneName}`), t.ip]),
  );
  const records = dns.zone.id ? r53.records(dns.zone.id).filter((r) => r.type === 'A') : [];
  naive.route53.staleRecordsLeft = records.filter((r) => expected.get(bare(r.name)) !== r.values[0]).length;
  naive.route53.missingRecords = [...expected].filter(
    ([name, ip]) => !records.some((r) => bare(r.name) === name && r.values.includes(ip)),
  ).length;
  const due = await engine.world.ports.auditStore.pending(new Date(engine.clock.now), { limit: 10_000 });
  return {
    summary,
    naive,
    fleet,
    github: github.fleet,
    batchingWindowSeconds,
    ledger: dns.ledger,
    pendingDue: due.records.length,
  };
}

const emptyTallyOf = () => new GitHubLedger().tally('none');

/** Every Route 53 call the fleet made: ListResourceRecordSets and ChangeResourceRecordSets (no GetChange). */
export function route53Calls(s: Summary): number {
  return (
    (s.apiCalls['route53:ListResourceRecordSets'] ?? 0) +
    (s.apiCalls['route53:ChangeResourceRecordSets'] ?? 0)
  );
}

export async function run(): Promise<void> {
  const started = Date.now();
  const day = await chaosDay();
  const { summary: s, naive, github } = day;
  const broken = s.invariants.filter((i) => !i.ok);
  console.log(
    `chaos day: ${s.simulatedSeconds / 3600} simulated hours in ${((Date.now() - started) / 1000).toFixed(1)} s wall`,
  );
  console.log(
    `  chaos        ${s.delivery.dropped} dropped, ${s.delivery.duplicated} duplicated, ${s.delivery.delayedOutOfOrder} reordered of ${s.delivery.deliveries} deliveries; ${s.delivery.injectedErrors} API errors`,
  );
  console.log(
    `  fleet        ${s.counts.instancesLaunched} instances, ${s.counts.runnersRegistered} runners, ${s.counts.jobsStarted} jobs, ${s.counts.webhooksSent} webhooks`,
  );
  console.log(
    `  invariants   ${broken.length === 0 ? 'all hold' : `BROKEN: ${broken.map((b) => b.name).join(', ')}`}`,
  );
  console.log(
    `  convergence  ${s.convergenceSeconds === null ? 'never' : `${s.convergenceSeconds} s after the last fleet change`}`,
  );
  console.log(
    `  evidence     ${s.counts.auditRecords} audit records; CloudTrail-correlated ${s.counts.auditCorrelationResolved}, pending ${s.counts.auditCorrelationPending}, unresolved ${s.counts.auditCorrelationUnresolved}; ${s.apiCalls['cloudtrail:LookupEvents']} LookupEvents`,
  );
  printRoute53(day);
  printBatches(day);
  await printWindows(day);
  printGitHub(github, naive);
  console.log(
    `  calls        ${Object.entries(s.apiCalls)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
  console.log(
    `  invocations  ${Object.entries(s.invocations)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
  );
}

const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : `${(a / b).toFixed(1)}x`);
const round = (x: number) => Math.round(x * 10) / 10;
const secs = (t: Delay) => `median ${round(t.medianS)} s, p95 ${round(t.p95S)} s, max ${round(t.maxS)} s`;

/** Whether the target holds: the fleet's Route 53 calls, every one counted, below the naive design's. */
export function targetMet(day: ChaosDayResult): boolean {
  return route53Calls(day.summary) < day.naive.route53.calls;
}

/** The Route 53 lines: fleet by function against the naive design, time-to-record, the target. */
function printRoute53(day: ChaosDayResult): void {
  const { summary: s, naive, fleet } = day;
  const r53 = route53Calls(s);
  const n = naive.route53;
  const sync = fleet['dns-sync'];
  const rec = fleet['dns-reconcile'];
  console.log(
    `  Route 53     fleet ${r53} calls (${s.apiCalls['route53:ListResourceRecordSets'] ?? 0} ListResourceRecordSets + ${s.apiCalls['route53:ChangeResourceRecordSets'] ?? 0} ChangeResourceRecordSets); naive one-call-per-event (a Lambda per EventBridge delivery), run on the same ${n.eventsHandled} deliveries: ${n.calls} calls, no read (naive/fleet ${ratio(n.calls, r53)}), ${n.rejected} rejected, ${n.staleRecordsLeft} stale and ${n.missingRecords} missing records at the end`,
  );
  console.log(
    `    by function  dns-sync ${sync.list} List + ${sync.change} Change in ${sync.invocations} batches (window ${day.batchingWindowSeconds} s); dns-reconcile ${rec.list} List + ${rec.change} Change in ${rec.invocations} runs, ${rec.zoneReads} of which read the zone (the others: no Route 53 call), ${rec.lookups} CloudTrail LookupEvents`,
  );
  console.log(
    `    to record    running event -> A record visible: fleet ${secs({ ...sync.timeToRecord, count: sync.timeToRecord.recorded })} (${sync.timeToRecord.recorded} recorded); naive ${secs({ ...n.timeToRecord, count: n.timeToRecord.recorded })} (${n.timeToRecord.recorded} recorded)`,
  );
  console.log(
    `    to removal   leaving event -> that A record gone: fleet ${secs(sync.timeToRecord.removal)} (${sync.timeToRecord.removal.count}); naive ${secs(n.timeToRecord.removal)} (${n.timeToRecord.removal.count})`,
  );
  console.log(
    `    target       fewer total Route 53 calls than naive, every call counted: ${targetMet(day) ? `MET (${r53} vs ${n.calls})` : `NOT MET (${r53} vs ${n.calls}: dns-sync ${sync.list + sync.change}, dns-reconcile ${rec.list + rec.change})`}`,
  );
}

/** Where dns-sync's calls go: its batches grouped by what they did. */
function printBatches(day: ChaosDayResult): void {
  const b = day.fleet['dns-sync'].batches;
  const sizes = b.map((x) => x.messages);
  console.log(
    `    dns-sync     ${b.length} batches of ${Math.min(...sizes)}-${Math.max(...sizes)} messages (${sizes.reduce((a, c) => a + c, 0)} in all, ${b.reduce((a, c) => a + c.retried, 0)} retried by SQS); by what the batch did:`,
  );
  for (const [kind, g] of [...day.ledger.groups()].sort((x, y) => y[1].list - x[1].list))
    console.log(
      `      ${kind.padEnd(28)} ${String(g.batches).padStart(3)} batches: ${g.list} List + ${g.change} Change; ${g.messages} messages (${g.running} running, ${g.leaving} leaving, ${g.messages - g.running - g.leaving} other; ${g.alreadyApplied} already applied by an earlier batch)`,
    );
}

/** Measured at each window: dns-sync's calls, the fleet's total, time-to-record; the naive stays put. */
async function printWindows(day: ChaosDayResult): Promise<void> {
  console.log(
    '    window       dns-sync calls (batches) | fleet total | time-to-record | time-to-removal | naive calls',
  );
  for (const window of BATCHING_WINDOWS) {
    const d = window === day.batchingWindowSeconds ? day : await chaosDay(CHAOS_DAY, window);
    const sync = d.fleet['dns-sync'];
    console.log(
      `      ${`${window} s`.padEnd(10)} ${sync.list} List + ${sync.change} Change (${sync.invocations}) | ${route53Calls(d.summary)} | ${secs({ ...sync.timeToRecord, count: sync.timeToRecord.recorded })} | ${secs(sync.timeToRecord.removal)} | ${d.naive.route53.calls}${d.summary.invariants.every((i) => i.ok) ? '' : ' (INVARIANTS BROKEN)'}`,
    );
  }
}

/** GitHub: every request of every function, and the naive job-watch run beside the real one. */
function printGitHub(github: GitHubLedger, naive: NaiveFigures): void {
  const line = (t: GitHubTally) =>
    `${t.requests} requests (${t.listPages} list pages, ${t.byName} by name, ${t.get} gets, ${t.delete} deletes, ${t.cordon} label changes; ${t.rateLimited} rate-limited) + ${t.tokensHourly}-${t.invocations} tokens`;
  const all = github.total();
  console.log(`  GitHub       fleet: ${line(all)}`);
  for (const [fn, t] of [...github.byFunction].sort()) console.log(`    ${fn.padEnd(17)}${line(t)}`);
  const watch = github.tally('runner-job-watch');
  const same = naive.github.samePages;
  const big = naive.github.pagesOf100;
  console.log(
    `    naive        job-watch listing every runner on each of the same ${naive.github.events} events, run on its own registry: ${line(same)} at ${GITHUB_SIM.perPage} per page; ${line(big)} at 100 per page`,
  );
  console.log(
    `    ratio        naive/fleet job-watch requests + tokens (lower bound): ${ratio(same.requests + same.tokensHourly, watch.requests + watch.tokensHourly)} at ${GITHUB_SIM.perPage} per page, ${ratio(big.requests + big.tokensHourly, watch.requests + watch.tokensHourly)} at 100 per page; naive job-watch/whole fleet ${ratio(big.requests + big.tokensHourly, all.requests + all.tokensHourly)} at 100 per page`,
  );
}
