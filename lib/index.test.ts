import { describe, expect, it } from 'vitest';
import * as api from './index';

const exported: Record<string, unknown> = { ...api };

describe("fleetwarden's public API (the package entry)", () => {
  it('exports the Fleetwarden construct, the feature constructs, the config schema and the guardrails', () => {
    for (const name of [
      'Fleetwarden',
      'DnsSync',
      'RunnerRemediation',
      'WebhookIngress',
      'AuditTrail',
      'RemediationFunction',
      'FleetFunction',
      'FleetDashboard',
      'applyGuardrails',
      'parseFleetConfig',
      'ConfigError',
      'FleetwardenSpoke',
      'FleetwardenSpokeStack',
    ])
      expect(typeof exported[name], name).toBe('function');
    expect(
      api.FleetConfigSchema.safeParse({ hostedZoneId: 'Z0123', zoneName: 'a.example.com' }).success,
    ).toBe(true);
    expect(api.REMEDIATIONS.map((d) => d.name)).toContain('runner-sweep');
  });
});
