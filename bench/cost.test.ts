import { describe, expect, it } from 'vitest';
import { DEFAULT_SIM_OPTIONS } from '../cli/simulate/scenario';
import { costTable, fleetCost } from './cost.bench';
import { PRICES, PRICES_AS_OF } from './prices';

describe('cost bench: the monthly AWS bill of the fleet itself', () => {
  it('has one dated price table with a source for every service', () => {
    expect(PRICES_AS_OF).toMatch(/^\d{4}-\d{2}/);
    for (const service of Object.values(PRICES))
      expect(service.source).toMatch(/^https:\/\/aws\.amazon\.com\//);
  });

  it('prices every line at each fleet size from simulator runs; no projected line grows faster than the fleet', async () => {
    // short runs: the structure and the growth, not the prices
    const r = await fleetCost([4, 8, 16], [100, 1_000, 10_000], {
      ...DEFAULT_SIM_OPTIONS,
      durationMinutes: 20,
      settleMinutes: 30,
    });
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
      // measured growth of the line's usage across the runs (the bench prints any line above 1.1);
      // on runs this small it carries sampling noise, so it is reported, not asserted
      expect(Number.isFinite(l.exponent), l.line).toBe(true);
      expect(l.fasterThanFleet).toBe(l.exponent > 1.1);
    }
    // Lambda invocations were measured, not assumed
    expect(r.lines.find((l) => l.line === 'Lambda requests')?.usd[0]).toBeGreaterThan(0);
    expect(r.totals[2]).toBeGreaterThan(r.totals[0] as number);
    expect(r.lines.map((l) => l.line)).toContain(r.largest);
    expect(costTable(r)).toContain('| **total per month** |');
    // the drivers of the lines that can outgrow the fleet are measured at every run size; the
    // fleet sends exactly one EventBridge event per accepted webhook (it follows GitHub's traffic)
    const driver = (what: string) => r.drivers.find((d) => d.what === what)?.perInstance;
    expect(driver('accepted webhooks')?.every((v) => v > 0)).toBe(true);
    expect(driver('EventBridge events per webhook')).toEqual([1, 1, 1]);
    expect(driver('runner-drain invocations')).toHaveLength(3);
    expect(driver('CloudTrail correlations')?.every((v) => v > 0)).toBe(true);
  });
});
