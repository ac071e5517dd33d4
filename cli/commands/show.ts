import type { Command } from 'commander';
import type { Decision, PlannedChange, Proposal } from '../../shared/approvals/model';
import type { Subject } from '../../shared/audit/schema';
import { blastText, type Judged, judgeProposal, relative, scheduleOf, whatNext } from '../approvals/judged';
import {
  type ApprovalsOptions,
  type ApprovalsSetup,
  setupFor,
  withApprovalOptions,
} from '../approvals/setup';
import type { CliDeps } from '../deps';
import { UnknownProposalError } from '../errors';
import type { CliCommand } from '../program';

interface ShowOptions extends ApprovalsOptions {
  json?: boolean;
}

/** The proposal `id`, judged now; an unknown id is an UnknownProposalError (exit 3). */
export async function loadJudged(id: string, setup: ApprovalsSetup, now: Date): Promise<Judged> {
  const proposal = await setup.aws.proposals(setup.proposalsTable).get(id);
  if (!proposal)
    throw new UnknownProposalError(`no proposal ${id} in ${setup.proposalsTable} (${setup.region})`);
  const schedule = await scheduleOf(proposal.function);
  return { ...(await judgeProposal(setup, proposal, now)), ...(schedule ? { schedule } : {}) };
}

async function show(id: string, opts: ShowOptions, deps: CliDeps): Promise<void> {
  const setup = await setupFor(opts, deps);
  const now = new Date(deps.clock.now());
  const j = await loadJudged(id, setup, now);
  deps.stdout.write(opts.json ? `${JSON.stringify(jsonOf(j), null, 2)}\n` : renderShow(j, now));
}

/** The commands an approver types next. */
export function commandsFor(p: Proposal): string[] {
  const subjects = [...new Set(p.changes.map((c) => timelineSubject(c.subject)).filter(Boolean))];
  return [
    `fleetwarden approve ${p.id} --reason "…"`,
    `fleetwarden reject ${p.id} --reason "…"`,
    ...subjects.slice(0, 3).map((s) => `fleetwarden timeline ${s}`),
  ];
}

function timelineSubject(s: Subject): string | undefined {
  return s.instanceId ?? s.runnerName ?? s.recordName;
}

function jsonOf(j: Judged) {
  const honoured = new Set(j.judgement.honoured);
  const why = new Map(j.judgement.ignored.map((i) => [i.decision, i.why]));
  return {
    proposal: j.proposal,
    judgement: { state: j.judgement.state, reason: j.judgement.reason, judged: j.judged },
    decisions: j.decisions.map((d) => ({
      ...d,
      honoured: honoured.has(d),
      ...(why.has(d) ? { ignoredBecause: why.get(d) } : {}),
    })),
    next: whatNext(j),
    commands: commandsFor(j.proposal),
  };
}

export function subjectText(s: Subject): string {
  return Object.entries(s)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

function changeLines(c: PlannedChange, i: number): string[] {
  const facts = Object.entries(c.facts).map(
    ([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`,
  );
  return [
    `  ${i + 1}. ${c.action} (${c.kind}) ${subjectText(c.subject)}`,
    `     why: ${c.reason}`,
    ...(facts.length > 0 ? [`     facts: ${facts.join(' ')}`] : []),
  ];
}

/** A decision as the fleet judges it: honoured, or ignored and why. */
export function decisionLines(j: Judged): string[] {
  if (j.decisions.length === 0) return ['  none yet'];
  const honoured = new Set(j.judgement.honoured);
  const why = new Map(j.judgement.ignored.map((i) => [i.decision, i.why]));
  return j.decisions
    .slice()
    .sort((a, b) => a.decidedAt.localeCompare(b.decidedAt))
    .flatMap((d: Decision) => [
      `  ${d.decidedAt}  ${d.decision} by ${d.approver.arn}: "${d.reason}"`,
      `     ${
        honoured.has(d)
          ? 'HONOURED'
          : why.has(d)
            ? `IGNORED: ${why.get(d)}`
            : 'not judged here (approvers unknown)'
      }; session ${d.approver.sessionArn}; requests ${d.requestIds.join(', ') || 'none'}`,
    ]);
}

export function renderShow(j: Judged, now: Date): string {
  const p = j.proposal;
  const by = p.proposedBy;
  const trigger = `${by.trigger.source} ${by.trigger.id}${by.trigger.time ? ` at ${by.trigger.time}` : ''}`;
  const ev = p.evidence;
  return [
    `Proposal ${p.id}: ${j.judgement.state.toUpperCase()}${j.judged ? '' : ' (as stored)'}`,
    `  ${j.judgement.reason}`,
    '',
    `Summary:      ${p.summary}`,
    `Why:          ${p.why}: ${p.reason}`,
    `Blast radius: ${blastText(p)}`,
    `Proposed:     ${p.createdAt} by ${by.function} (trigger ${trigger})${by.principal ? `, on behalf of ${by.principal}` : ''}`,
    `Expires:      ${p.expiresAt} (${relative(p.expiresAt, now)})`,
    `Fingerprint:  ${p.fingerprint}`,
    ...(p.supersedes ? [`Supersedes:   ${p.supersedes} (void: its facts changed)`] : []),
    ...(p.execution
      ? [
          `Execution:    record ${p.execution.recordId}, claimed ${p.execution.claimedAt}${p.execution.outcome ? `, ${p.execution.outcome} at ${p.execution.at}` : ''}`,
        ]
      : []),
    '',
    `What (${p.changes.length} planned change${p.changes.length === 1 ? '' : 's'}):`,
    ...p.changes.flatMap(changeLines),
    '',
    'Evidence:',
    `  trigger record:    ${ev.triggerId}`,
    `  audit records:     ${ev.auditRecordIds.join(', ') || 'none'}`,
    `  CloudTrail events: ${ev.cloudTrailEventIds.join(', ') || 'none'}`,
    '',
    `Decisions (${j.decisions.length}):`,
    ...decisionLines(j),
    '',
    `Next: ${whatNext(j)}`,
    '',
    'Commands:',
    ...commandsFor(p).map((c) => `  ${c}`),
    '',
  ].join('\n');
}

export const command: CliCommand = {
  name: 'show',
  register(program: Command, deps: CliDeps) {
    withApprovalOptions(
      program
        .command('show')
        .description(
          'One proposal, everything an approver needs: what, why, blast radius, evidence ids, expiry, the decisions as the fleet judges them, what happens next',
        )
        .argument('<id>', 'proposal id (fwp-…), from the notification or `fleetwarden proposals`')
        .option('--json', 'machine-readable output'),
    )
      .addHelpText(
        'after',
        `
Examples:
  fleetwarden show fwp-d7n34i2zq6va
  fleetwarden show fwp-d7n34i2zq6va --json --profile oncall`,
      )
      .action(async (id: string, opts: ShowOptions) => show(id, opts, deps));
  },
};
