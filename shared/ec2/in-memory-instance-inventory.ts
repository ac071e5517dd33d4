import { ThrottledError } from '../core/errors';
import type { InstanceInfo, InstanceInventory } from './port';

export interface InMemoryInventoryOptions {
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
  /** How long after a change DescribeInstances shows it (eventual consistency). @default 0 */
  lagMs?: number;
  /** How long a terminated instance stays describable. @default 1 hour */
  terminatedVisibleMs?: number;
  /** Terminated instances lose their private/public IP in DescribeInstances. @default true */
  dropIpWhenTerminated?: boolean;
}

const LEAVING = new Set<InstanceInfo['state']>(['stopping', 'stopped', 'shutting-down', 'terminated']);

interface Version {
  visibleAt: number;
  info: InstanceInfo;
}

/**
 * In-memory EC2 inventory with DescribeInstances' observed behaviour: a change is visible only
 * after `lagMs` (until then the previous version, or nothing for a new instance); a terminated
 * instance stays describable for `terminatedVisibleMs`, without its IP addresses; unknown ids are
 * simply absent; listByTag skips terminated instances; throttling can be injected.
 */
export class InMemoryInstanceInventory implements InstanceInventory {
  private readonly versions = new Map<string, Version[]>();
  private readonly now: () => number;
  private readonly lagMs: number;
  private readonly terminatedVisibleMs: number;
  private readonly dropIp: boolean;
  private throttles = 0;
  calls = 0;

  constructor(options: InMemoryInventoryOptions = {}) {
    this.now = options.now ?? Date.now;
    this.lagMs = options.lagMs ?? 0;
    this.terminatedVisibleMs = options.terminatedVisibleMs ?? 3_600_000;
    this.dropIp = options.dropIpWhenTerminated ?? true;
  }

  /** Record the instance as it is now; DescribeInstances shows it after the lag. */
  put(info: InstanceInfo): void {
    const list = this.versions.get(info.instanceId) ?? [];
    const previous = list.at(-1)?.info;
    if (LEAVING.has(info.state) && info.stateChangedAt === undefined) {
      // EC2 stamps user-initiated transitions to the second
      info = {
        ...info,
        stateChangedAt:
          previous?.state === info.state && previous.stateChangedAt
            ? previous.stateChangedAt
            : new Date(Math.floor(this.now() / 1000) * 1000).toISOString(),
      };
    } else if (!LEAVING.has(info.state) && info.stateChangedAt !== undefined) {
      const { stateChangedAt: _dropped, ...rest } = info;
      info = rest;
    }
    list.push({ visibleAt: this.now() + this.lagMs, info: structuredClone(info) });
    this.versions.set(info.instanceId, list);
  }

  /** Change the state (keeping everything else) of an instance already put. */
  setState(instanceId: string, state: InstanceInfo['state']): void {
    const last = this.versions.get(instanceId)?.at(-1);
    if (!last) throw new Error(`unknown instance ${instanceId}`);
    this.put({ ...last.info, state });
  }

  throttleNext(count: number): void {
    this.throttles += count;
  }

  /** Every instance DescribeInstances would show now (terminated included while still visible). */
  visible(): InstanceInfo[] {
    return this.shown([...this.versions.keys()]);
  }

  /**
   * What DescribeInstances shows now of these ids, by id. Looks up only the ids asked for: a
   * describe of k ids costs k, not the whole inventory (the sweep's bench of 10,000 instances spent
   * most of its CPU in this fake when every describe copied and sorted everything).
   */
  private shown(instanceIds: Iterable<string>): InstanceInfo[] {
    const now = this.now();
    const out: InstanceInfo[] = [];
    for (const id of instanceIds) {
      const info = this.shownNow(id, now);
      if (info) out.push(info);
    }
    return out.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }

  private shownNow(instanceId: string, now: number): InstanceInfo | undefined {
    const list = this.versions.get(instanceId) ?? [];
    let current: Version | undefined;
    for (let i = list.length - 1; i >= 0 && !current; i--) {
      if ((list[i] as Version).visibleAt <= now) current = list[i];
    }
    if (!current) return undefined;
    if (current.info.state === 'terminated' && now - current.visibleAt >= this.terminatedVisibleMs)
      return undefined;
    const info = structuredClone(current.info);
    if (info.state === 'terminated' && this.dropIp) {
      delete info.privateIp;
      delete info.publicIp;
    }
    return info;
  }

  private call(): void {
    this.calls++;
    if (this.throttles > 0) {
      this.throttles--;
      throw new ThrottledError('EC2 DescribeInstances: Request limit exceeded.', 1000);
    }
  }

  async describe(instanceIds: readonly string[]): Promise<InstanceInfo[]> {
    if (instanceIds.length === 0) return [];
    this.call();
    return this.shown(new Set(instanceIds));
  }

  async listInStates(states: readonly InstanceInfo['state'][]): Promise<InstanceInfo[]> {
    this.call();
    return this.visible().filter((i) => states.includes(i.state));
  }

  async listByTag(key: string, value?: string): Promise<InstanceInfo[]> {
    this.call();
    return this.visible().filter(
      (i) => i.state !== 'terminated' && key in i.tags && (value === undefined || i.tags[key] === value),
    );
  }
}
