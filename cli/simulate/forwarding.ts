/**
 * How a spoke's events reach the hub (issue 16): the forwarding rules of the synthesized spoke
 * stacks, each on the spoke's default bus with the hub's bus as target. An event raised in a
 * spoke is delivered to the hub only when one of its scope's rules matches it, as deployed.
 */
import { type AwsScope, sameScope } from '../../shared/aws/scope';
import { matchesPattern } from './event-pattern';
import type { Routing } from './routing';

/** A spoke stack's forwarding rules, read from its template. */
export interface SpokeRoute {
  scope: AwsScope;
  /** Event patterns of the rules whose target is an event bus (the hub's). */
  patterns: Record<string, unknown>[];
}

/** The event as the spoke's own EventBridge raises it: its account, region and resource ARNs. */
export function inScope(event: Record<string, unknown>, scope: AwsScope): Record<string, unknown> {
  const resources = Array.isArray(event.resources)
    ? (event.resources as unknown[]).map((r) =>
        typeof r === 'string'
          ? r.replace(/^(arn:[^:]+:[^:]+):[^:]*:\d{12}:/, `$1:${scope.region}:${scope.account}:`)
          : r,
      )
    : event.resources;
  return { ...event, account: scope.account, region: scope.region, resources };
}

/** Whether a rule of `scope`'s spoke stack forwards the event to the hub. */
export function forwards(routing: Routing, scope: AwsScope, event: Record<string, unknown>): boolean {
  const spoke = routing.spokes?.find((s) => sameScope(s.scope, scope));
  return spoke?.patterns.some((p) => matchesPattern(p, event)) ?? false;
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/** Whether a rule target's ARN names an event bus (a string, or a join of one). */
function isBusTarget(arn: unknown): boolean {
  const text = JSON.stringify(arn);
  return text.includes(':event-bus/');
}

/** The forwarding rules of a spoke stack's template (rules with a pattern and a bus target). */
export function spokeRouteOf(
  scope: AwsScope,
  template: { Resources?: Record<string, Resource> },
): SpokeRoute {
  const patterns: Record<string, unknown>[] = [];
  for (const r of Object.values(template.Resources ?? {})) {
    if (r.Type !== 'AWS::Events::Rule') continue;
    const p = r.Properties ?? {};
    const targets = (p.Targets as Array<{ Arn: unknown }> | undefined) ?? [];
    if (p.EventPattern && p.State !== 'DISABLED' && targets.some((t) => isBusTarget(t.Arn)))
      patterns.push(p.EventPattern as Record<string, unknown>);
  }
  return { scope, patterns };
}
