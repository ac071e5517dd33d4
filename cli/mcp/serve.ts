import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CliDeps } from '../deps';
import { createInvestigationServer, type InvestigationOptions } from './server';

/**
 * `fleetwarden mcp`: the read-only investigations as an MCP server on stdin/stdout, for an
 * investigating agent. It answers until the client closes stdin. Run it under the Investigator
 * role (stack output InvestigatorRoleArn): it uses the default credential chain like every command.
 */
export async function serve(opts: InvestigationOptions, deps: CliDeps): Promise<void> {
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
