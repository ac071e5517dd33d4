import { FleetwardenError } from '../core/errors';

/** Listing runners failed part-way; nothing may be judged from it. */
export class RunnerListingError extends FleetwardenError {
  override readonly name: string = 'RunnerListingError';
}

/** GitHub refused to remove a runner because it is running a job (HTTP 422). */
export class RunnerBusyError extends FleetwardenError {
  override readonly name: string = 'RunnerBusyError';
  constructor(
    readonly runnerId: number,
    options?: { cause?: unknown },
  ) {
    super(`runner ${runnerId} is busy running a job; GitHub refused to remove it`, options);
  }
}

/** A GitHub API call failed for a reason other than rate limiting, 404 or busy. */
export class GitHubApiError extends FleetwardenError {
  override readonly name: string = 'GitHubApiError';
  constructor(
    message: string,
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
