import { FleetwardenError } from '../core/errors';

/** Auto Scaling refused a lifecycle call for a reason other than throttling or a gone action. */
export class LifecycleActionError extends FleetwardenError {
  override readonly name: string = 'LifecycleActionError';
}

/** Auto Scaling refused DescribeWarmPool for a reason other than throttling (e.g. no such group). */
export class WarmPoolError extends FleetwardenError {
  override readonly name: string = 'WarmPoolError';
}
