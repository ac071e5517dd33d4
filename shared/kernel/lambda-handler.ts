import type { Context } from 'aws-lambda';
import { ConfigError } from '../core/errors';
import { metrics } from '../observability/powertools';
import { type ApprovalGate, REPORT_ONLY_GATE } from './approval';
import { needsApproval } from './definition';
import type { PortName, PortsOf } from './ports';
import type { Handler, Remediation } from './remediation';
import { readSettings, type SettingsOf, type SettingsSpec } from './settings';

/**
 * The Lambda handler of a wiring: wired once per container on the first invocation (a failed wiring
 * is retried on the next), the stored metrics published after every invocation.
 */
export function wiredOnce<E, R>(
  wire: () => Promise<Handler<E, R>>,
): (event: E, context: Context) => Promise<R> {
  let wired: Promise<Handler<E, R>> | undefined;
  return async (event, context) => {
    wired ??= wire().catch((err: unknown) => {
      wired = undefined;
      throw err;
    });
    try {
      return await (await wired)(event, context);
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}

/** What a gate is decided from: the remediation's declaration. */
export interface Gated {
  readonly name: string;
  readonly actions: object;
  readonly proposesRuns?: boolean;
}

/** What decides a remediation's approval gate when it is wired. */
export type GateOf = (definition: Gated) => Promise<ApprovalGate>;

/**
 * The gate of a remediation with no gated action: report-only (it never asks). One that needs
 * approval is refused: its entry is `lambdaHandler` with `{ approvals }` (remediation.ts).
 */
export async function ungatedGate(definition: Gated): Promise<ApprovalGate> {
  if (needsApproval(definition))
    throw new ConfigError(
      `${definition.name}: it needs approval (a gated action), so its entry is lambdaHandler with { approvals } (shared/kernel/remediation.ts), not an ungated handler`,
    );
  return REPORT_ONLY_GATE;
}

/**
 * A remediation's Lambda handler with the approval gate `gateOf` decides: settings read once from
 * the environment (every problem at once), ports wired once by `adapters`, the handler built with
 * the real clock; metrics flushed after every invocation (`wiredOnce`).
 */
export function wireLambdaHandler<S extends SettingsSpec, K extends string, N extends PortName, E, R>(
  definition: Remediation<S, K, N, E, R>,
  adapters: (settings: SettingsOf<S>) => PortsOf<N> | Promise<PortsOf<N>>,
  gateOf: GateOf,
): (event: E, context: Context) => Promise<R> {
  const wire = async () => {
    const settings = readSettings(definition.settings);
    const gate = await gateOf(definition);
    return definition.create(await adapters(settings), settings, { now: () => new Date(), gate });
  };
  return wiredOnce(wire);
}

/**
 * The Lambda entry of a remediation with no gated action (`needsApproval` false): `lambdaHandler`
 * without the approval flow's settings and wiring, so its bundle carries none of shared/approvals/
 * (`bench/bundles.test.ts`). Its gate is report-only; a gated remediation is refused when wired.
 */
export function ungatedLambdaHandler<S extends SettingsSpec, K extends string, N extends PortName, E, R>(
  definition: Remediation<S, K, N, E, R>,
  adapters: (settings: SettingsOf<S>) => PortsOf<N> | Promise<PortsOf<N>>,
): (event: E, context: Context) => Promise<R> {
  return wireLambdaHandler(definition, adapters, ungatedGate);
}
