import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod';
import { DynamoDbAuditStore } from '../../shared/audit/dynamodb-audit-store';
import type { AuditRecord } from '../../shared/audit/schema';
import { FleetwardenError } from '../../shared/core/errors';
import { regionFrom, tableFrom } from '../commands/options';
import type { CliDeps } from '../deps';
import { describeFailure, UnknownSubjectError } from '../errors';
import { postureReport } from '../posture/run';
import { loadAuditFile, timelineReport } from '../timeline/run';
import { evidenceOfEntries, evidenceOfPosture } from './evidence';
import { explainRecord } from './explain';

export interface InvestigationOptions {
  /** Read audit records from this local JSON file (a simulator run) instead of AWS. */
  auditFile?: string;
  /** Audit table (default $FLEETWARDEN_AUDIT_TABLE). */
  tableName?: string;
  /** Region of the table and CloudTrail (default $AWS_REGION). */
  region?: string;
  /** Prefix of the fleet's log groups and queues, for posture. @default 'Fleetwarden' */
  stackName?: string;
}

/** A tool that needs AWS was called on a server reading a local audit file. */
export class NeedsAwsError extends FleetwardenError {
  override readonly name: string = 'NeedsAwsError';
}

/**
 * Every tool only reads: no tool here may send a command that changes anything (the test sends
 * every tool against mocked SDK clients and checks each command is a Describe/List/Get/Query/Lookup).
 */
const READ_ONLY: ToolAnnotations = {
  readOnlyHint: true,
  destructiveHint: false,
  idempotentHint: true,
  openWorldHint: true,
};

/**
 * The MCP server of `fleetwarden mcp`: the read-only investigations (timeline of a subject,
 * explanation of one audit record, encryption posture) as tools. Every answer is JSON with an
 * `evidence` object: the audit record ids, CloudTrail event ids and request ids it is based on.
 */
export function createInvestigationServer(deps: CliDeps, opts: InvestigationOptions): McpServer {
  const server = new McpServer(
    { name: 'fleetwarden', version: '1.0.0' },
    {
      instructions:
        'Read-only evidence about what the fleetwarden automation did and why. Cite the evidence ids of each answer (audit record ids, CloudTrail event ids, request ids).',
    },
  );
  server.registerTool(
    'timeline',
    {
      title: 'Timeline of an instance, runner or DNS record',
      description:
        'What the automation did to a subject and why: audit records (decisions, AWS and GitHub calls, causes) and CloudTrail events, time-ordered. Each entry carries its evidence ids; `evidence` lists them all.',
      inputSchema: {
        subject: z.string().min(1).describe('instance id (i-...), runner name or DNS record name'),
        since: z.string().optional().describe('ISO date/time or age (90m, 12h, 7d); default 7d'),
        maxPages: z
          .number()
          .int()
          .min(1)
          .max(100)
          .optional()
          .describe('CloudTrail pages to scan (50 events each)'),
      },
      annotations: READ_ONLY,
    },
    ({ subject, since, maxPages }) =>
      answer(deps, async (d) => {
        const report = await timelineReport(
          subject,
          { ...common(opts), ...(since ? { since } : {}), maxPages: String(maxPages ?? 10) },
          d,
        );
        return { ...report, evidence: evidenceOfEntries(report.entries) };
      }),
  );
  server.registerTool(
    'explain_record',
    {
      title: 'Explain one audit record',
      description:
        'One audit record read by its id: the decision and reason, every AWS call with its request id and the CloudTrail event that proves it, the cause (who made the triggering change, with its CloudTrail event id). `evidence` lists every id.',
      inputSchema: { recordId: z.string().min(1).describe('audit record id, e.g. dns-sync:4f1c0d2e...') },
      annotations: READ_ONLY,
    },
    ({ recordId }) => answer(deps, async (d) => explainRecord(await readRecord(recordId, opts, d))),
  );
  server.registerTool(
    'posture',
    {
      title: 'Encryption posture',
      description:
        'EBS volumes, snapshots and default encryption, the fleet log groups, queues and audit table: findings (ok or gap) and coverage (what was and was not checked), each citing the request id of the call that proves it; `evidence` lists them all.',
      inputSchema: {
        regions: z.array(z.string().min(1)).optional().describe('regions to scan (default $AWS_REGION)'),
      },
      annotations: READ_ONLY,
    },
    ({ regions }) =>
      answer(deps, async (d) => {
        if (opts.auditFile)
          throw new NeedsAwsError(
            `posture needs AWS: this server reads audit records from --audit-file ${opts.auditFile}`,
          );
        const report = await postureReport(
          {
            ...(regions && regions.length > 0 ? { region: regions } : {}),
            ...(opts.tableName ? { tableName: opts.tableName } : {}),
            stackName: opts.stackName ?? 'Fleetwarden',
          },
          d,
        );
        return { ...report, evidence: evidenceOfPosture(report) };
      }),
  );
  return server;
}

function common(opts: InvestigationOptions) {
  return {
    ...(opts.auditFile ? { auditFile: opts.auditFile } : {}),
    ...(opts.tableName ? { tableName: opts.tableName } : {}),
    ...(opts.region ? { region: opts.region } : {}),
  };
}

async function readRecord(recordId: string, opts: InvestigationOptions, deps: CliDeps): Promise<AuditRecord> {
  if (opts.auditFile) {
    const { store } = await loadAuditFile(opts.auditFile, deps);
    const record = await store.record(recordId);
    if (!record) throw new UnknownSubjectError(`no audit record ${recordId} in ${opts.auditFile}`);
    return record;
  }
  const table = tableFrom(opts.tableName, deps);
  const region = regionFrom(opts.region, deps);
  const record = await new DynamoDbAuditStore(table, (await deps.aws()).dynamodb(region)).record(recordId);
  if (!record) throw new UnknownSubjectError(`no audit record ${recordId} in table ${table} (${region})`);
  return record;
}

/**
 * Run one investigation with its progress and warnings captured as `notes` (nothing may reach
 * stdout: it carries the protocol). A failure is a tool error with the one-line message, the
 * hint and the cause chain, as the CLI prints them.
 */
async function answer(deps: CliDeps, run: (d: CliDeps) => Promise<object>): Promise<CallToolResult> {
  const notes: string[] = [];
  const note = { write: (s: string) => void notes.push(...s.split('\n').filter((l) => l.length > 0)) };
  try {
    const body = await run({ ...deps, stdout: note, stderr: note });
    return { content: [{ type: 'text', text: JSON.stringify({ ...body, notes }, null, 2) }] };
  } catch (err) {
    const failure = describeFailure(err);
    const text = [
      failure.message,
      `hint: ${failure.hint}`,
      `cause chain: ${causeChain(err).join(' <- ')}`,
      ...notes.map((n) => `note: ${n}`),
    ].join('\n');
    return { isError: true, content: [{ type: 'text', text }] };
  }
}

function causeChain(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err; out.length < 10 && e !== undefined; e = e instanceof Error ? e.cause : undefined)
    out.push(e instanceof Error ? `${e.name}: ${e.message.split('\n')[0]}` : String(e));
  return out;
}
