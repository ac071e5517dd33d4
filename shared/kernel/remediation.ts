import type { Context } from 'aws-lambda';
import type { ApprovalSettings } from '../approvals/settings';
import { readApprovalSettings } from '../approvals/settings';
import { AuditWriteError } from '../audit/errors';
import type { AwsScope, Topology } from '../aws/scope';
import { ConfigError } from '../core/errors';
import { type ApprovalGate, REPORT_ONLY_GATE } from './approval';
import { type Noted, needsApproval, type Planned, type RemediationSpec } from './definition';
import { wireLambdaHandler } from './lambda-handler';
import { type ActResult, type Performed, perform, type RunKit, recordNote } from './perform';
import type { PortName, PortsOf } from './ports';
import { type TopologyOption, wireScopedLambdaHandler } from './scoped-lambda-handler';
import type { SettingsOf, SettingsSpec } from './settings';

/** What every handler gets besides its ports and settings (tests and the simulator set the clock). */
export interface Runtime {
  now: () => Date;
  gate: ApprovalGate;
  /**
   * The deployed hub and spokes (undefined without spokes): a remediation whose hub run fans out
   * to the spokes itself reads it (runner-drain's scheduled look).
   */
  topology?: Topology;
}

export type Handler<E = unknown, R = unknown> = (event: E, context?: Context) => Promise<R>;

/**
 * A whole remediation: its declaration plus how its handler is built from ports and settings.
 * The Lambda entry (`lambdaHandler`), the tests and the simulator all build it the same way;
 * only the ports differ (adapters, fakes).
 */
export interface Remediation<
  S extends SettingsSpec = SettingsSpec,
  K extends string = string,
  N extends PortName = PortName,
  E = never,
  R = unknown,
> extends RemediationSpec<S, K> {
  /** The ports the handler uses (the simulator hands it the same names). */
  readonly ports: readonly N[];
  /** Folder of the Lambda entry under the repo root ("functions/runner-sweep/index.ts"). */
  readonly entry: string;
  /**
   * Hub and spokes, queue batches: `whole` hands the scoped handler ONE call per SQS batch across
   * its scopes, its ports following each message's scope (scope-routing.ts); default `by-scope`.
   */
  readonly scopeBatches?: 'by-scope' | 'whole';
  create(ports: PortsOf<N>, settings: SettingsOf<S>, runtime: Runtime): Handler<E, R>;
}

/** Any remediation, for registries and generic code. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds remediations of every shape
export type AnyRemediation = Remediation<any, any, any, any, any>;

/** What `approvals` loads: the real gate's wiring (shared/approvals/wiring.ts). */
export interface ApprovalWiring {
  approvalGate(functionName: string, settings: ApprovalSettings): ApprovalGate;
}

export interface LambdaHandlerOptions {
  /** A fixed gate (tests); otherwise the gate comes from the approval settings in the environment. */
  gate?: ApprovalGate;
  /**
   * The real gate's wiring, given by the entry of a remediation that needs approval: it imports
   * `approvalGate` of shared/approvals/wiring.ts and passes `approvals: async () => ({ approvalGate })`.
   * Imported in the entry (not here), so only those bundles
   * carry the approval adapters; statically, because a dynamic import in a one-file bundle stops
   * esbuild shaking the modules it shares (all of zod, +367 KB, was kept).
   */
  approvals?: () => Promise<ApprovalWiring>;
}

/**
 * The approval gate of a deployed remediation: the real one (proposals, decisions) when it needs
 * approval and the approval settings are deployed (PROPOSALS_TABLE); otherwise report-only. A gated
 * entry deployed with approvals but wiring none is refused, never silently report-only.
 */
