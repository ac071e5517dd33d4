import { FleetwardenError } from '../core/errors';
import type { RecordChange } from './port';

/** Route 53 said "slow down": Throttling ("Rate exceeded") or PriorRequestNotComplete. Retryable. */
export class Route53BusyError extends FleetwardenError {
  override readonly name: string = 'Route53BusyError';
  constructor(
    readonly code: 'Throttling' | 'PriorRequestNotComplete',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type ChangeProblemKind = 'not-found' | 'values-mismatch' | 'already-exists' | 'other';

export interface ChangeProblem {
  kind: ChangeProblemKind;
  message: string;
}

/** Classify one InvalidChangeBatch message by Route 53's own wording. */
export function classifyChangeMessage(message: string): ChangeProblemKind {
  if (/but it was not found/.test(message)) return 'not-found';
  if (/values provided do not match the current values/.test(message)) return 'values-mismatch';
  if (/but it already exists/.test(message)) return 'already-exists';
  return 'other';
}

/** Route 53 rejected the whole batch (nothing was applied). */
export class InvalidChangeBatchError extends FleetwardenError {
  override readonly name: string = 'InvalidChangeBatchError';
  readonly problems: ChangeProblem[];
  constructor(messages: readonly string[], options?: { cause?: unknown }) {
    super(`InvalidChangeBatch: ${messages.join('; ')}`, options);
    this.problems = messages.map((message) => ({ kind: classifyChangeMessage(message), message }));
  }

  /** True when every problem is a record that is already gone or already there (re-plan will settle it). */
  get onlyStaleView(): boolean {
    return this.problems.every((p) => p.kind !== 'other');
  }
}

/** Any other Route 53 failure (access denied, no such zone, service error). */
export class Route53Error extends FleetwardenError {
  override readonly name: string = 'Route53Error';
}

/** The zone kept changing under us: re-reading and re-planning did not converge within the bound. */
export class DnsConflictError extends FleetwardenError {
  override readonly name: string = 'DnsConflictError';
}

/** DescribeInstances did not (yet) show what a running instance needs (its private IP). Retry later. */
export class InstanceFactsUnavailableError extends FleetwardenError {
  override readonly name: string = 'InstanceFactsUnavailableError';
}

/**
 * The planner's working view (Route 53's semantics) rejects a change the planner made: the zone holds
 * something the ownership rules did not foresee. The planner refuses that instance alone.
 */
export class PlannedChangeRejectedError extends FleetwardenError {
  override readonly name: string = 'PlannedChangeRejectedError';
  constructor(
    readonly change: RecordChange,
    readonly problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      `planned ${change.action} ${change.record.type} ${change.record.name} is invalid: ${problem}`,
      options,
    );
  }
}

/** A batch produced no decision for an instance it was given (a planner bug, never expected). */
export class MissingDecisionError extends FleetwardenError {
  override readonly name: string = 'MissingDecisionError';
}

/** Reconcile wrote every repair it could, but Route 53 rejected some instances' changes (see cause). */
export class DnsRepairFailedError extends FleetwardenError {
  override readonly name: string = 'DnsRepairFailedError';
}
