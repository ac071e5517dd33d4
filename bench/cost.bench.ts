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
 * Churn (stated): the simulator's scenario, kept as is: over a 40-minute window every instance of the
 * fleet is launched, runners take jobs, a third are scaled in through the terminate hook, and DNS
 * hosts come and go, then 65 minutes settle; i.e. the whole fleet turns over every 105 minutes, far
 * above a real fleet's, so the per-instance lines are an upper bound.
 *
 * Assumptions (stated, not measured): 20 ms of network per invocation on top of the handler's CPU
 * time; 2.5 KB of logs per invocation (Lambda's JSON START/END/REPORT lines, one INFO summary line, one
 * EMF metrics line); 3 SQS requests per queued message (send, receive, delete) plus Lambda's 5 idle
 * long-pollers per queue (one request per 20 s each); 2 DynamoDB writes per audit record (intent,
 * outcome) and one per correlation, 2 per webhook delivery (idempotency); SQS SSE-KMS data keys reused
 * for 5 minutes (2 KMS requests per queue per 5 minutes); every invocation traced by X-Ray (an upper
 * bound: X-Ray's default sampling records the first request each second and 5% of the rest).
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

/** What one simulator run of `instances` instances did, per function and per API. */
export interface RunActivity {
  instances: number;
  windowMinutes: number;
  byFunction: Map<string, { invocations: number; cpuMs: number; queued: boolean }>;
  apiCalls: Record<string, number>;
  auditRecords: number;
  correlations: number;
  webhooks: number;
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
    const figure = { invocations: 0, cpuMs: 0, queued: queued.has(logicalId) };
    byFunction.set(name, figure);
    overrides[route.entry] = (w: World, env: Record<string, string>) => {
      const real = wireFunction({ ...route, env }, w) as Invoke;
      return async (event: unknown, context: Context) => {
        const cpu = process.cpuUsage();
        try {
          return await real(event, context);
        } finally {
          const d = process.cpuUsage(cpu);
          figure.invocations++;
          figure.cpuMs += (d.user + d.system) / 1000;
        }
      };
    };
  }
  const options = { ...base, instances, overrides };
  const { summary } = await simulate(options, routing);
  return {
    instances,
    windowMinutes: options.durationMinutes + options.settleMinutes,
    byFunction,
    apiCalls: summary.apiCalls,
    auditRecords: summary.counts.auditRecords ?? 0,
    correlations: summary.counts.auditCorrelationResolved ?? 0,
    webhooks: summary.counts.webhooksAccepted ?? 0,
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
  price: number;
}

const sum = (
  r: RunActivity,
  f: (x: { invocations: number; cpuMs: number; queued: boolean }, name: string) => number,
) => [...r.byFunction].reduce((a, [name, x]) => a + f(x, name), 0);

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

export interface CostReport {
  sizes: number[];
  runs: number[];
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
  ];
}

export function projectCosts(runs: RunActivity[], inv: FleetInventory, sizes: number[]): CostReport {
  const xs = runs.map((r) => r.instances);
  const lines: CostLine[] = lineSpecs().map((spec) => {
    // usage per month at each run's size (the run's window scaled to 30 days)
    const ys = runs.map((r) => spec.usage(r, inv) * (MONTH_MINUTES / r.windowMinutes));
    const { a, b } = usageFit(xs, ys);
    const fixed = spec.fixed?.(inv) ?? 0;
    const usd = sizes.map((n) => (Math.max(0, a + b * n) + fixed) * spec.price);
    const first = ys[0] as number;
    const last = ys.at(-1) as number;
    const exponent =
      first > 0 && last > 0
        ? Math.log(last / first) / Math.log((xs.at(-1) as number) / (xs[0] as number))
        : 0;
    return { line: spec.line, unit: spec.unit, usd, exponent, fasterThanFleet: exponent > 1.1 };
  });
  const totals = sizes.map((_, i) => lines.reduce((s, l) => s + (l.usd[i] as number), 0));
  const top = [...lines].sort((p, q) => (q.usd.at(-1) as number) - (p.usd.at(-1) as number))[0];
  return { sizes, runs: xs, drivers: driversOf(runs), lines, totals, largest: top?.line ?? '' };
}

export async function fleetCost(
  runSizes = [10, 20, 40],
  sizes = [100, 1_000, 10_000],
  base: SimOptions = DEFAULT_SIM_OPTIONS,
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
  console.log(
    `measured in simulator runs of ${r.runs.join(', ')} instances; churn: the simulator's scenario`,
  );
  console.log(costTable(r));
  console.log(`largest line at ${r.sizes.at(-1)?.toLocaleString('en-US')} instances: ${r.largest}`);
  const faster = r.lines.filter((l) => l.fasterThanFleet).map((l) => l.line);
  console.log(
    faster.length
      ? `grows faster than the fleet (a defect): ${faster.join(', ')}`
      : 'no line grows faster than the fleet',
  );
  console.log(`what drives them, per instance at ${r.runs.join(' / ')} instances:`);
  for (const d of r.drivers)
    console.log(
      `  ${d.what.padEnd(44)} ${d.perInstance.map((v) => v.toFixed(2)).join(' / ')}  (${d.drives})`,
    );
}
