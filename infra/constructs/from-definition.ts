import { type Duration, Stack, Token } from 'aws-cdk-lib';
import type * as events from 'aws-cdk-lib/aws-events';
import type { Construct } from 'constructs';
import { ConfigError } from '../../shared/core/errors';
import { type PatternOf, patternOf, type TriggerSpec } from '../../shared/kernel/definition';
import type { Setting } from '../../shared/kernel/settings';

/**
 * Helpers for the feature constructs that deploy definitions with resources of their own
 * (DnsSync, RunnerRemediation, WebhookIngress, AuditTrail): the rule patterns, the settings' bounds
 * and the pseudo parameters come from the definition, never a second hand-written copy.
 */

/** A definition's trigger pattern for the deployed settings, as the Rule takes it. */
export function eventPattern<S>(pattern: PatternOf<S>, settings: S): events.EventPattern {
  const p = patternOf(pattern, settings);
  return {
    ...(p.source ? { source: [...p.source] } : {}),
    ...(p.detailType ? { detailType: [...p.detailType] } : {}),
    ...(p.detail ? { detail: { ...p.detail } } : {}),
  };
}

/**
 * A prop that carries a setting, checked with the setting's own value schema: none or one problem
 * naming the prop, the value given and the declared bound. A token (known at deploy time only) passes.
 */
export function settingProblems<T>(
  prop: string,
  s: Setting<T>,
  value: T | undefined,
  shown?: string,
): string[] {
  if (value === undefined || (typeof value === 'string' && Token.isUnresolved(value))) return [];
  const parsed = s.value.safeParse(value);
  if (parsed.success) return [];
  const why = parsed.error.issues.map((i) => i.message).join(', ');
  const got = `got ${shown ?? JSON.stringify(value)}`;
  if (!s.bounds) return [`${prop} is invalid: ${why} (${s.env}), ${got}`];
  const bound = `${s.bounds}${s.unit ? ` ${s.unit}` : ''}`;
  return [`${prop} must be ${bound} (${why === s.bounds ? s.env : `${s.env}: ${why}`}), ${got}`];
}

/** A Duration prop carrying a setting in seconds, checked with the setting's bounds. */
export function durationProblems(prop: string, s: Setting<number>, d: Duration | undefined): string[] {
  return settingProblems(prop, s, d?.toSeconds(), d && `${d.toSeconds()} s (${d.toHumanString()})`);
}

/**
 * `${AWS::Partition}`, `${AWS::Region}`, `${AWS::AccountId}` of a declared ARN pattern replaced by
 * the stack's own values (literals when the stack has an environment), so a derived statement
 * renders as the hand-written one did.
 */
export function withStackPseudo(scope: Construct, resource: string): string {
  const stack = Stack.of(scope);
  const values = { Partition: stack.partition, Region: stack.region, AccountId: stack.account };
  let out = resource;
  for (const [name, value] of Object.entries(values)) out = out.replaceAll(`\${AWS::${name}}`, value);
  return out;
}

/** A setting's declared default: what a construct writes when its prop is not given. */
export function defaultOf<T>(s: Setting<T>): T {
  if (s.default === undefined) throw new ConfigError(`setting ${s.env} declares no default`);
  return s.default;
}

/** A definition's schedule, in minutes: what a construct runs it at when no schedule is given. */
export function scheduleOf(triggers: readonly TriggerSpec[]): number {
  const t = triggers.find((x) => x.kind === 'schedule');
  if (t?.kind !== 'schedule') throw new ConfigError('the definition declares no schedule');
  return t.minutes;
}
