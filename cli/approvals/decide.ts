import type { Command } from 'commander';
import type { ApprovalPolicy, Decision } from '../../shared/approvals/model';
import { fingerprint, matchesApprover } from '../../shared/approvals/rules';
import { ConfigError } from '../../shared/core/errors';
import { loadJudged } from '../commands/show';
import type { CliDeps } from '../deps';
import { DecisionRefusedError } from '../errors';
import type { CliCommand } from '../program';
import type { ApproverSession, CallerIdentity } from './approver-identity';
import { type Judged, judgeHere, whatNext } from './judged';
import {
  APPROVAL_OUTPUTS,
  type ApprovalsOptions,
  type ApprovalsSetup,
  setupFor,
  withApprovalOptions,
} from './setup';

type Kind = Decision['decision'];

interface DecideOptions extends ApprovalsOptions {
  reason: string;
  json?: boolean;
}

/**
 * approve|reject: refuse locally what the fleet would not honour (unknown, not open, not an
 * approver, the proposer, a second vote), then assume the Approver role as yourself and write the
 * decision (conditional put: never overwritten), and say what happens next.
 */
async function decide(kind: Kind, id: string, opts: DecideOptions, deps: CliDeps): Promise<void> {
  const reason = opts.reason.trim();
  if (!reason)
    throw new ConfigError('--reason must say why (it is shown to everyone who reads the proposal)');
  const setup = await setupFor(opts, deps);
  const now = new Date(deps.clock.now());
  const j = await loadJudged(id, setup, now);
  refuseUnlessOpen(j);
  const roleArn = approverRole(setup);
  const identity = setup.aws.identity();
  const caller = await identity.whoAmI();
  refuseUnhonouredCaller(j, caller, setup.policy);
  const session = await identity.assume(roleArn, caller);
  const decision: Decision = {
    proposalId: j.proposal.id,
    fingerprint: j.proposal.fingerprint,
    decision: kind,
    reason,
    approver: session.identity,
    decidedAt: now.toISOString(),
    requestIds: [...session.requestIds],
  };
  const after = judgeHere(j.proposal, [...j.decisions, decision], setup.policy, now);
  const ignored = after.judgement.ignored.find((i) => i.decision === decision);
  if (ignored)
    throw new DecisionRefusedError(
      `the fleet would ignore this decision: ${ignored.why}`,
      `see fleetwarden show ${id}`,
    );
  const writer = setup.aws.writer(setup.decisionsTable, session);
  if ((await writer.decide(decision)) === 'exists')
    throw new DecisionRefusedError(
      `${caller.arn} decided ${id} already; a decision is never overwritten`,
      `see fleetwarden show ${id}`,
    );
  const next = { ...j, decisions: [...j.decisions, decision], ...after };
  report(deps, opts, decision, session, writer.requestIds(), next);
}

function report(
  deps: CliDeps,
  opts: DecideOptions,
  decision: Decision,
  session: ApproverSession,
  putIds: string[],
  j: Judged,
): void {
  const then = j.judged
    ? whatNext(j)
    : `the fleet judges whether it honours it (the approvers are not known here); if it does, ${whatNext({ ...j, judgement: { ...j.judgement, state: 'approved' } })}`;
  if (opts.json) {
    const judgement = { state: j.judgement.state, reason: j.judgement.reason, judged: j.judged };
    deps.stdout.write(
      `${JSON.stringify({ decision, putItemRequestIds: putIds, judgement, next: then }, null, 2)}\n`,
    );
    return;
  }
  const verb = decision.decision === 'approve' ? 'approved' : 'rejected';
  deps.stdout.write(
    [
      `${verb} ${decision.proposalId} as ${decision.approver.arn}`,
      `  reason:   ${decision.reason}`,
      `  session:  ${session.identity.sessionArn}`,
      `  requests: STS ${session.requestIds.join(', ')}; DynamoDB PutItem ${putIds.join(', ') || 'none'}`,
      `Proposal ${decision.proposalId}: ${j.judgement.state.toUpperCase()}${j.judged ? '' : ' (as stored)'}: ${j.judgement.reason}`,
      `Next: ${then}`,
      `  follow it: fleetwarden show ${decision.proposalId}`,
      '',
    ].join('\n'),
  );
}

