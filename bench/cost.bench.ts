/**
 * What the fleet itself costs to run on AWS per month, for fleets of 100, 1,000 and 10,000 instances,
 * from the published unit prices in bench/prices.ts (one dated table).
 *
 * Measured: the simulator runs the synthesized fleet (the real handlers) at three sizes; per function
 * it records invocations and the handler's CPU time, and the run's API calls and audit records. Each
 * line's activity is fitted as fixed + per-instance (least squares over the three sizes), projected
 * to the fleet size and scaled from the run's simulated window to a 30-day month. Memory comes from
 * each function's synthesized MemorySize; queues, keys, alarms, secrets and dashboards are counted in
 * the synthesized template.
 *
 * Churn (stated, the same per instance at every size; `COST_SCENARIO`): over a 40-minute window every
 * instance is launched once (in its first 10 minutes), a third are web hosts and two thirds runners;
 * every registered runner takes job after job (2-6 minutes each, 0.5-3.5 minutes apart: about 8 jobs
 * per runner per hour as measured, 3 webhooks each); from minute 20 a third of the runners are scaled in through
 * the terminate hook, half the web hosts are terminated, and per 18 instances one runner never
 * registers and one is lost to a spot interruption; then 65 minutes settle. Fleets are measured in
 * multiples of 18 so these shares are exact. GitHub's documented budget of 5,000 requests per hour
 * per installation (the simulator's default is a deliberately tight 20 per 5 minutes). The bench
 * prints the churn it measured at each size.
 *
 * Assumptions (stated, not measured): 20 ms of network per invocation on top of the handler's CPU
 * time; 2.5 KB of logs per invocation (Lambda's JSON START/END/REPORT lines, one INFO summary line, one
 * EMF metrics line); 3 SQS requests per queued message (send, receive, delete) plus Lambda's 5 idle
 * long-pollers per queue (one request per 20 s each); 2 DynamoDB writes per audit record (intent,
 * outcome) and one per correlation, 2 per webhook delivery (idempotency); SQS SSE-KMS data keys reused
 * for 5 minutes (2 KMS requests per queue per 5 minutes). X-Ray: Lambda's active tracing samples with
 * X-Ray's default rule (prices.ts `xray.sampling`: the first request each second, then 5% of the
 * rest), priced with the month's invocations spread evenly over its seconds (an upper bound: bursts
 * leave seconds without a request, whose reservoir goes unused).
 */

import { readFileSync } from 'node:fs';
import { App } from 'aws-cdk-lib';
import type { Context } from 'aws-lambda';
import { synthesizeFleet } from '../cli/simulate/routing';
import { DEFAULT_SIM_OPTIONS, type SimOptions } from '../cli/simulate/scenario';
import { fleetConfigFor, simulate } from '../cli/simulate/simulate';
import { type HandlerOverrides, type Invoke, type World, wireFunction } from '../cli/simulate/world';
import { buildApp } from '../infra/app';
import { FleetFunction } from '../infra/constructs/fleet-function';
import { PRICES, PRICES_AS_OF } from './prices';

const MONTH_MINUTES = 30 * 24 * 60;
const MONTH_SECONDS = MONTH_MINUTES * 60;

/** GitHub's documented budget of an App installation (the simulator's default is deliberately tight). */
export const GITHUB_BUDGET = { requests: 5000, windowMs: 3_600_000 } as const;

/** The churn the bench holds per instance at every fleet size (see the header). */
export const COST_SCENARIO: SimOptions = {
  ...DEFAULT_SIM_OPTIONS,
  githubRateLimit: GITHUB_BUDGET,
  churnPer: 18,
};
/** Simulated fleet sizes: multiples of 18, so every share of the churn is exact. */
export const COST_RUN_SIZES = [18, 36, 72];
const NETWORK_MS_PER_INVOCATION = 20;
const LOG_BYTES_PER_INVOCATION = 2.5 * 1024;

interface Template {
  Resources: Record<
    string,
    { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }
  >;
}

/** The fleet's fixed inventory, counted in the synthesized template. */
export interface FleetInventory {
  memoryMbByEntry: Map<string, number>;
  queuesPolled: number;
  encryptedQueues: number;
  kmsKeys: number;
  alarms: number;
  dashboards: number;
  secrets: number;
  customMetrics: number;
}

