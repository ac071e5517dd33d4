import type { Command } from 'commander';
import { PROPOSAL_STATUSES, type ProposalStatus } from '../../shared/approvals/model';
import { ConfigError } from '../../shared/core/errors';
import { ageText, blastText, type Judged, judgeProposal, relative } from '../approvals/judged';
import { type ApprovalsOptions, setupFor, withApprovalOptions } from '../approvals/setup';
import type { CliDeps } from '../deps';
import type { CliCommand } from '../program';

interface ProposalsOptions extends ApprovalsOptions {
  status?: string;
  function?: string;
  json?: boolean;
}

async function proposals(opts: ProposalsOptions, deps: CliDeps): Promise<void> {
  const status = parseStatus(opts.status);
  const setup = await setupFor(opts, deps);
  const now = new Date(deps.clock.now());
  const stored = await setup.aws
    .proposals(setup.proposalsTable)
    .list(opts.function ? { function: opts.function } : {});
  const judged: Judged[] = [];
  for (const p of stored) judged.push(await judgeProposal(setup, p, now));
  const shown = judged
    .filter((j) => !status || j.judgement.state === status)
    .sort((a, b) => b.proposal.createdAt.localeCompare(a.proposal.createdAt));
  if (opts.json) {
    deps.stdout.write(`${JSON.stringify({ proposals: shown.map(jsonOf) }, null, 2)}\n`);
    return;
  }
  deps.stdout.write(shown.length === 0 ? 'no proposals\n' : renderList(shown, now));
}

function parseStatus(value: string | undefined): ProposalStatus | undefined {
  if (value === undefined) return undefined;
  if (!(PROPOSAL_STATUSES as readonly string[]).includes(value))
    throw new ConfigError(`--status ${JSON.stringify(value)} is not one of ${PROPOSAL_STATUSES.join(', ')}`);
  return value as ProposalStatus;
}

function jsonOf(j: Judged) {
  const p = j.proposal;
  return {
    id: p.id,
    status: j.judgement.state,
    statusReason: j.judgement.reason,
    judged: j.judged,
    function: p.function,
    why: p.why,
    summary: p.summary,
    blastRadius: p.blastRadius,
    createdAt: p.createdAt,
    expiresAt: p.expiresAt,
    decisions: j.decisions.length,
  };
}

/** ID, STATUS, FUNCTION, SUMMARY, BLAST RADIUS, AGE, EXPIRES: one line each. */
export function renderList(list: readonly Judged[], now: Date): string {
  const rows = list.map((j) => [
    j.proposal.id,
    j.judged ? j.judgement.state : `${j.judgement.state}?`,
    j.proposal.function,
    j.proposal.summary,
    blastText(j.proposal),
    ageText(now.getTime() - Date.parse(j.proposal.createdAt)),
    ['open', 'approved'].includes(j.judgement.state) ? relative(j.proposal.expiresAt, now) : '-',
  ]);
  const header = ['ID', 'STATUS', 'FUNCTION', 'SUMMARY', 'BLAST RADIUS', 'AGE', 'EXPIRES'];
  const width = (i: number) => Math.max(header[i]?.length ?? 0, ...rows.map((r) => r[i]?.length ?? 0));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(width(i))))
      .join('  ')
      .trimEnd();
  const unjudged = list.some((j) => !j.judged)
    ? ['STATUS with "?": as stored; the approvers are not known here, so decisions were not judged']
    : [];
  return [line(header), ...rows.map(line), ...unjudged, ''].join('\n');
}

export const command: CliCommand = {
  name: 'proposals',
  register(program: Command, deps: CliDeps) {
    withApprovalOptions(
      program
        .command('proposals')
        .description(
          'Proposals: irreversible actions (and runs the breaker refused) waiting for a human, newest first, with their status as judged now',
        )
        .option('--status <status>', `only this status as judged now: ${PROPOSAL_STATUSES.join(', ')}`)
        .option('--function <name>', 'only proposals of this remediation (e.g. runner-sweep)')
        .option('--json', 'machine-readable output'),
    )
      .addHelpText(
        'after',
        `
Examples:
  fleetwarden proposals --status open
  fleetwarden proposals --function orphaned-volumes --json
  fleetwarden proposals --profile oncall --region eu-west-1`,
      )
      .action(async (opts: ProposalsOptions) => proposals(opts, deps));
  },
};
