import { FleetwardenError } from '../core/errors';

/** The sweep's state table (removal budget, first sightings) could not be read or written. */
export class SweepStateError extends FleetwardenError {
  override readonly name: string = 'SweepStateError';
}