export function fleetInventory(): FleetInventory {
  const cdkJson = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const fleetwarden = { ...(cdkJson.context.fleetwarden as Record<string, unknown>), dryRun: false };
  const app = buildApp(
    new App({ context: { ...cdkJson.context, fleetwarden, 'aws:cdk:bundling-stacks': [] } }),
  );
  const template = app.synth().stacks[0]?.template as Template;
  const resources = Object.values(template.Resources);
  const ofType = (t: string) => resources.filter((r) => r.Type === t);
  const memoryMbByEntry = new Map<string, number>();
  for (const r of ofType('AWS::Lambda::Function')) {
    const entry = r.Metadata?.[FleetFunction.ENTRY_METADATA_KEY];
    if (typeof entry === 'string') memoryMbByEntry.set(entry, Number(r.Properties?.MemorySize ?? 128));
  }
  const dashboardBodies = JSON.stringify(ofType('AWS::CloudWatch::Dashboard').map((d) => d.Properties));
  const metricNames = new Set(
    [...dashboardBodies.matchAll(/\\"Fleetwarden\\",\\"([\w-]+)\\"(?:,\\"service\\",\\"([\w-]+)\\")?/g)].map(
      (m) => `${m[1]}/${m[2] ?? ''}`,
    ),
  );
  return {
    memoryMbByEntry,
    queuesPolled: ofType('AWS::Lambda::EventSourceMapping').length,
    encryptedQueues: ofType('AWS::SQS::Queue').filter((q) => q.Properties?.KmsMasterKeyId).length,
    kmsKeys: ofType('AWS::KMS::Key').length,
    alarms: ofType('AWS::CloudWatch::Alarm').length,
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    secrets: ofType('AWS::SecretsManager::Secret').length,
    customMetrics: metricNames.size,
  };
}

/** One function's invocations, handler CPU and GitHub requests (list pages among them) in a run. */
interface FunctionActivity {
  invocations: number;
  cpuMs: number;
  queued: boolean;
  github: number;
  listPages: number;
}

/** Every GitHub request of the simulated registry so far. */
const githubRequests = (c: {
  listPages: number;
  byName: number;
  get: number;
  delete: number;
  cordon: number;
}) => c.listPages + c.byName + c.get + c.delete + c.cordon;

/** What one simulator run of `instances` instances did, per function and per API. */
export interface RunActivity {
  instances: number;
  windowMinutes: number;
  byFunction: Map<string, FunctionActivity>;
  apiCalls: Record<string, number>;
  auditRecords: number;
  correlations: number;
  webhooks: number;
  /** The churn the run had (inputs, not the fleet's response): per run, not per instance. */
  churn: { jobs: number; runners: number; scaleIns: number; leftOtherwise: number; activityMinutes: number };
  /** Every GitHub request the fleet made (list pages, lookups by id and name, deletes, cordons). */
  githubRequests: number;
}