async function approvalGateOf(
  definition: { readonly name: string; readonly actions: object; readonly proposesRuns?: boolean },
  options: LambdaHandlerOptions,
): Promise<ApprovalGate> {
  if (options.gate) return options.gate;
  if (!needsApproval(definition)) return REPORT_ONLY_GATE;
  const settings = readApprovalSettings();
  if (!settings) return REPORT_ONLY_GATE;
  if (!options.approvals)
    throw new ConfigError(
      `${definition.name}: approvals are deployed (PROPOSALS_TABLE) but its entry wires no approval gate: give lambdaHandler { approvals } returning shared/approvals/wiring (imported statically in the entry)`,
    );
  return (await options.approvals()).approvalGate(definition.name, settings);
}

/**
 * The Lambda entry of a remediation: settings read once from the environment (every problem at once),
 * ports wired once by `adapters` (one memoised client each), the handler built with the real clock
 * and the approval gate (`approvalGateOf`); metrics flushed after every invocation. A failed wiring
 * is retried on the next invocation rather than cached. The entry of a remediation with no gated
 * action uses `ungatedLambdaHandler` (lambda-handler.ts): the same, without the approval settings.
 */
export function lambdaHandler<S extends SettingsSpec, K extends string, N extends PortName, E, R>(
  definition: Remediation<S, K, N, E, R>,
  adapters: (settings: SettingsOf<S>) => PortsOf<N> | Promise<PortsOf<N>>,
  options: LambdaHandlerOptions = {},
): (event: E, context: Context) => Promise<R> {
  return wireLambdaHandler(definition, adapters, (d) => approvalGateOf(d, options));
}

export interface ScopedHandlerOptions extends LambdaHandlerOptions, TopologyOption {}

/**
 * `lambdaHandler` for a hub function that acts in spokes (README "Hub and spokes"): `adapters`
 * gets the scope each event acts in (undefined without spokes) and builds ports that call there
 * (`shared/aws/scoped-clients.ts`); `routeByScope` hands every event to the handler of its own
 * account/region only, refuses (audited `trust.unknown-account`) one of any other, splits a queue
 * batch by scope and runs a schedule tick in every scope.
 */
export function scopedLambdaHandler<S extends SettingsSpec, K extends string, N extends PortName, E, R>(
  definition: Remediation<S, K, N, E, R>,
  adapters: (settings: SettingsOf<S>, scope: AwsScope | undefined) => PortsOf<N> | Promise<PortsOf<N>>,
  options: ScopedHandlerOptions = {},
): (event: E, context: Context) => Promise<R> {
  return wireScopedLambdaHandler(definition, adapters, (d) => approvalGateOf(d, options), options);
}

/** A planned action with its act, or a note: one step of a run. */
export type Step = (Planned & { act: () => Promise<ActResult> }) | Noted;

export interface StepsOutcome {
  performed: Array<{ step: Step; outcome: Performed | Noted }>;
  /** Errors of actions that failed (each has its failed record); rethrow with `rethrow`. */
  errors: Error[];
}

/**
 * Perform a plan's steps in order through the kernel. An action that fails is recorded (failed) and
 * the run goes on; an audit write failure stops the run at once (the next action would go
 * unrecorded too). Returns what happened; the caller writes its run record, then `rethrow`s.
 */
export async function performSteps(kit: RunKit, steps: readonly Step[]): Promise<StepsOutcome> {
  const out: StepsOutcome = { performed: [], errors: [] };
  for (const step of steps) {
    try {
      if ('act' in step) out.performed.push({ step, outcome: await perform(kit, step, step.act) });
      else {
        await recordNote(kit, step);
        out.performed.push({ step, outcome: step });
      }
    } catch (err) {
      if (err instanceof AuditWriteError) throw err;
      out.errors.push(err as Error);
    }
  }
  return out;
}

/** Throw the run's action errors (one as is, several as an AggregateError). */
export function rethrow(errors: readonly Error[], what = 'actions'): void {
  if (errors.length === 0) return;
  if (errors.length === 1) throw errors[0];
  throw new AggregateError(
    errors,
    `${errors.length} ${what} failed: ${errors.map((e) => e.message).join('; ')}`,
  );
}
