import { describe, expect, it } from 'vitest';
import { parseFleetConfig } from './config';
import { SpokesSchema } from './config-spokes';

const BASE = { hostedZoneId: 'Z0123456789ABC', zoneName: 'fleet.example.com' };

describe('config: spokes', () => {
  it('defaults to none: the single-account deployment of today', () => {
    expect(parseFleetConfig(BASE).spokes).toBeUndefined();
  });

  it('lists member accounts with their regions', () => {
    const c = parseFleetConfig({
      ...BASE,
      fleetId: 'prod',
      spokes: [{ account: '222222222222', regions: ['eu-west-1', 'us-east-1'] }],
    });
    expect(c.spokes).toEqual([{ account: '222222222222', regions: ['eu-west-1', 'us-east-1'] }]);
  });

  it('refuses a malformed account or region, an empty region list and a repeated account', () => {
    const bad = SpokesSchema.safeParse([
      { account: '2222', regions: ['eu-west-1'] },
      { account: '333333333333', regions: [] },
      { account: '444444444444', regions: ['Europe'] },
      { account: '555555555555', regions: ['eu-west-1'] },
      { account: '555555555555', regions: ['us-east-1'] },
    ]);
    expect(bad.success).toBe(false);
    const messages = bad.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    expect(messages).toMatch(/0\.account: must be a 12-digit AWS account id/);
    expect(messages).toMatch(/1\.regions: must name at least 1 region/);
    expect(messages).toMatch(/2\.regions\.0: must be a region like eu-west-1/);
    expect(messages).toMatch(/4\.account: 555555555555 is listed twice/);
  });

  it('needs a fleetId: the spoke roles are named after it (fleetwarden-spoke-<fleetId>)', () => {
    expect(() =>
      parseFleetConfig({ ...BASE, spokes: [{ account: '222222222222', regions: ['eu-west-1'] }] }),
    ).toThrow(/fleetwarden\.fleetId: spokes need a fleetId/);
  });
});
