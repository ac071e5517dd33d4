import type { ScheduledEvent } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Proposal, ProposalStatus } from '../../shared/approvals/model';
import type { ProposalStore } from '../../shared/approvals/port';
import { InMemoryAuditSink } from '../../shared/audit/in-memory-audit-sink';
import { REPORT_ONLY_GATE } from '../../shared/kernel/approval';
import { readSettings } from '../../shared/kernel/settings';
import { REMEDIATIONS } from '../registry';
import { approvalsExpire } from './definition';

const NOW = new Date('2026-11-30T09:00:00Z');
const HOUR = 3_600_000;
const at = (ms: number) => new Date(NOW.getTime() + ms).toISOString();

/**
 * A proposals table as the fleet sees it: newest first, status changes conditional on the stored
 * status (false when a concurrent run moved it first). The real one: shared/approvals/dynamodb-proposal-store.ts.
 */
class ProposalTable implements ProposalStore {
  readonly items = new Map<string, Proposal>();
  transitions: Array<[string, ProposalStatus]> = [];
  failList?: Error;
  /** Runs just before a transition is applied (a concurrent run moving the proposal first). */
  beforeTransition?: (id: string) => void;
  async create(p: Proposal) {
    if (this.items.has(p.id)) return 'exists' as const;
    this.items.set(p.id, p);
    return 'created' as const;
  }
  async get(id: string) {
    return this.items.get(id);
  }
  async byKey(key: string) {
    return [...this.items.values()]
      .filter((p) => p.key === key)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }
  async list(filter: { status?: ProposalStatus; function?: string; limit?: number } = {}) {
    if (this.failList) throw this.failList;
    return [...this.items.values()]
      .filter(
        (p) =>
          (!filter.status || p.status === filter.status) &&
          (!filter.function || p.function === filter.function),
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
      .slice(0, filter.limit ?? Number.POSITIVE_INFINITY);
  }
  async transition(
    id: string,
    from: readonly ProposalStatus[],
    to: ProposalStatus,
    reason: string,
    when: string,
  ) {
    this.beforeTransition?.(id);
    const p = this.items.get(id);
    if (!p || !from.includes(p.status)) return false;
    this.items.set(id, { ...p, status: to, statusReason: reason, statusAt: when });
    this.transitions.push([id, to]);
    return true;
  }
  async claimExecution() {
    return false;
  }
  async settleExecution() {}
}

function proposal(id: string, status: ProposalStatus, expiresIn: number): Proposal {
  return {
    id,
    function: 'runner-sweep',
    key: `runner-sweep#run`,
    why: 'breaker',
    summary: 'remove 6 of 10',
    reason: 'circuit open',
    changes: [],
    blastRadius: { count: 6, of: 10, what: 'runners' },
    fingerprint: 'f'.repeat(64),
    evidence: { triggerId: 'sched-1', auditRecordIds: [], cloudTrailEventIds: [] },
    proposedBy: { function: 'runner-sweep', trigger: { source: 'fleetwarden.schedule', id: 'sched-1' } },
    createdAt: at(expiresIn - 24 * HOUR),
    expiresAt: at(expiresIn),
    status,
  };
}

const schedule: ScheduledEvent = {
  version: '0',
  id: 'expire-1',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: NOW.toISOString(),
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/approvals-expire'],
  detail: {},
};

let proposals: ProposalTable;
let audit: InMemoryAuditSink;
const settings = readSettings(approvalsExpire.settings, {
  AUDIT_TABLE_NAME: 'audit',
  PROPOSALS_TABLE: 'proposals',
});
const handler = () =>
  approvalsExpire.create({ audit, proposals }, settings, { now: () => NOW, gate: REPORT_ONLY_GATE });

beforeEach(() => {
  proposals = new ProposalTable();
  audit = new InMemoryAuditSink();
});

describe('approvals-expire', () => {
  it('expires each open proposal past its expiry with an approval.expired record; leaves the rest alone', async () => {
    for (const p of [
      proposal('fwp-late00000001', 'open', -HOUR),
      proposal('fwp-late00000002', 'open', -1),
      proposal('fwp-fresh0000001', 'open', HOUR),
      proposal('fwp-approved0001', 'approved', -HOUR),
      proposal('fwp-rejected0001', 'rejected', -HOUR),
    ])
      await proposals.create(p);
    await handler()(schedule);
    expect(proposals.transitions.sort()).toEqual([
      ['fwp-late00000001', 'expired'],
      ['fwp-late00000002', 'expired'],
    ]);
    expect(proposals.items.get('fwp-late00000001')).toMatchObject({
      status: 'expired',
      statusAt: NOW.toISOString(),
      statusReason: expect.stringMatching(/^expired at 2026-11-30T08:00:00.000Z without an approval/),
    });
    const expired = audit.all().filter((r) => r.action === 'approval.expired');
    expect(expired.map((r) => [r.subject.recordName, r.decision]).sort()).toEqual([
      ['fwp-late00000001', 'reported'],
      ['fwp-late00000002', 'reported'],
    ]);
    expect(expired[0]).toMatchObject({
      function: 'approvals-expire',
      calls: [],
      details: { proposalId: expect.any(String), proposedBy: 'runner-sweep', key: 'runner-sweep#run' },
    });
    const run = audit.all().find((r) => r.action === 'approval.expire-run');
    expect(run).toMatchObject({ decision: 'reported', details: { open: 3, expired: 2, movedFirst: 0 } });
  });

  it('a proposal a concurrent run moved first (approved, executed) is recorded skipped, never expired', async () => {
    await proposals.create(proposal('fwp-late00000001', 'open', -HOUR));
    proposals.beforeTransition = (id) => {
      const p = proposals.items.get(id);
      if (p) proposals.items.set(id, { ...p, status: 'approved' });
    };
    await handler()(schedule);
    expect(proposals.items.get('fwp-late00000001')?.status).toBe('approved');
    const rec = audit.all().find((r) => r.action === 'approval.expired');
    expect(rec).toMatchObject({ decision: 'skipped' });
    expect(rec?.reason).toMatch(/moved first/);
  });

  it('a proposals table failure is audited failed and rethrown (the schedule retries, the alarm fires)', async () => {
    proposals.failList = new Error('DynamoDB 500');
    await expect(handler()(schedule)).rejects.toThrow(/DynamoDB 500/);
    expect(audit.all().find((r) => r.action === 'approval.expire-run')).toMatchObject({ decision: 'failed' });
  });
});

describe('approvals-expire definition', () => {
  it('runs every 15 min, only where approvals are configured, with the proposals store alone', () => {
    expect(approvalsExpire.triggers).toEqual([{ kind: 'schedule', minutes: 15 }]);
    expect(approvalsExpire.needsApprovals).toBe(true);
    expect(approvalsExpire.ports).toEqual(['audit', 'proposals']);
    expect(approvalsExpire.entry).toBe('functions/approvals-expire/index.ts');
    expect(REMEDIATIONS.map((r) => r.name)).toContain('approvals-expire');
  });

  it('its one action is reversible bookkeeping: no fleet-mutating call, weight 0, UpdateItem on the proposals table', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters
    const table = 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/proposals';
    expect(approvalsExpire.actions.expire).toMatchObject({
      audit: 'approval.expired',
      reversible: true,
      weight: 0,
      calls: [],
    });
    expect(approvalsExpire.actions.expire.iam(settings)).toEqual([
      { actions: ['dynamodb:UpdateItem'], resources: [table] },
    ]);
    expect(approvalsExpire.reads(settings)).toEqual([
      { actions: ['dynamodb:Query'], resources: [`${table}/index/byStatus`] },
    ]);
  });
});
