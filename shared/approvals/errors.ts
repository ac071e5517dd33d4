import { FleetwardenError } from '../core/errors';

/** The proposals table could not be read or written. */
export class ProposalStoreError extends FleetwardenError {
  override readonly name: string = 'ProposalStoreError';
}

/**
 * A proposal's execution was settled by a run that does not hold its claim (a bug, or a claim
 * taken over after a failure): nothing is recorded, the run fails so a human looks.
 */
export class ExecutionClaimError extends ProposalStoreError {
  override readonly name: string = 'ExecutionClaimError';
}

/** The decisions table could not be read or written (a denied write included). */
export class DecisionStoreError extends FleetwardenError {
  override readonly name: string = 'DecisionStoreError';
}

/** A proposal could not be announced to humans (SNS, GitHub): the proposing run fails and is retried. */
export class ProposalNotifyError extends FleetwardenError {
  override readonly name: string = 'ProposalNotifyError';
}