export async function measureRun(
  instances: number,
  base: SimOptions = DEFAULT_SIM_OPTIONS,
): Promise<RunActivity> {
  const byFunction: RunActivity['byFunction'] = new Map();
  const overrides: HandlerOverrides = {};
  const routing = synthesizeFleet(fleetConfigFor(base));
  const queued = new Set([...routing.consumers.values()].map((c) => c.fn));
  for (const [logicalId, route] of routing.functions) {
    const name = route.entry.replace(/^functions\/|\/(handler|index)\.ts$/g, '');
    const figure = { invocations: 0, cpuMs: 0, queued: queued.has(logicalId), github: 0, listPages: 0 };
    byFunction.set(name, figure);
    overrides[route.entry] = (w: World, env: Record<string, string>) => {
      const real = wireFunction({ ...route, env }, w) as Invoke;
      return async (event: unknown, context: Context) => {
        const cpu = process.cpuUsage();
        const calls = { ...w.registry.calls };
        try {
          return await real(event, context);
        } finally {
          const d = process.cpuUsage(cpu);
          figure.invocations++;
          figure.cpuMs += (d.user + d.system) / 1000;
          figure.github += githubRequests(w.registry.calls) - githubRequests(calls);
          figure.listPages += w.registry.calls.listPages - calls.listPages;
        }
      };
    };
  }
  const options = { ...base, instances, overrides };
  const { summary, engine } = await simulate(options, routing);
  const c = summary.counts;
  const calls = engine.world.registry.calls;
  return {
    instances,
    windowMinutes: options.durationMinutes + options.settleMinutes,
    byFunction,
    apiCalls: summary.apiCalls,
    auditRecords: c.auditRecords ?? 0,
    correlations: c.auditCorrelationResolved ?? 0,
    webhooks: c.webhooksAccepted ?? 0,
    churn: {
      jobs: c.jobsStarted ?? 0,
      runners: [...engine.truth.values()].filter((t) => t.runnerId !== undefined).length,
      scaleIns: c.terminateHooks ?? 0,
      leftOtherwise: (c.instancesLeft ?? 0) - (c.terminateHooks ?? 0),
      activityMinutes: options.durationMinutes,
    },
    githubRequests: githubRequests(calls),
  };
}

/** One bill line's monthly usage in a run, and what a unit of it costs. */
interface LineSpec {
  line: string;
  unit: string;
  /** usage in the run's window (scaled to a month later) */
  usage: (r: RunActivity, inv: FleetInventory) => number;
  /** fixed monthly usage, not scaled with the fleet or the window */
  fixed?: (inv: FleetInventory) => number;
  /** the billed units of a month's usage, when the bill is not linear in it (X-Ray's sampling) */
  billed?: (monthlyUsage: number) => number;
  price: number;
}

/**
 * Traces X-Ray records in a month of `requests` traced invocations under its default sampling rule
 * (prices.ts `xray.sampling`), the requests spread evenly over the month's seconds: the rule's
 * reservoir takes up to `perSecond` a second, the fixed rate a share of the rest. Even spreading is
 * the upper bound (the count per second is concave: bursts only lower it).
 */
export function sampledTraces(requests: number): number {
  const { reservoirPerSecond, fixedRate } = PRICES.xray.sampling;
  const reservoir = Math.min(requests, reservoirPerSecond * MONTH_SECONDS);
  return reservoir + fixedRate * (requests - reservoir);
}

const sum = (r: RunActivity, f: (x: FunctionActivity, name: string) => number) =>
  [...r.byFunction].reduce((a, [name, x]) => a + f(x, name), 0);

/** Every bill line: the ones that follow the fleet's activity, then the fleet's fixed inventory. */
export function lineSpecs(): LineSpec[] {
  return [...activityLines(), ...inventoryLines()];
}

function activityLines(): LineSpec[] {
  const p = PRICES;
  return [
    {
      line: 'Lambda requests',
      unit: 'requests',
      usage: (r) => sum(r, (x) => x.invocations),
      price: p.lambda.perMillionRequests / 1e6,
    },
    {
      line: 'Lambda compute (arm64)',
      unit: 'GB-s',
      usage: (r, inv) =>
        sum(r, (x, name) => {
          const mb = inv.memoryMbByEntry.get(`functions/${name}/index.ts`) ?? 256;
          return ((x.cpuMs + x.invocations * NETWORK_MS_PER_INVOCATION) / 1000) * (mb / 1024);
        }),
      price: p.lambda.perGbSecondArm,
    },
    {
      line: 'SQS requests',
      unit: 'requests',
      usage: (r) => 3 * sum(r, (x) => (x.queued ? x.invocations : 0)),
      fixed: (inv) => inv.queuesPolled * 5 * 3 * MONTH_MINUTES,
      price: p.sqs.perMillionRequests / 1e6,
    },
    {
      line: 'DynamoDB writes',
      unit: 'write units',
      usage: (r) => 2 * r.auditRecords + r.correlations + 2 * r.webhooks,
      price: p.dynamodb.perMillionWriteUnits / 1e6,
    },
    {
      line: 'DynamoDB reads',
      unit: 'read units',
      usage: (r) => (r.byFunction.get('audit-correlate')?.invocations ?? 0) + r.correlations + r.webhooks,
      price: p.dynamodb.perMillionReadUnits / 1e6,
    },
    {
      line: 'X-Ray traces',
      unit: 'traces',
      usage: (r) => sum(r, (x) => x.invocations),
      billed: sampledTraces,
      price: p.xray.perMillionTracesRecorded / 1e6,
    },
    {
      line: 'EventBridge custom events',
      unit: 'events',
      usage: (r) => r.apiCalls['events:PutEvents'] ?? 0,
      price: p.eventbridge.perMillionCustomEvents / 1e6,
    },
    {
      line: 'CloudWatch Logs ingestion',
      unit: 'GB',
      usage: (r) => (sum(r, (x) => x.invocations) * LOG_BYTES_PER_INVOCATION) / 1024 ** 3,
      price: p.cloudwatch.logsIngestedPerGb,
    },
  ];
}

