import type { Command } from 'commander';
import type { ApprovalPolicy } from '../../shared/approvals/model';
import { causeChain } from '../../shared/core/error-chain';
import { ConfigError } from '../../shared/core/errors';
import { regionFrom } from '../commands/options';
import type { CliDeps } from '../deps';
import type { ApprovalsAws } from './port';

/** The options every approval command takes. */
export interface ApprovalsOptions {
  region?: string;
  profile?: string;
  stackName?: string;
  proposalsTable?: string;
  decisionsTable?: string;
  approverRoleArn?: string;
}

/** Where the approvals live and how the fleet judges decisions, as far as this CLI can tell. */
export interface ApprovalsSetup {
  region: string;
  profile?: string;
  stackName: string;
  proposalsTable: string;
  decisionsTable: string;
  approverRoleArn?: string;
  /** The fleet's approval policy; undefined when the configured approvers are not known here. */
  policy?: ApprovalPolicy;
  /** What could not be found out (printed to stderr by the commands). */
  notes: string[];
  aws: ApprovalsAws;
}

/** The stack outputs (and env names) the approval commands read. */
export const APPROVAL_OUTPUTS = {
  proposalsTable: {
    output: 'ProposalsTableName',
    env: 'FLEETWARDEN_PROPOSALS_TABLE',
    flag: '--proposals-table',
  },
  decisionsTable: {
    output: 'DecisionsTableName',
    env: 'FLEETWARDEN_DECISIONS_TABLE',
    flag: '--decisions-table',
  },
  approverRoleArn: {
    output: 'ApproverRoleArn',
    env: 'FLEETWARDEN_APPROVER_ROLE_ARN',
    flag: '--approver-role-arn',
  },
  approvers: { output: 'Approvers', env: 'FLEETWARDEN_APPROVERS' },
  required: { output: 'ApprovalsRequired' },
  twoPerson: { output: 'ApprovalTwoPerson' },
  expiry: { output: 'ProposalExpiry' },
} as const;

export const DEFAULT_STACK = 'Fleetwarden';

/**
 * Resolve each setting from its flag, else the stack's output, else the environment. The outputs are
 * read once (CloudFormation DescribeStacks); a stack that is missing or unreadable is a note, not an
 * error, as long as the tables are known some other way.
 */
export async function approvalsSetup(opts: ApprovalsOptions, deps: CliDeps): Promise<ApprovalsSetup> {
  const region = regionFrom(opts.region, deps);
  const at = { region, ...(opts.profile ? { profile: opts.profile } : {}) };
  const aws = await deps.approvals(at);
  const stackName = opts.stackName ?? DEFAULT_STACK;
  const notes: string[] = [];
  const outputs = await readOutputs(aws, stackName, region, notes);
  const pick = (k: keyof typeof APPROVAL_OUTPUTS, flag?: string): string | undefined => {
    const o = APPROVAL_OUTPUTS[k];
    const fromEnv = 'env' in o ? deps.env[o.env] : undefined;
    return nonEmpty(flag) ?? nonEmpty(outputs[o.output]) ?? nonEmpty(fromEnv);
  };
  const proposalsTable = required(
    pick('proposalsTable', opts.proposalsTable),
    'proposals',
    'proposalsTable',
    stackName,
  );
  const decisionsTable = required(
    pick('decisionsTable', opts.decisionsTable),
    'decisions',
    'decisionsTable',
    stackName,
  );
  const approverRoleArn = pick('approverRoleArn', opts.approverRoleArn);
  const approvers = pick('approvers')
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const policy =
    approverRoleArn && approvers && approvers.length > 0
      ? {
          approverRoleArn,
          approvers,
          required: Number(outputs[APPROVAL_OUTPUTS.required.output] ?? 1),
          distinctFromProposer: outputs[APPROVAL_OUTPUTS.twoPerson.output] !== 'false',
          expirySeconds: Number(outputs[APPROVAL_OUTPUTS.expiry.output] ?? 86_400),
        }
      : undefined;
  if (!policy)
    notes.push(
      `the configured approvers are not known here (stack output Approvers or FLEETWARDEN_APPROVERS): the fleet judges the decisions`,
    );
  return {
    ...at,
    stackName,
    proposalsTable,
    decisionsTable,
    ...(approverRoleArn ? { approverRoleArn } : {}),
    ...(policy ? { policy } : {}),
    notes,
    aws,
  };
}

async function readOutputs(
  aws: ApprovalsAws,
  stackName: string,
  region: string,
  notes: string[],
): Promise<Record<string, string>> {
  try {
    const outputs = await aws.stackOutputs(stackName);
    if (!outputs) notes.push(`stack ${stackName}: not found in ${region} (outputs not read)`);
    return outputs ?? {};
  } catch (err) {
    notes.push(`stack ${stackName}: outputs not read in ${region}: ${causeChain(err).at(-1)}`);
    return {};
  }
}

function required(
  value: string | undefined,
  what: string,
  k: 'proposalsTable' | 'decisionsTable',
  stackName: string,
): string {
  const o = APPROVAL_OUTPUTS[k];
  if (!value)
    throw new ConfigError(
      `no ${what} table: pass ${o.flag}, deploy the approvals (stack output ${o.output} of ${stackName}) or set ${o.env}`,
    );
  return value;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s?.trim() ? s.trim() : undefined;
}

/** The options every approval command takes (--region, --profile, where the tables are). */
export function withApprovalOptions(cmd: Command): Command {
  return cmd
    .option('--region <region>', 'AWS region of the fleet stack (default: $AWS_REGION)')
    .option('--profile <name>', 'AWS named profile of your own credentials (default: the default chain)')
    .option('--stack-name <name>', 'the fleet stack, whose outputs name the tables and roles', DEFAULT_STACK)
    .option(
      '--proposals-table <name>',
      'proposals table (default: stack output ProposalsTableName, $FLEETWARDEN_PROPOSALS_TABLE)',
    )
    .option(
      '--decisions-table <name>',
      'decisions table (default: stack output DecisionsTableName, $FLEETWARDEN_DECISIONS_TABLE)',
    );
}

/** Resolve the setup and print what could not be found out to stderr. */
export async function setupFor(opts: ApprovalsOptions, deps: CliDeps): Promise<ApprovalsSetup> {
  const setup = await approvalsSetup(opts, deps);
  for (const n of setup.notes) deps.stderr.write(`approvals: ${n}\n`);
  return setup;
}
