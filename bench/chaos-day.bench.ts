/**
 * Chaos day: a simulated day of a 60-instance fleet (runners taking jobs all day, a third of the
 * runners scaled in through the terminate hook, a spot interruption, web hosts leaving) with
 * EventBridge losing 5% of deliveries, duplicating 10%, reordering 20%, and 2% of invocations
 * meeting an API error. The real handlers run, routed by the synthesized stack's rules.
 *
 * The naive per-event design is MEASURED in the same run, on the same deliveries: a naive DNS
 * handler sees every batch dns-sync sees (redeliveries included) and makes one Route 53 call per
 * running / shutting-down / terminated event (UPSERT of the instance's IP, DELETE of it), no
 * batching and no ownership markers, against a zone of its own; its calls, rejections and the
 * records it leaves wrong at the end are counted. The naive runner-job-watch runs for real too: on
 * every workflow_job event runner-job-watch receives, it lists every runner, on a registry of its
 * own (its own installation's rate limit) kept equal to the simulator's, once at the simulator's
 * page size and once at GitHub's largest (100). Every GitHub request of both sides is counted by
 * function (bench/github-calls.ts: list pages, lookups, gets, deletes, label changes, rate-limited
 * answers, and installation tokens between their two bounds).
 */
import type { Context } from 'aws-lambda';
import type { Summary } from '../cli/simulate/report';
import { DEFAULT_SIM_OPTIONS, type SimOptions } from '../cli/simulate/scenario';
import { simulate } from '../cli/simulate/simulate';
import {
  GITHUB_SIM,
  type HandlerOverrides,
  type Invoke,
  type World,
  wireFunction,
} from '../cli/simulate/world';
import { InMemoryRoute53 } from '../shared/dns/in-memory-route53';
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
  // a day of real traffic: GitHub's documented installation budget, not the simulator's tight default
  githubRateLimit: { requests: 5000, windowMs: 3_600_000 },
};

