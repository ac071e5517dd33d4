import type { Subject } from '../audit/schema';
import type { SettingsOf, SettingsSpec } from './settings';

/**
 * A remediation, declared in one module (functions/<name>/definition.ts): what triggers it, its
 * settings, what it may do and what each action costs. The kernel (shared/kernel/) runs every
 * definition with the same guarantees; infrastructure (infra/constructs/remediation-function.ts),
 * IAM, the simulator and the docs are derived from the same declaration.
 */

/** An EventBridge event pattern (the shape `events.EventPattern` takes, as plain data). */
export interface EventPatternSpec {
  readonly source?: readonly string[];
  readonly detailType?: readonly string[];
  readonly detail?: Readonly<Record<string, unknown>>;
}

/**
 * An event pattern as data, or as a function of the remediation's settings when the settings scope
 * it (the fleet's Auto Scaling groups, its own lifecycle hook, the configured name tag): the
 * construct builds the rule from the deployed values.
 */
export type PatternOf<S> = EventPatternSpec | ((settings: S) => EventPatternSpec);

/** The pattern of `trigger` for these settings. */
export function patternOf<S>(pattern: PatternOf<S>, settings: S): EventPatternSpec {
  return typeof pattern === 'function' ? pattern(settings) : pattern;
}

// biome-ignore lint/suspicious/noExplicitAny: a trigger list of any definition (settings unknown here)
export type TriggerSpec<S = any> =
  /** A fixed-rate schedule; `minutes` is the default, `setting` names a settings key overriding it (minutes). */
  | { readonly kind: 'schedule'; readonly minutes: number }
  /**
   * Events matched by a rule on the default bus (`bus: 'default'`) or the fleet's GitHub bus
   * (`bus: 'github'`), delivered through a queue (batched, retried, dead-lettered) or invoked directly.
   */
  | {
      readonly kind: 'events';
      /** Construct id of the rule (stable: rule names derive from it). */
      readonly id: string;
      readonly bus: 'default' | 'github';
      /** The pattern, or a function of the settings building it (see `PatternOf`). */
      readonly pattern: PatternOf<S>;
      readonly delivery: 'queue' | 'direct';
    }
  /** An HTTPS endpoint (Function URL). */
  | { readonly kind: 'url' };

/**
 * One IAM statement, as plain data. Resources may use CloudFormation pseudo parameters
 * (`arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*`); the construct
 * substitutes them. Mutating actions must be scoped (resources or conditions), never `*` alone:
 * the guardrails refuse it at synth.
 */
