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

/** TerminateInstances accepts up to 1,000 ids a call. */
const IDS_PER_CALL = 1000;

/**
 * TerminateInstances; IAM restricts it to the fleet's tag, so a foreign id fails loudly. EC2
 * rejects a whole call when one id is unknown (InvalidInstanceID.NotFound): the ids are then
 * terminated one by one, so an already-gone instance never shields the others.
 */
export class Ec2InstanceTerminator implements InstanceTerminator {
  constructor(private readonly client: EC2Client = defaultEc2Client()) {}

  async terminate(instanceIds: readonly string[]): Promise<void> {
    for (let i = 0; i < instanceIds.length; i += IDS_PER_CALL) {
      const batch = instanceIds.slice(i, i + IDS_PER_CALL);
      const notFound = await this.call(batch);
      if (notFound && batch.length > 1) for (const id of batch) await this.call([id]);
    }
  }

  /** True when EC2 answered InvalidInstanceID.NotFound (for a single id: already gone, done). */
  private async call(instanceIds: readonly string[]): Promise<boolean> {
    try {
      await this.client.send(new TerminateInstancesCommand({ InstanceIds: [...instanceIds] }));
      return false;
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'InvalidInstanceID.NotFound') return true;
      if (e.name === 'RequestLimitExceeded')
        throw new ThrottledError(`EC2 TerminateInstances: ${e.message}`, undefined, { cause: err });
      throw new Ec2InventoryError(`EC2 TerminateInstances failed: ${e.name}: ${e.message}`, { cause: err });
    }
  }
}

export interface InMemoryInstanceTerminatorOptions {
  /**
   * The tag the role's TerminateInstances permission is conditioned on: an instance without it
   * fails the call (UnauthorizedOperation) as IAM would. @default - no condition
   */
  requireTag?: { key: string; value: string };
}

/**
 * Fake for tests and the simulator, with TerminateInstances' semantics: the instance starts
 * shutting down in the in-memory inventory; an instance EC2 does not know counts as terminated;
 * terminating again is a no-op; the IAM tag condition (when given) and throttling fail the whole
 * call, terminating nothing. Other errors propagate, never swallowed.
 */
export class InMemoryInstanceTerminator implements InstanceTerminator {
  readonly terminated: string[] = [];
  private throttles = 0;
  constructor(
    private readonly inventory: InMemoryInstanceInventory,
    private readonly options: InMemoryInstanceTerminatorOptions = {},
  ) {}

  throttleNext(count = 1): void {
    this.throttles += count;
  }

  async terminate(instanceIds: readonly string[]): Promise<void> {
    if (instanceIds.length === 0) return;
    if (this.throttles > 0) {
      this.throttles--;
      throw new ThrottledError('EC2 TerminateInstances: Request limit exceeded.', 1000);
    }
    const known = new Map(this.inventory.visible().map((i) => [i.instanceId, i]));
    const tag = this.options.requireTag;
    const denied = tag
      ? instanceIds.filter((id) => {
          const i = known.get(id);
          return i !== undefined && i.tags[tag.key] !== tag.value;
        })
      : [];
    if (denied.length > 0) {
      throw new Ec2InventoryError(
        `EC2 TerminateInstances failed: UnauthorizedOperation: ${denied.join(', ')} lack ${tag?.key}=${tag?.value}`,
      );
    }
    for (const id of instanceIds) {
      const info = known.get(id);
      if (!info) {
        // not visible to DescribeInstances: either still inside EC2's describe lag (TerminateInstances
        // knows it all the same) or unknown to EC2 (already gone: counts as terminated)
        try {
          this.inventory.setState(id, 'shutting-down');
        } catch (err) {
          if ((err as Error).message === `unknown instance ${id}`) continue;
          throw err;
        }
        this.terminated.push(id);
        continue;
      }
      this.terminated.push(id);
      if (info.state !== 'shutting-down' && info.state !== 'terminated')
        this.inventory.setState(id, 'shutting-down');
    }
  }
}