function inventoryLines(): LineSpec[] {
  const p = PRICES;
  return [
    {
      line: 'KMS keys',
      unit: 'key-months',
      usage: () => 0,
      fixed: (inv) => inv.kmsKeys,
      price: p.kms.perKeyMonth,
    },
    {
      line: 'KMS requests',
      unit: 'requests',
      usage: () => 0,
      fixed: (inv) => inv.encryptedQueues * 2 * (MONTH_MINUTES / 5),
      price: p.kms.per10kRequests / 1e4,
    },
    {
      line: 'CloudWatch metrics',
      unit: 'metric-months',
      usage: () => 0,
      fixed: (inv) => inv.customMetrics,
      price: p.cloudwatch.perMetricMonth,
    },
    {
      line: 'CloudWatch alarms + dashboards',
      unit: 'USD',
      usage: () => 0,
      fixed: (inv) =>
        inv.alarms * p.cloudwatch.perStandardAlarmMonth + inv.dashboards * p.cloudwatch.perDashboardMonth,
      price: 1,
    },
    {
      line: 'Secrets Manager',
      unit: 'secret-months',
      usage: () => 0,
      fixed: (inv) => inv.secrets,
      price: p.secretsManager.perSecretMonth,
    },
  ];
}

export interface CostLine {
  line: string;
  unit: string;
  /** monthly USD per fleet size */
  usd: number[];
  /** growth exponent of the measured usage between the smallest and largest run (1 = like the fleet) */
  exponent: number;
  fasterThanFleet: boolean;
}

/** The churn of each run, per instance (it must be the same at every size: the bench's inputs). */
export interface Churn {
  jobsPerRunnerHour: number[];
  scaleInsPerInstance: number[];
  otherDeparturesPerInstance: number[];
  runnersPerInstance: number[];
}

export interface CostReport {
  sizes: number[];
  runs: number[];
  churn: Churn;
  /** GitHub requests per hour at each fleet size (fitted like a line) and their measured growth. */
  github: { perHour: number[]; exponent: number };
  /** What drives the lines that can grow faster than the fleet, per instance of each run. */
  drivers: Driver[];
  lines: CostLine[];
  totals: number[];
  largest: string;
}

/** Least squares a + b x. */
function leastSquares(xs: number[], ys: number[]): { a: number; b: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    sxx += ((xs[i] as number) - mx) ** 2;
  }
  const b = sxx === 0 ? 0 : sxy / sxx;
  return { a: my - b * mx, b };
}

/**
 * The usage of one line as fixed + per instance; a negative fixed part is sampling noise of the
 * small runs (usage cannot be negative at size 0): the line is then fitted through the origin.
 */
function usageFit(xs: number[], ys: number[]): { a: number; b: number } {
  const f = leastSquares(xs, ys);
  if (f.a >= 0) return f;
  const sxy = xs.reduce((s, x, i) => s + x * (ys[i] as number), 0);
  const sxx = xs.reduce((s, x) => s + x * x, 0);
  return { a: 0, b: sxx === 0 ? 0 : sxy / sxx };
}

/** A usage that drives bill lines, measured per instance at each run size. */
export interface Driver {
  what: string;
  /** per instance, at each run size */
  perInstance: number[];
  drives: string;
}

