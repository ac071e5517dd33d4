import { describe, expect, it } from 'vitest';
import { REMEDIATIONS } from '../../functions/registry';
import type { AnyRemediation } from '../../shared/kernel/remediation';
import { isMutatingAction } from '../guardrails/iam-actions';
import {
  type DeployedRemediation,
  declaredSpokeActions,
  spokeForwardPatterns,
  spokeGrants,
} from './spoke-permissions';

const byName = (n: string) => REMEDIATIONS.find((d: AnyRemediation) => d.name === n) as AnyRemediation;
const defaults = (d: AnyRemediation) =>
  Object.fromEntries(Object.entries(d.settings).map(([k, s]) => [k, (s as { default?: unknown }).default]));
const deployed = (n: string, given: Record<string, unknown> = {}): DeployedRemediation => {
  const definition = byName(n);
  return { definition, settings: { ...defaults(definition), ...given } };
};
const FLEET = {
  autoScalingGroupNames: ['runners-a', 'runners-b'],
  lifecycleHookName: 'fleetwarden-drain',
  fleetTagKey: 'fleetwarden:fleet',
  fleetTagValue: 'runners',
};
const ALL = [
  deployed('dns-sync', { zoneName: 'fleet.example.com', hostedZoneId: 'Z0123456789ABC', ownerId: 'fw' }),
  deployed('runner-drain', FLEET),
  deployed('runner-sweep', { ...FLEET, allowTerminate: true }),
  deployed('orphaned-volumes', FLEET),
];

describe('spokeGrants: exactly the spoke-side calls of the deployed remediations', () => {
  it('grants every EC2/Auto Scaling action the definitions declare, and nothing else', () => {
    const granted = new Set(spokeGrants(ALL).flatMap((g) => g.actions));
    expect([...granted].sort()).toEqual([...declaredSpokeActions(ALL)].sort());
    // what stays in the hub: Route 53, DynamoDB, SQS, GitHub
    expect([...granted].filter((a) => !/^(ec2|autoscaling):/.test(a))).toEqual([]);
    expect(granted.has('ec2:TerminateInstances')).toBe(true);
    expect(granted.has('autoscaling:CompleteLifecycleAction')).toBe(true);
  });

  it('keeps each statement as declared: same resources and conditions, no action wildcard', () => {
    const grants = spokeGrants(ALL);
    for (const g of grants) for (const a of g.actions) expect(a).not.toContain('*');
    const terminate = grants.find((g) => g.actions.includes('ec2:TerminateInstances'));
    expect(terminate?.conditions).toBeDefined();
    expect(JSON.stringify(terminate?.conditions)).toContain('runners-a');
    const complete = grants.find((g) => g.actions.includes('autoscaling:CompleteLifecycleAction'));
    expect(complete?.resources.every((r) => r.includes('autoScalingGroupName/runners-'))).toBe(true);
  });

  it('every mutating action is scoped (resource ARNs or a condition), never on * alone', () => {
    for (const g of spokeGrants(ALL))
      for (const a of g.actions.filter(isMutatingAction))
        expect(g.resources.includes('*') && !g.conditions, `${a} on ${g.resources.join(',')}`).toBe(false);
  });

  it("lets runner-drain's look list a spoke's groups: exactly the drain's Auto Scaling calls, nothing more", () => {
    const drain = spokeGrants([deployed('runner-drain', FLEET)]);
    expect(drain.flatMap((g) => g.actions).sort()).toEqual([
      'autoscaling:CompleteLifecycleAction',
      // the scheduled look, fanned out to the spoke, lists its groups' instances there
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeAutoScalingInstances',
      'autoscaling:DescribeLifecycleHooks',
      'autoscaling:DescribeScalingActivities',
      // and the warm pool, where a scale-in back into it waits on the hook
      'autoscaling:DescribeWarmPool',
      'autoscaling:RecordLifecycleActionHeartbeat',
    ]);
    // the reads support no resource-level permissions; the lifecycle calls stay on the fleet's groups
    const look = drain.find((g) => g.actions.includes('autoscaling:DescribeAutoScalingGroups'));
    expect(look?.actions.every((a) => a.startsWith('autoscaling:Describe'))).toBe(true);
    // no EC2 (the drain reads no instance there) and no SQS: the spoke's look is sent by the hub
    expect(drain.flatMap((g) => g.actions).filter((a) => !a.startsWith('autoscaling:'))).toEqual([]);
  });

  it('follows the deployment: no sweep with terminate, no TerminateInstances; nothing deployed, nothing granted', () => {
    const without = [deployed('runner-sweep', { ...FLEET, allowTerminate: false })];
    expect(spokeGrants(without).flatMap((g) => g.actions)).not.toContain('ec2:TerminateInstances');
    expect(spokeGrants([])).toEqual([]);
  });
});

describe('spokeForwardPatterns: the default-bus triggers of the deployed remediations', () => {
  it("takes each definition's own patterns (settings applied), not a retyped copy", () => {
    const patterns = spokeForwardPatterns(ALL);
    const ids = patterns.map((p) => p.id);
    expect(ids).toEqual(
      expect.arrayContaining(['StateChangeRule', 'NameTagChangeRule', 'TerminateHookRule']),
    );
    const hook = patterns.find((p) => p.id === 'TerminateHookRule');
    expect(hook?.pattern.detail).toEqual({
      AutoScalingGroupName: ['runners-a', 'runners-b'],
      LifecycleHookName: ['fleetwarden-drain'],
    });
    // the GitHub bus is the hub's own: nothing of it is forwarded
    expect(patterns.every((p) => p.pattern.source?.every((s) => s.startsWith('aws.')))).toBe(true);
  });

  it('forwards one rule per distinct pattern (two remediations on the same events share it)', () => {
    const twice = spokeForwardPatterns([...ALL, ...ALL]);
    expect(twice.length).toBe(spokeForwardPatterns(ALL).length);
  });
});
