import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Command } from 'commander';
import type { CliDeps } from '../deps';
import { createInvestigationServer, type InvestigationOptions } from '../mcp/server';
import type { CliCommand } from '../program';

/**
 * `fleetwarden mcp`: the read-only investigations as an MCP server on stdin/stdout, for an
 * investigating agent. It answers until the client closes stdin. Run it under the Investigator
 * role (stack output InvestigatorRoleArn): it uses the default credential chain like every command.
 */
async function serve(opts: InvestigationOptions, deps: CliDeps): Promise<void> {
  const server = createInvestigationServer(deps, opts);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => resolve();
  });
  await server.connect(transport);
  process.stdin.once('end', () => void server.close());
  deps.stderr.write(
    `fleetwarden mcp: serving on stdio (${opts.auditFile ? `audit file ${opts.auditFile}` : 'AWS, default credential chain'})\n`,
  );
  await closed;
}

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
      .action(async (opts: InvestigationOptions) => serve(opts, deps));
  },
};