/**
 * Why lines grow faster than the fleet: GitHub's traffic (webhooks: one PutEvents and one
 * idempotency read per accepted delivery; job-watch is queued), runner-drain's looks (each an
 * invocation, a heartbeat, queue messages, audit records and their correlations), the GitHub
 * requests refused by the rate limit (a drain's failed look is looked at again), and the
 * correlations (DynamoDB reads and writes).
 */
export function driversOf(runs: RunActivity[]): Driver[] {
  const per = (f: (r: RunActivity) => number) => runs.map((r) => f(r) / r.instances);
  const inv = (r: RunActivity, fn: string) => r.byFunction.get(fn)?.invocations ?? 0;
  return [
    {
      what: 'accepted webhooks',
      perInstance: per((r) => r.webhooks),
      drives: 'EventBridge, DynamoDB reads, SQS',
    },
    {
      what: 'EventBridge events per webhook',
      perInstance: runs.map((r) => (r.webhooks ? (r.apiCalls['events:PutEvents'] ?? 0) / r.webhooks : 0)),
      drives: 'EventBridge',
    },
    {
      what: 'runner-drain invocations',
      perInstance: per((r) => inv(r, 'runner-drain')),
      drives: 'SQS, Lambda',
    },
    {
      what: 'GitHub requests refused by the rate limit',
      perInstance: per((r) => r.apiCalls['github:rate-limited'] ?? 0),
      drives: 'runner-drain looks again',
    },
    {
      what: 'CloudTrail correlations',
      perInstance: per((r) => r.correlations),
      drives: 'DynamoDB reads and writes',
    },
    {
      what: 'GitHub requests',
      perInstance: per((r) => r.githubRequests),
      drives: "the App's budget (5,000/h); refusals make drains look again",
    },
    {
      what: 'runner list pages per drain (scale-in)',
      // per scale-in, not per instance: a drain that lists every runner reads more pages as the fleet grows
      perInstance: runs.map((r) =>
        r.churn.scaleIns ? (r.byFunction.get('runner-drain')?.listPages ?? 0) / r.churn.scaleIns : 0,
      ),
      drives: 'GitHub requests (one page per 10 runners in the simulator, per 100 on GitHub)',
    },
  ];
}

export function churnOf(runs: RunActivity[]): Churn {
  const per = (f: (r: RunActivity) => number) => runs.map((r) => f(r) / r.instances);
  return {
    jobsPerRunnerHour: runs.map((r) => r.churn.jobs / r.churn.runners / (r.churn.activityMinutes / 60)),
    scaleInsPerInstance: per((r) => r.churn.scaleIns),
    otherDeparturesPerInstance: per((r) => r.churn.leftOtherwise),
    runnersPerInstance: per((r) => r.churn.runners),
  };
}

/** Growth exponent of y between the smallest and the largest run (1 = like the fleet). */
function growth(xs: number[], ys: number[]): number {
  const first = ys[0] as number;
  const last = ys.at(-1) as number;
  return first > 0 && last > 0
    ? Math.log(last / first) / Math.log((xs.at(-1) as number) / (xs[0] as number))
    : 0;
}

function githubLoad(runs: RunActivity[], sizes: number[]): CostReport['github'] {
  const xs = runs.map((r) => r.instances);
  const ys = runs.map((r) => r.githubRequests * (60 / r.windowMinutes));
  const { a, b } = usageFit(xs, ys);
  return { perHour: sizes.map((n) => a + b * n), exponent: growth(xs, ys) };
}

