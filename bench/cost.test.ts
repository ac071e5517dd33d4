import { beforeAll, describe, expect, it } from 'vitest';
import { COST_RUN_SIZES, type CostReport, costTable, fleetCost, sampledTraces } from './cost.bench';
import { PRICES, PRICES_AS_OF } from './prices';

describe('cost bench: the monthly AWS bill of the fleet itself', () => {
  // the bench's own runs (its sizes, its stated churn, GitHub's budget): one set for every check
  let r: CostReport;
  beforeAll(async () => {
    r = await fleetCost();
  });

  it('has one dated price table with a source for every service', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}/);
    for (const service of Object.values(PRICES))
      expect(service.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it('prices X-Ray with its default sampling: the first request each second, then 5% of the rest', () => {
    const month = 30 * 24 * 3600;
    expect(sampledTraces(1000)).toBe(1000);
    expect(sampledTraces(month)).toBe(month);
    expect(sampledTraces(month + 1_000_000)).toBeCloseTo(month + 50_000, 6);
  });

  it('holds the churn per instance the same at every size: the inputs do not grow with the fleet', () => {
    expect(r.runs).toEqual(COST_RUN_SIZES);
    const c = r.churn;
    for (const perInstance of [c.scaleInsPerInstance, c.otherDeparturesPerInstance, c.runnersPerInstance])
      for (const v of perInstance) expect(v).toBeCloseTo(perInstance[0] as number, 6);
    // jobs are random draws, served from one queue (a queued job waits for an idle runner with its
    // labels): measured, a bigger fleet serves a little more per runner-hour (likely: an idle runner
    // is found sooner), 7.2 / 7.6 / 8.2 at 18 / 36 / 72 instances; within 15% of each other
    const jobs = c.jobsPerRunnerHour;
    expect(Math.max(...jobs) / Math.min(...jobs)).toBeLessThan(1.15);
  });

  it('prices every line at each fleet size from the measured runs', () => {
    expect(r.lines.map((l) => l.line)).toEqual(
      expect.arrayContaining([
        'Lambda requests',
        'Lambda compute (arm64)',
        'SQS requests',
        'DynamoDB writes',
        'KMS keys',
        'KMS requests',
        'CloudWatch Logs ingestion',
        'CloudWatch metrics',
        'CloudWatch alarms + dashboards',
        'X-Ray traces',
        'EventBridge custom events',
      ]),
    );
    for (const l of r.lines) {
      expect(l.usd).toHaveLength(3);
      expect(
        l.usd.every((v) => Number.isFinite(v) && v >= 0),
        l.line,
      ).toBe(true);
      // linear at most: 100x the fleet costs at most 100x
      expect(l.usd[2] as number, l.line).toBeLessThanOrEqual((l.usd[0] as number) * 100 + 1e-9);
      expect(l.fasterThanFleet).toBe(l.exponent > 1.1);
    }
    // Lambda invocations were measured, not assumed
    expect(r.lines.find((l) => l.line === 'Lambda requests')?.usd[0]).toBeGreaterThan(0);
    expect(r.totals[2]).toBeGreaterThan(r.totals[0] as number);
    expect(r.lines.map((l) => l.line)).toContain(r.largest);
    expect(costTable(r)).toContain('| **total per month** |');
    // the drivers of the lines that could outgrow the fleet are measured at every run size; the
    // fleet sends exactly one EventBridge event per accepted webhook (it follows GitHub's traffic)
    const driver = (what: string) => r.drivers.find((d) => d.what === what)?.perInstance;
    expect(driver('accepted webhooks')?.every((v) => v > 0)).toBe(true);
    expect(driver('EventBridge events per webhook')).toEqual([1, 1, 1]);
    expect(driver('runner-drain invocations')).toHaveLength(3);
    expect(driver('CloudTrail correlations')?.every((v) => v > 0)).toBe(true);
    // at GitHub's documented budget no request of these runs is refused
    expect(driver('GitHub requests refused by the rate limit')).toEqual([0, 0, 0]);
    expect(r.github.perHour).toHaveLength(3);
  });

  it("no line grows faster than the fleet at the bench's stated churn (its own measured runs)", () => {
    const faster = r.lines.filter((l) => l.fasterThanFleet).map((l) => `${l.line} ${l.exponent.toFixed(2)}`);
    expect(faster).toEqual([]);
  });
});
