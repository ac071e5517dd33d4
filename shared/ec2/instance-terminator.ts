import { type EC2Client, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { defaultEc2Client } from '../aws/clients';
import { ThrottledError } from '../core/errors';
import { Ec2InventoryError } from './errors';
import type { InMemoryInstanceInventory } from './in-memory-instance-inventory';

/** Port: terminate instances (only runner-sweep, only when the operator opted in). */
export interface InstanceTerminator {
  /** Already-gone instances count as terminated. */
  terminate(instanceIds: readonly string[]): Promise<void>;
}

/** TerminateInstances; IAM restricts it to the fleet's tag, so a foreign id fails loudly. */
export class Ec2InstanceTerminator implements InstanceTerminator {
  constructor(private readonly client: EC2Client = defaultEc2Client()) {}

  async terminate(instanceIds: readonly string[]): Promise<void> {
    if (instanceIds.length === 0) return;
    try {
      await this.client.send(new TerminateInstancesCommand({ InstanceIds: [...instanceIds] }));
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'InvalidInstanceID.NotFound') return;
      if (e.name === 'RequestLimitExceeded')
        throw new ThrottledError(`EC2 TerminateInstances: ${e.message}`, undefined, { cause: err });
      throw new Ec2InventoryError(`EC2 TerminateInstances failed: ${e.name}: ${e.message}`, { cause: err });
    }
  }
}

/** Fake for tests and the simulator: the instance starts shutting down in the in-memory inventory. */
export class InMemoryInstanceTerminator implements InstanceTerminator {
  readonly terminated: string[] = [];
  constructor(private readonly inventory: InMemoryInstanceInventory) {}

  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (const id of instanceIds) {
      this.terminated.push(id);
      try {
        this.inventory.setState(id, 'shutting-down');
      } catch {
        // unknown to EC2: already gone, which counts as terminated
      }
    }
  }
}