export function projectCosts(runs: RunActivity[], inv: FleetInventory, sizes: number[]): CostReport {
  const xs = runs.map((r) => r.instances);
  const lines: CostLine[] = lineSpecs().map((spec) => {
    // usage per month at each run's size (the run's window scaled to 30 days)
    const ys = runs.map((r) => spec.usage(r, inv) * (MONTH_MINUTES / r.windowMinutes));
    const { a, b } = usageFit(xs, ys);
    const fixed = spec.fixed?.(inv) ?? 0;
    const billed = spec.billed ?? ((u: number) => u);
    const usd = sizes.map((n) => (billed(Math.max(0, a + b * n)) + fixed) * spec.price);
    // the growth of what is billed, as measured in the runs
    const exponent = growth(xs, ys.map(billed));
    return { line: spec.line, unit: spec.unit, usd, exponent, fasterThanFleet: exponent > 1.1 };
  });
  const totals = sizes.map((_, i) => lines.reduce((s, l) => s + (l.usd[i] as number), 0));
  const top = [...lines].sort((p, q) => (q.usd.at(-1) as number) - (p.usd.at(-1) as number))[0];
  return {
    sizes,
    runs: xs,
    churn: churnOf(runs),
    github: githubLoad(runs, sizes),
    drivers: driversOf(runs),
    lines,
    totals,
    largest: top?.line ?? '',
  };
}

export async function fleetCost(
  runSizes = COST_RUN_SIZES,
  sizes = [100, 1_000, 10_000],
  base: SimOptions = COST_SCENARIO,
): Promise<CostReport> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const inv = fleetInventory();
  const runs: RunActivity[] = [];
  for (const n of runSizes) runs.push(await measureRun(n, base));
  return projectCosts(runs, inv, sizes);
}

export function costTable(r: CostReport): string {
  const usd = (v: number) => `$${v < 10 ? v.toFixed(2) : v.toFixed(0)}`;
  const head = `| line | ${r.sizes.map((s) => `${s.toLocaleString('en-US')} instances`).join(' | ')} | growth |`;
  const rows = r.lines.map(
    (l) =>
      `| ${l.line} | ${l.usd.map(usd).join(' | ')} | ${l.exponent.toFixed(2)}${l.fasterThanFleet ? ' FASTER THAN THE FLEET' : ''} |`,
  );
  const total = `| **total per month** | ${r.totals.map((t) => `**${usd(t)}**`).join(' | ')} | |`;
  return [head, `| --- | ${r.sizes.map(() => '---:').join(' | ')} | ---: |`, ...rows, total].join('\n');
}

export async function run(): Promise<void> {
  const r = await fleetCost();
  console.log(
    `monthly AWS bill of the fleet itself, us-east-1, prices as of ${PRICES_AS_OF} (bench/prices.ts)`,
  );
  console.log(`measured in simulator runs of ${r.runs.join(', ')} instances, at a churn held per instance:`);
  const f = (xs: number[], d = 2) => xs.map((v) => v.toFixed(d)).join(' / ');
  const c = r.churn;
  console.log(`  jobs per runner per hour (while active)      ${f(c.jobsPerRunnerHour, 1)}`);
  console.log(`  runners registered per instance              ${f(c.runnersPerInstance)}`);
  console.log(`  scale-ins through the hook per instance      ${f(c.scaleInsPerInstance)}`);
  console.log(`  other departures per instance                ${f(c.otherDeparturesPerInstance)}`);
  console.log(
    `  every instance launched once; ${COST_SCENARIO.durationMinutes} min active + ${COST_SCENARIO.settleMinutes} min settling; GitHub budget ${GITHUB_BUDGET.requests.toLocaleString('en-US')} requests/h`,
  );
  console.log(costTable(r));
  console.log(`largest line at ${r.sizes.at(-1)?.toLocaleString('en-US')} instances: ${r.largest}`);
  const faster = r.lines.filter((l) => l.fasterThanFleet).map((l) => l.line);
  console.log(
    faster.length
      ? `grows faster than the fleet (a defect): ${faster.join(', ')}`
      : 'no line grows faster than the fleet',
  );
  console.log(
    `GitHub requests per hour at ${r.sizes.map((n) => n.toLocaleString('en-US')).join(' / ')} instances: ${r.github.perHour.map((v) => Math.round(v).toLocaleString('en-US')).join(' / ')} (budget ${GITHUB_BUDGET.requests.toLocaleString('en-US')}/h; growth ${r.github.exponent.toFixed(2)})`,
  );
  console.log(`what drives them, per instance at ${r.runs.join(' / ')} instances:`);
  for (const d of r.drivers)
    console.log(
      `  ${d.what.padEnd(44)} ${d.perInstance.map((v) => v.toFixed(2)).join(' / ')}  (${d.drives})`,
    );
}