function refuseUnlessOpen(j: Judged): void {
  const { state, reason } = j.judgement;
  // what `show` displayed (the stored changes) must be what the decision's fingerprint binds
  if (fingerprint(j.proposal.changes) !== j.proposal.fingerprint)
    throw new DecisionRefusedError(
      `proposal ${j.proposal.id} is tampered: its stored changes do not hash to its fingerprint (the fleet voids it at its next run)`,
      'do not decide it; report it: someone with write access to the proposals table changed it',
    );
  if (state === 'open') return;
  const p = j.proposal;
  const fresh = `decide the fresh one: fleetwarden proposals --function ${p.function} --status open`;
  const why = reason.startsWith(state) ? reason : `${state}: ${reason}`;
  const message = {
    approved: `proposal ${p.id} is approved already (${why})`,
    rejected: `proposal ${p.id} is rejected already (${why})`,
    executed: `proposal ${p.id} is executed already (${why})`,
    void: `proposal ${p.id} is void (${why})`,
    expired: `proposal ${p.id} is expired (${why})`,
  }[state];
  const hint =
    state === 'void' || state === 'expired' ? fresh : `nothing to decide: fleetwarden show ${p.id}`;
  throw new DecisionRefusedError(message, hint);
}

/** What the fleet checks of the approver's own identity, checked before the Approver role is assumed. */
function refuseUnhonouredCaller(j: Judged, caller: CallerIdentity, policy: ApprovalPolicy | undefined): void {
  const p = j.proposal;
  const mine = j.decisions.find((d) => d.approver.arn === caller.arn);
  if (mine)
    throw new DecisionRefusedError(
      `${caller.arn} decided ${p.id} already (${mine.decision} at ${mine.decidedAt}); a decision is never overwritten`,
      `see fleetwarden show ${p.id}`,
    );
  if (!policy) return;
  if (!matchesApprover(caller.arn, policy.approvers))
    throw new DecisionRefusedError(
      `${caller.arn} is not a configured approver (${policy.approvers.join(', ')}): the fleet would ignore this decision`,
      'approve as one of the configured approvers (aws sts get-caller-identity shows who you are signed in as)',
    );
  if (policy.distinctFromProposer && caller.arn === p.proposedBy.principal)
    throw new DecisionRefusedError(
      `${caller.arn} proposed it (two-person rule: the approver must be someone else)`,
      'ask another configured approver',
    );
}

function approverRole(setup: ApprovalsSetup): string {
  if (setup.approverRoleArn) return setup.approverRoleArn;
  const o = APPROVAL_OUTPUTS.approverRoleArn;
  throw new ConfigError(
    `no Approver role: pass ${o.flag}, deploy the approvals (stack output ${o.output} of ${setup.stackName}) or set ${o.env}`,
  );
}

/** The `approve` or `reject` command. */
export function decideCommand(kind: Kind): CliCommand {
  const name = kind;
  const does = kind === 'approve' ? 'Approve' : 'Reject';
  return {
    name,
    register(program: Command, deps: CliDeps) {
      withApprovalOptions(
        program
          .command(name)
          .description(
            `${does} a proposal as yourself: checks that the fleet would honour it, assumes the Approver role (session named after you), writes the decision and says what happens next`,
          )
          .argument('<id>', 'proposal id (fwp-…)')
          .requiredOption('--reason <text>', 'why (required; shown to everyone who reads the proposal)')
          .option(
            '--approver-role-arn <arn>',
            'the Approver role (default: stack output ApproverRoleArn, $FLEETWARDEN_APPROVER_ROLE_ARN)',
          )
          .option('--json', 'machine-readable output'),
      )
        .addHelpText('after', helpExamples(kind))
        .action(async (id: string, opts: DecideOptions) => decide(kind, id, opts, deps));
    },
  };
}

function helpExamples(kind: Kind): string {
  const why =
    kind === 'approve' ? 'checked: vol-0abc has no snapshot consumers' : 'that volume holds the only copy';
  return `
Examples:
  fleetwarden show fwp-d7n34i2zq6va
  fleetwarden ${kind} fwp-d7n34i2zq6va --reason "${why}"
  fleetwarden ${kind} fwp-d7n34i2zq6va --reason "${why}" --profile oncall --region eu-west-1

Exit codes: 0 written; 2 usage (no --reason, no Approver role); 3 unknown id; 6 the Approver role
refused you; 8 refused here, nothing written (not open, not a configured approver, the proposer,
decided by you already).`;
}
