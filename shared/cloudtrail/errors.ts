import { FleetwardenError } from '../core/errors';

/** LookupEvents refused the query (bad time range, attribute or NextToken) or failed otherwise. */
export class CloudTrailLookupError extends FleetwardenError {
  override readonly name: string = 'CloudTrailLookupError';
}
