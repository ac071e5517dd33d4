import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import type { CliCommand } from '../program';
import type { TimelineOptions } from '../timeline/sources';

/** `fleetwarden timeline`: its options here; its work (cli/timeline/run.ts) loads when it runs. */
export const command: CliCommand = {
  name: 'timeline',
  register(program: Command, deps: CliDeps) {
    program
      .command('timeline')
      .description(
        'What the automation did to an instance, runner or DNS record, and why: audit records and CloudTrail events, time-ordered, each with its evidence id',
      )
      .argument('<subject>', 'instance id (i-...), runner name or DNS record name')
      .option(
        '--since <when>',
        'start: ISO date/time or age (90m, 12h, 7d); default 7d (everything with --audit-file)',
      )
      .option('--until <when>', 'end: ISO date/time or age (default: now)')
      .option('--wide', 'every evidence id and the full text on each line (default: fits 120 columns)')
      .option('--json', 'machine-readable output')
      .option('--table-name <name>', 'audit table (default: $FLEETWARDEN_AUDIT_TABLE)')
      .option(
        '--decisions-table <name>',
        "approvals' decisions table, for every decision on the proposals shown (default: $FLEETWARDEN_DECISIONS_TABLE; without it, the decisions executed actions carry)",
      )
      .option('--region <region>', 'AWS region (default: $AWS_REGION)')
      .option('--max-pages <n>', 'CloudTrail pages to scan at most, 1-100 (50 events each)', '10')
      .option(
        '--audit-file <path>',
        'read audit records from a local JSON file (e.g. fleetwarden-report/timeline.json) instead of AWS',
      )
      .option('--html <file>', 'also write the swimlane page (one self-contained HTML file) to <file>')
      .action(async (subject: string, opts: TimelineOptions, cmd: Command) =>
        (await import('../timeline/run')).timeline(subject, opts, deps, cmd),
      );
  },
};
