import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import type { PostureOptions } from '../posture/run';
import type { CliCommand } from '../program';

/** `fleetwarden posture`: its options here; its work (cli/posture/run.ts) loads when it runs. */
export const command: CliCommand = {
  name: 'posture',
  register(program: Command, deps: CliDeps) {
    program
      .command('posture')
      .description(
        'Encryption posture: EBS volumes, snapshots and default encryption, the fleet log groups, queues and audit table; every finding cites the API request id that proves it',
      )
      .option('--region <region...>', 'regions to scan (default: $AWS_REGION)')
      .option('--format <format>', 'markdown or json (json can be used as a later --baseline)', 'markdown')
      .option('--out <file>', 'write the report to a file instead of stdout')
      .option('--baseline <file>', 'a previous --format json report: show which gaps closed or opened since')
      .option(
        '--table-name <name>',
        'audit table to check, once, in its own region (see --table-region) (default: $FLEETWARDEN_AUDIT_TABLE; without it the report says "not checked")',
      )
      .option(
        '--table-region <region>',
        'region of the audit table (default: $AWS_REGION; an ARN in --table-name wins)',
      )
      .option('--stack-name <name>', 'prefix of the fleet log groups and queues', 'Fleetwarden')
      .option('--fail-on-gaps', 'exit 1 when any gap is found')
      .action(async (opts: PostureOptions, cmd: Command) =>
        (await import('../posture/run')).posture(opts, cmd, deps),
      );
  },
};
