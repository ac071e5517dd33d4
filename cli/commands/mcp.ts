import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import type { InvestigationOptions } from '../mcp/server';
import type { CliCommand } from '../program';

/** `fleetwarden mcp`: its options here; the server (cli/mcp/serve.ts) loads when it runs. */
export const command: CliCommand = {
  name: 'mcp',
  register(program: Command, deps: CliDeps) {
    program
      .command('mcp')
      .description(
        'MCP server on stdio for investigating agents: timeline, explain_record and posture as read-only tools; every answer lists its evidence ids',
      )
      .option('--table-name <name>', 'audit table (default: $FLEETWARDEN_AUDIT_TABLE)')
      .option('--region <region>', 'AWS region of the table and CloudTrail (default: $AWS_REGION)')
      .option('--stack-name <name>', 'prefix of the fleet log groups and queues (posture)', 'Fleetwarden')
      .option(
        '--audit-file <path>',
        'answer from a local JSON file of audit records (e.g. fleetwarden-report/timeline.json) instead of AWS',
      )
      .action(async (opts: InvestigationOptions) => (await import('../mcp/serve')).serve(opts, deps));
  },
};
