import { DecisionStoreError } from '../errors';
import type { Decision } from '../model';
import type { DecisionReader, DecisionWriter } from '../port';
import { isApproverSession } from '../rules';

/** One decision write and the principal it was made by. */
export interface DecisionWrite {
  readonly principal: string;
  readonly decision: Decision;
}

interface Table {
  readonly items: Map<string, Decision>;
  readonly writes: DecisionWrite[];
  readonly denied: DecisionWrite[];
  failure?: Error;
  /** The resource policy: only sessions of this role may write (unset: anyone). */
  approverRoleArn?: string;
}

/**
 * The decisions table in memory: one decision per (proposal, approver), never overwritten
 * (conditional put -> 'exists'); reads in sort-key order (approver ARN), as a Query returns them.
 * It records WHO wrote each decision: the store writes as `principal`, and `as(principal)` is a view
 * on the same table writing as another one (a fleet function role, a forger), so the simulator can
 * check that no decision was written by a fleet function role. With `approverRoleArn`, writes by any
 * principal that is not a session of that role are denied, as the table's resource policy does.
 */
export class InMemoryDecisionStore implements DecisionReader, DecisionWriter {
  private readonly table: Table;
  private readonly principal: string;

  constructor(o: { principal?: string; approverRoleArn?: string } = {}, table?: Table) {
    this.principal = o.principal ?? 'arn:aws:sts::000000000000:assumed-role/FleetwardenApprover/test';
    this.table = table ?? { items: new Map(), writes: [], denied: [] };
    if (o.approverRoleArn) this.table.approverRoleArn = o.approverRoleArn;
  }

  /** The same table, writing as `principal`. */
  as(principal: string): InMemoryDecisionStore {
    return new InMemoryDecisionStore({ principal }, this.table);
  }

  /** Apply the table's resource policy: from now on only sessions of `roleArn` may write. */
  denyWritesExceptSessionsOf(roleArn: string): void {
    this.table.approverRoleArn = roleArn;
  }

  /** Every accepted write, in order, with its principal. */
  writes(): DecisionWrite[] {
    return this.table.writes.map((w) => structuredClone(w));
  }

  /** Every write the resource policy denied. */
  denied(): DecisionWrite[] {
    return this.table.denied.map((w) => structuredClone(w));
  }

  failNext(cause: Error = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })): void {
    this.table.failure = cause;
  }

  async decide(decision: Decision): Promise<'written' | 'exists'> {
    this.fault('PutItem');
    const write = { principal: this.principal, decision: structuredClone(decision) };
    const role = this.table.approverRoleArn;
    if (role && !isApproverSession(this.principal, role)) {
      this.table.denied.push(write);
      const cause = Object.assign(
        new Error(`${this.principal} is not authorized to perform: dynamodb:PutItem`),
        {
          name: 'AccessDeniedException',
        },
      );
      throw new DecisionStoreError(`decisions table PutItem failed: AccessDenied: ${cause.message}`, {
        cause,
      });
    }
    const key = `${decision.proposalId}\u0000${decision.approver.arn}`;
    if (this.table.items.has(key)) return 'exists';
    this.table.items.set(key, structuredClone(decision));
    this.table.writes.push(write);
    return 'written';
  }

  async decisions(proposalId: string): Promise<Decision[]> {
    this.fault('Query');
    return [...this.table.items.values()]
      .filter((d) => d.proposalId === proposalId)
      .sort((a, b) => a.approver.arn.localeCompare(b.approver.arn))
      .map((d) => structuredClone(d));
  }

  private fault(operation: string): void {
    const cause = this.table.failure;
    if (!cause) return;
    this.table.failure = undefined;
    throw new DecisionStoreError(`decisions table ${operation} failed: ${cause.message}`, { cause });
  }
}
