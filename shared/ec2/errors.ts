import { FleetwardenError } from '../core/errors';

/** DescribeInstances failed for a reason other than throttling (permissions, bad filter, service error). */
export class Ec2InventoryError extends FleetwardenError {
  override readonly name: string = 'Ec2InventoryError';
}
