import type { ScheduledEvent } from 'aws-lambda';
import type { Proposal } from '../../shared/approvals/model';
import { PROPOSALS_TABLE } from '../../shared/approvals/table-design';
import type { Subject } from '../../shared/audit/schema';
import type { IamGrant, Noted } from '../../shared/kernel/definition';
import {
  type ActResult,
  allowance,
  type RunKit,
  recordFailure,
  recordNote,
} from '../../shared/kernel/perform';
import type { PortsOf } from '../../shared/kernel/ports';
import {
  performSteps,
  type Remediation,
  type Runtime,
  rethrow,
  type Step,
} from '../../shared/kernel/remediation';
import { AUDIT_TABLE_SETTING, type SettingsOf, setting } from '../../shared/kernel/settings';

/**
 * approvals-expire: proposals that no run looks at again (the facts went away, the function stopped
 * proposing) would stay `open` for ever. Every 15 min this lists the open proposals and moves each
 * one past its expiry to `expired` (conditional on it still being open), with an `approval.expired`
 * record; a proposal a concurrent run moved first (approved, executed, void) is left as it is,
 * recorded skipped. It changes nothing in the fleet (no fleet-mutating call: bookkeeping of the
 * approval flow, reversible) and is deployed only where approvals are configured (`needsApprovals`).
 */

const SETTINGS = {
  auditTable: AUDIT_TABLE_SETTING,
  // the approvals settings are declared in shared/approvals/settings.ts (issue 12, infra): this
  // one is the same variable (PROPOSALS_TABLE), for this function alone
  proposalsTable: setting.string('PROPOSALS_TABLE', {
    doc: 'The proposals table (approvals): open proposals past their expiry are moved to expired.',
  }),
};
type Settings = SettingsOf<typeof SETTINGS>;
type Ports = PortsOf<'audit' | 'proposals'>;

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation pseudo parameters, substituted by the construct
const TABLE_ARN = 'arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/';
const FUNCTION = 'approvals-expire';
const RUN: Subject = { recordName: 'approvals:expire' };

/** Move one open proposal past its expiry to expired, unless a concurrent run moved it first. */
function expireStep(ports: Ports, p: Proposal, now: Date): Step {
  const reason = `expired at ${p.expiresAt} without an approval: ${p.summary} (proposed by ${p.function})`;
  return {
    kind: 'expire',
    subject: { recordName: p.id },
    reason,
    details: { proposalId: p.id, proposedBy: p.function, key: p.key, expiresAt: p.expiresAt, why: p.why },
    act: async (): Promise<ActResult> => {
      const moved = await ports.proposals.transition(p.id, ['open'], 'expired', reason, now.toISOString());
      return moved
        ? { decision: 'reported', reason }
        : {
            decision: 'skipped',
            reason: `proposal ${p.id} was moved first by a concurrent run: not expired`,
          };
    },
  };
}

function create(ports: Ports, _s: Settings, runtime: Runtime) {
  return async (event: ScheduledEvent): Promise<{ open: number; expired: number }> => {
    const now = runtime.now();
    const kit: RunKit = {
      spec: approvalsExpire,
      audit: ports.audit,
      ctx: {
        function: FUNCTION,
        trigger: { source: 'fleetwarden.schedule', id: event.id, time: new Date(event.time).toISOString() },
        mode: 'live',
        now: runtime.now,
      },
      dryRun: false,
      gate: runtime.gate,
      allowance: allowance(0),
    };
    let open: Proposal[];
    try {
      open = await ports.proposals.list({ status: 'open' });
    } catch (err) {
      return recordFailure(kit, { audit: 'approval.expire-run', subject: RUN }, err as Error);
    }
    const late = open.filter((p) => Date.parse(p.expiresAt) <= now.getTime());
    const out = await performSteps(
      kit,
      late.map((p) => expireStep(ports, p, now)),
    );
    const expired = out.performed.filter((x) => x.outcome.decision === 'reported').length;
    await recordNote(kit, runNote(open.length, expired, late.length - expired - out.errors.length));
    rethrow(out.errors, 'proposal expiries');
    return { open: open.length, expired };
  };
}

function runNote(open: number, expired: number, movedFirst: number): Noted {
  return {
    kind: 'note',
    audit: 'approval.expire-run',
    decision: 'reported',
    subject: RUN,
    reason: `${open} open proposals: ${expired} past their expiry moved to expired, ${movedFirst} moved first by another run`,
    details: { open, expired, movedFirst },
  };
}

export const approvalsExpire: Remediation<typeof SETTINGS, 'expire', 'audit' | 'proposals', ScheduledEvent> =
  {
    name: FUNCTION,
    summary: 'Moves open approval proposals past their expiry to expired, with an audit record each',
    entry: 'functions/approvals-expire/index.ts',
    triggers: [{ kind: 'schedule', minutes: 15 }],
    settings: SETTINGS,
    actions: {
      expire: {
        audit: 'approval.expired',
        does: 'mark the proposal expired',
        // bookkeeping of the approval flow: no fleet resource changes; a new proposal replaces it
        reversible: true,
        weight: 0,
        calls: [],
        iam: (s): IamGrant[] => [
          { actions: ['dynamodb:UpdateItem'], resources: [`${TABLE_ARN}${s.proposalsTable}`] },
        ],
      },
    },
    reads: (s) => [
      {
        actions: ['dynamodb:Query'],
        resources: [`${TABLE_ARN}${s.proposalsTable}/index/${PROPOSALS_TABLE.indexes.byStatus.name}`],
      },
    ],
    needsApprovals: true,
    ports: ['audit', 'proposals'],
    create,
  };