export interface NaiveFigures {
  route53: {
    /** EC2 state-change events the naive handler received (as many as dns-sync received). */
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
  'dns-sync': { invocations: number; list: number; change: number };
  'dns-reconcile': { invocations: number; list: number; change: number; zoneReads: number; lookups: number };
}

export interface ChaosDayResult {
  summary: Summary;
  naive: NaiveFigures;
  fleet: FleetRoute53;
  /** Every GitHub call of the fleet, by function. */
  github: GitHubLedger;
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

/** Handler overrides that run the real handler and, beside it, the naive per-event design. */
function withNaiveShadow(
  naive: NaiveFigures,
  zone: { id: string; name: string; r53: InMemoryRoute53 },
  fleet: FleetRoute53,
  github: { fleet: GitHubLedger; naive: GitHubLedger },
) {
  const overrides: HandlerOverrides = {
    [DNS_SYNC]: (w: World, env: Record<string, string>) => {
      zone.id = env.HOSTED_ZONE_ID ?? 'Z0SIMULATED';
      zone.name = env.ZONE_NAME ?? 'fleet.example.internal';
      zone.r53.addZone(zone.id, zone.name);
      const real = wireFunction({ logicalId: 'dns-sync', entry: DNS_SYNC, env }, w) as Invoke;
      const nameTag = env.NAME_TAG ?? 'fleetwarden:dns-name';
      return async (event: unknown, context: Context) => {
        for (const record of (event as { Records: Array<{ body: string }> }).Records) {
          const e = JSON.parse(record.body) as { detail: { 'instance-id': string; state: string } };
          naive.route53.eventsHandled++;
          const id = e.detail['instance-id'];
          const action =
            e.detail.state === 'running'
              ? 'UPSERT'
              : e.detail.state === 'shutting-down' || e.detail.state === 'terminated'
                ? 'DELETE'
                : undefined;
          if (!action) continue;
          // what DescribeInstances shows right now (read without counting it as the fleet's call)
          const info = w.inventory.visible().find((i) => i.instanceId === id);
          const ip = info?.privateIp;
          if (!ip) continue;
          const name = `${info?.tags[nameTag] ?? id}.${zone.name}`;
          try {
            await zone.r53.changeRecordSets(zone.id, [
              { action, record: { name, type: 'A', ttl: 60, values: [ip] } },
            ]);
          } catch {
            // counted below from the zone's own request log
          }
        }
        fleet['dns-sync'].invocations++;
        return counted(w, fleet['dns-sync'], () => real(event, context));
      };
    },
    [RECONCILE]: (w: World, env: Record<string, string>) => {
      const real = wireFunction({ logicalId: 'dns-reconcile', entry: RECONCILE, env }, w) as Invoke;
      const mine = fleet['dns-reconcile'];
      return async (event: unknown, context: Context) => {
        mine.invocations++;
        const lookups = w.evidence.trail.lookups;
        const summary = (await counted(w, mine, () => real(event, context))) as { zoneRead?: boolean };
        mine.lookups += w.evidence.trail.lookups - lookups;
        if (summary?.zoneRead) mine.zoneReads++;
        return summary;
      };
    },
    [JOB_WATCH]: (w: World, env: Record<string, string>) => {
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
    },
  };
  return overrides;
}

export async function chaosDay(options: SimOptions = CHAOS_DAY): Promise<ChaosDayResult> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const naive: NaiveFigures = {
    route53: {
      eventsHandled: 0,
      calls: 0,
      listCalls: 0,
      applied: 0,
      rejected: 0,
      staleRecordsLeft: 0,
      missingRecords: 0,
    },
    github: { events: 0, samePages: emptyTallyOf(), pagesOf100: emptyTallyOf() },
    githubListPages: 0,
  };
  const github = { fleet: new GitHubLedger(), naive: new GitHubLedger() };
  const zone = { id: '', name: '', r53: new InMemoryRoute53() };
  const fleet: FleetRoute53 = {
    'dns-sync': { invocations: 0, list: 0, change: 0 },
    'dns-reconcile': { invocations: 0, list: 0, change: 0, zoneReads: 0, lookups: 0 },
  };
  const { summary, engine } = await simulate({
    ...options,
    overrides: { ...withNaiveShadow(naive, zone, fleet, github), ...options.overrides },
  });
  naive.github.samePages = github.naive.tally('naive-job-watch');
  naive.github.pagesOf100 = github.naive.tally('naive-job-watch-100');
  naive.githubListPages = naive.github.samePages.listPages;
  const requests = zone.r53.changeRequests;
  naive.route53.listCalls = zone.r53.listRequests;
  naive.route53.calls = requests.length + zone.r53.listRequests;
  naive.route53.applied = requests.filter((r) => r.outcome === 'applied').length;
  naive.route53.rejected = requests.filter((r) => r.outcome === 'rejected').length;
  const bare = (n: string) => n.toLowerCase().replace(/\.$/, '');
  const expected = new Map(
    [...engine.truth.values()]
      .filter((t) => t.state === 'running')
      .map((t) => [bare(`${t.name}.${engine.zoneName}`), t.ip]),
  );
  const records = zone.id ? zone.r53.records(zone.id).filter((r) => r.type === 'A') : [];
  naive.route53.staleRecordsLeft = records.filter((r) => expected.get(bare(r.name)) !== r.values[0]).length;
  naive.route53.missingRecords = [...expected].filter(
    ([name, ip]) => !records.some((r) => bare(r.name) === name && r.values.includes(ip)),
  ).length;
  return { summary, naive, fleet, github: github.fleet };
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
  const { summary: s, naive, fleet, github } = await chaosDay();
  const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : `${(a / b).toFixed(1)}x`);
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
  const r53 = route53Calls(s);
  const n = naive.route53;
  console.log(
    `  Route 53     ${r53} calls (${s.apiCalls['route53:ListResourceRecordSets'] ?? 0} ListResourceRecordSets + ${s.apiCalls['route53:ChangeResourceRecordSets'] ?? 0} ChangeResourceRecordSets); naive one-call-per-event, run beside it on the same ${n.eventsHandled} events: ${n.calls} calls, no read (naive/fleet ${ratio(n.calls, r53)}), ${n.rejected} rejected, ${n.staleRecordsLeft} stale and ${n.missingRecords} missing records at the end`,
  );
  const sync = fleet['dns-sync'];
  const rec = fleet['dns-reconcile'];
  console.log(
    `    by function  dns-sync ${sync.list} List + ${sync.change} Change in ${sync.invocations} batches; dns-reconcile ${rec.list} List + ${rec.change} Change in ${rec.invocations} runs, ${rec.zoneReads} of which read the zone (the others: no Route 53 call), ${rec.lookups} CloudTrail LookupEvents`,
  );
  console.log(
    `    target       fewer total Route 53 calls than naive: ${r53 < n.calls ? 'MET' : `NOT MET (${r53} vs ${n.calls}: dns-sync alone makes ${sync.list + sync.change}, one List per batch before its Change)`}`,
  );
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

/** GitHub: every request of every function, and the naive job-watch run beside the real one. */
function printGitHub(github: GitHubLedger, naive: NaiveFigures): void {
  const ratio = (a: number, b: number) => (b === 0 ? 'n/a' : `${(a / b).toFixed(1)}x`);
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