export interface IamGrant {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** One kind of action a remediation may take: declared once, enforced by the kernel. */
export interface ActionKind<S = unknown> {
  /** Audit record action name ("runner.deregister"). */
  readonly audit: string;
  /** What it does, as a verb phrase ("deregister the runner"): used in dry-run and refusal reasons. */
  readonly does: string;
  /** Can a human undo it? Irreversible actions pass the approval gate (unless `unattended`). */
  readonly reversible: boolean;
  /**
   * Why this irreversible action may run without a human's approval (e.g. the instance is confirmed
   * gone). Omitted on an irreversible action: it goes through the approval gate.
   */
  readonly unattended?: string;
  /** Units of the persisted blast-radius budget one action spends (0: not counted). */
  readonly weight: number;
  /** The AWS permissions `act` needs for this kind, scoped by the settings. */
  readonly iam: (settings: S) => readonly IamGrant[];
  /**
   * The mutating calls this kind makes, as the call recorder names them ("EC2.TerminateInstances",
   * "GitHub DELETE /orgs/{org}/actions/runners/{runner_id}"): any other fleet-mutating call made
   * while performing it is refused before it is sent.
   */
  readonly calls: readonly string[];
  /** GitHub App permissions (`organization_self_hosted_runners:write`). */
  readonly github?: readonly string[];
}

/** A planned action: what the pure planner decided, for the kernel to perform. */
export interface Planned<K extends string = string> {
  readonly kind: K;
  readonly subject: Subject;
  readonly reason: string;
  readonly details?: Readonly<Record<string, unknown>>;
  /**
   * The facts a human approves (an irreversible action's proposal): stable while nothing changed
   * (ids, sizes, states, event times; never "now" or an age). @default `details`
   */
  readonly facts?: Readonly<Record<string, unknown>>;
  /**
   * What the facts rest on, shown to the approver (an irreversible action's proposal): audit record
   * ids (e.g. the fleet's own attachment and snapshot records), CloudTrail event ids.
   */
  readonly evidence?: {
    readonly auditRecordIds?: readonly string[];
    readonly cloudTrailEventIds?: readonly string[];
  };
}

/** A decision that takes no action: recorded as it is (skipped, reported, refused). */
export interface Noted {
  readonly kind: 'note';
  /** Audit action name ("runner.ghost"). */
  readonly audit: string;
  readonly decision: 'skipped' | 'reported' | 'refused';
  readonly subject: Subject;
  readonly reason: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** The declarative part of a remediation: everything infra, IAM, docs and the simulator derive from. */
export interface RemediationSpec<S extends SettingsSpec = SettingsSpec, K extends string = string> {
  /** Function name, audit `function` field, folder under functions/ ("runner-sweep"). */
  readonly name: string;
  /** What it does, one sentence (function description, docs). */
  readonly summary: string;
  readonly triggers: readonly TriggerSpec<SettingsOf<S>>[];
  readonly settings: S;
  readonly actions: { readonly [k in K]: ActionKind<SettingsOf<S>> };
  /** The read-only AWS permissions its verification needs. */
  readonly reads: (settings: SettingsOf<S>) => readonly IamGrant[];
  /**
   * Deployed on its own by FleetStack when `config.remediations` names it (RemediationFunction).
   * Functions a feature construct deploys leave it unset: config.remediations refuses them, since
   * their feature's checks (ASG names, reserved concurrency, resource grants) would be skipped.
   */
  readonly optIn?: true;
  /** Fleet resources it uses (the construct grants them and sets their env). */
  readonly needs?: readonly FleetResource[];
  /**
   * A run the circuit breaker or the removal budget refuses becomes a proposal (the sweep asks the
   * approval gate with `why: 'breaker' | 'budget'`): it gets the approval flow like a remediation
   * with an irreversible action that is not `unattended`.
   */
  readonly proposesRuns?: boolean;
}

/**
 * Does this remediation ask the approval gate? When it has an irreversible action without
 * `unattended`, or `proposesRuns`. Only these get the approval flow's settings, grants and wiring.
 */
export function needsApproval(spec: { readonly actions: object; readonly proposesRuns?: boolean }): boolean {
  const kinds = Object.values(
    spec.actions as Readonly<Record<string, Pick<ActionKind, 'reversible' | 'unattended'>>>,
  );
  return spec.proposesRuns === true || kinds.some((k) => !k.reversible && !k.unattended);
}

/**
 * Fleet resources a function can be given: the audit table (always), the state table (budget,
 * first sightings), the GitHub App secret, its own queue (ChangeMessageVisibility, delayed retries),
 * the approval flow's proposals and decisions (a function that asks the gate gets them anyway).
 */
export type FleetResource = 'state-table' | 'github-app' | 'own-queue' | 'approvals';

const pseudo = (name: string) => `\${AWS::${name}}`;

/**
 * An ARN pattern for an IAM grant, with CloudFormation pseudo parameters for what the deploying
 * stack decides: `arnPattern('ec2', 'volume/*')` ->
 * `arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:volume/*`; `global` leaves region and
 * account empty (Route 53 hosted zones).
 */
export function arnPattern(service: string, resource: string, o: { global?: boolean } = {}): string {
  const where = o.global ? ':' : `${pseudo('Region')}:${pseudo('AccountId')}`;
  return `arn:${pseudo('Partition')}:${service}:${where}:${resource}`;
}
