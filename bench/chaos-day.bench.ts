/**
 * Chaos day: a simulated day of a 60-instance fleet (runners taking jobs all day, a third of the
 * runners scaled in through the terminate hook, a spot interruption, web hosts leaving) with
 * EventBridge losing 5% of deliveries, duplicating 10%, reordering 20%, and 2% of invocations
 * meeting an API error. The real handlers run, routed by the synthesized stack's rules.
 * Compared in the same run with a naive per-event design: one Route 53 call per delivered EC2
 * state change (no batching, no ownership markers) and one GitHub list per webhook.
 */
import { DEFAULT_SIM_OPTIONS, type SimOptions } from '../cli/simulate/engine';
import type { Summary } from '../cli/simulate/report';
import { simulate } from '../cli/simulate/simulate';

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
};

export interface ChaosDayResult {
  summary: Summary;
  /** What a per-event design would have called, from the same run's deliveries. */
  naive: { route53Changes: number; githubListPages: number };
}

export async function chaosDay(options: SimOptions = CHAOS_DAY): Promise<ChaosDayResult> {
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const { summary, engine } = await simulate(options);
  const dnsDeliveries = engine.dnsEventDeliveries;
  // naive runner design: list every runner page on each job event to find the runner (per_page 30)
  const runners = Math.max(1, summary.counts.runnersRegistered ?? 0);
  const naiveList = (summary.invocations['runner-job-watch'] ?? 0) * Math.ceil(runners / 30);
  return { summary, naive: { route53Changes: dnsDeliveries, githubListPages: naiveList } };
}

export async function run(): Promise<void> {
  const started = Date.now();
  const { summary: s, naive } = await chaosDay();
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
  const r53 = s.apiCalls['route53:ChangeResourceRecordSets'] ?? 0;
  console.log(
    `  Route 53     ${r53} ChangeResourceRecordSets (naive one-per-event: ${naive.route53Changes}, ${ratio(naive.route53Changes, r53)} more)`,
  );
  const gh = s.apiCalls['github:list-runners-pages'] ?? 0;
  console.log(
    `  GitHub       ${gh} list pages + ${s.apiCalls['github:get-runner']} gets (naive list-per-job-event: ${naive.githubListPages} pages, ${ratio(naive.githubListPages, gh)} more)`,
  );
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
