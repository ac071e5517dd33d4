import { ExecutionClaimError, ProposalStoreError } from '../errors';
import type { Proposal, ProposalStatus } from '../model';
import type { ProposalStore } from '../port';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const newestFirst = (a: Proposal, b: Proposal) =>
  b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);

/**
 * The proposals table in memory, with DynamoDB's semantics as the adapter uses them: create is a
 * conditional put (attribute_not_exists(id)), transitions and claims are conditional updates that
 * answer false when the condition does not hold, reads hand out copies. `failNext()` injects a
 * failure (a throttled or denied call) into the next call.
 */
export class InMemoryProposalStore implements ProposalStore {
  private readonly items = new Map<string, Proposal>();
  private failure: Error | undefined;

  /** Fail the next call (as the adapter does when DynamoDB fails: ProposalStoreError with the cause). */
  failNext(cause: Error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })): void {
    this.failure = cause;
  }

  /** Every stored proposal (the simulator's invariants read them). */
  all(): Proposal[] {
    return [...this.items.values()].sort(newestFirst).map((p) => structuredClone(p));
  }

  async create(proposal: Proposal): Promise<'created' | 'exists'> {
    this.fault('PutItem');
    if (this.items.has(proposal.id)) return 'exists';
    this.items.set(proposal.id, structuredClone(proposal));
    return 'created';
  }

  async get(id: string): Promise<Proposal | undefined> {
    this.fault('GetItem');
    const p = this.items.get(id);
    return p && structuredClone(p);
  }

  async byKey(key: string): Promise<Proposal[]> {
    this.fault('Query');
    return this.all().filter((p) => p.key === key);
  }

  async list(
    filter: { status?: ProposalStatus; function?: string; limit?: number } = {},
  ): Promise<Proposal[]> {
    this.fault('Query');
    const matches = this.all().filter(
      (p) =>
        (!filter.status || p.status === filter.status) &&
        (!filter.function || p.function === filter.function),
    );
    return filter.limit === undefined ? matches : matches.slice(0, filter.limit);
  }

  async transition(
    id: string,
    from: readonly ProposalStatus[],
    to: ProposalStatus,
    reason: string,
    at: string,
  ): Promise<boolean> {
    this.fault('UpdateItem');
    const p = this.items.get(id);
    if (!p || !from.includes(p.status)) return false;
    this.items.set(id, { ...p, status: to, statusReason: reason, statusAt: at });
    return true;
  }

  async claimExecution(id: string, recordId: string, at: string): Promise<boolean> {
    this.fault('UpdateItem');
    const p = this.items.get(id);
    if (p?.status !== 'approved') return false;
    const e = p.execution;
    if (e && e.recordId !== recordId && e.outcome !== 'failed') return false;
    this.items.set(id, { ...p, execution: { recordId, claimedAt: at } });
    return true;
  }

  async settleExecution(
    id: string,
    recordId: string,
    outcome: 'acted' | 'failed',
    at: string,
  ): Promise<void> {
    this.fault('UpdateItem');
    const p = this.items.get(id) as Mutable<Proposal> | undefined;
    if (!p?.execution || p.execution.recordId !== recordId || p.execution.outcome !== undefined)
      throw new ExecutionClaimError(
        `cannot settle ${id} for ${recordId}: its execution is claimed by ${p?.execution?.recordId ?? 'nobody'}`,
        { cause: new Error('The conditional request failed') },
      );
    const next: Mutable<Proposal> = { ...p, execution: { ...p.execution, outcome, at } };
    if (outcome === 'acted')
      Object.assign(next, { status: 'executed', statusReason: `executed by ${recordId}`, statusAt: at });
    this.items.set(id, next);
  }

  private fault(operation: string): void {
    const cause = this.failure;
    if (!cause) return;
    this.failure = undefined;
    throw new ProposalStoreError(`proposals table ${operation} failed: ${cause.message}`, { cause });
  }
}
