import { ConfigError } from '../core/errors';
import { readSettings, type SettingsOf, setting } from '../kernel/settings';
import type { ApprovalPolicy } from './model';

/**
 * An IAM principal ARN pattern an approver may match: a user, a role (an assumed-role session of it
 * matches too), an assumed-role session, or an account root; `*` is a wildcard in the name, never in
 * the account (the Approver role's trust policy names the approvers' accounts).
 */
const APPROVER_PATTERN =
  /^arn:aws(?:-cn|-us-gov)?:(?:iam::\d{12}:(?:root|user\/[\w+=.@/*-]+|role\/[\w+=.@/*-]+)|sts::\d{12}:assumed-role\/[\w+=.@/*-]+)$/;
/** What an approver pattern must be, in words (errors, docs). */
export const APPROVER_BOUNDS =
  'an IAM principal ARN pattern (arn:aws:iam::<12-digit account>:role/<name>, user/<name>, root, or arn:aws:sts::<account>:assumed-role/<role>/<session>; * allowed in the name)';

/** True when `arn` is an approver pattern the approval flow accepts (config, construct, CLI). */
export function isApproverPattern(arn: string): boolean {
  return APPROVER_PATTERN.test(arn);
}

/**
 * The approval flow's settings (issue 12), declared once: the environment of every function with a
 * gated action (irreversible without `unattended`, or `proposesRuns`), the config's `approvals`
 * block and the Approvals construct derive from them. Off as a group: without PROPOSALS_TABLE no
 * approval flow is deployed and the kernel keeps the report-only gate.
 */
export const APPROVAL_SETTINGS = {
  proposalsTable: setting.optional(
    setting.string('PROPOSALS_TABLE', {
      doc: 'The proposals table (filled in from the fleet’s Approvals); unset: no approval flow, irreversible actions are only reported.',
    }),
  ),
  decisionsTable: setting.optional(
    setting.string('DECISIONS_TABLE', {
      doc: 'The decisions table the Approver role writes and the fleet only reads.',
    }),
  ),
  topicArn: setting.optional(
    setting.string('PROPOSAL_TOPIC_ARN', {
      doc: 'SNS topic a new proposal is announced on.',
      pattern: /^arn:aws(?:-cn|-us-gov)?:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}$/,
      bounds: 'an SNS topic ARN',
    }),
  ),
  approverRoleArn: setting.optional(
    setting.string('APPROVER_ROLE_ARN', {
      doc: 'The Approver role: a decision counts only when written under one of its sessions.',
      pattern: /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/,
      bounds: 'an IAM role ARN',
    }),
  ),
  approvers: setting.optional(
    setting.list('APPROVERS', {
      doc: 'IAM principal ARN patterns whose decisions are honoured (* wildcard in the name).',
      min: 1,
      pattern: APPROVER_PATTERN,
      bounds: APPROVER_BOUNDS,
    }),
  ),
  required: setting.integer('APPROVALS_REQUIRED', {
    doc: 'Distinct honoured approvals a proposal needs.',
    default: 1,
    min: 1,
    max: 5,
  }),
  twoPerson: setting.boolean('APPROVAL_TWO_PERSON', {
    doc: 'Two-person rule: whoever triggered a proposal cannot approve it.',
    default: true,
  }),
  expiry: setting.seconds('PROPOSAL_EXPIRY', {
    doc: 'How long a proposal stays open for a decision.',
    default: 86_400,
    min: 300,
    max: 604_800,
  }),
};

type Declared = SettingsOf<typeof APPROVAL_SETTINGS>;

/** A deployed approval flow's settings: every variable of the group set. */
export type ApprovalSettings = { [K in keyof Declared]-?: NonNullable<Declared[K]> };

/** The variables that come only with PROPOSALS_TABLE (the rest have defaults). */
const GROUP = ['decisionsTable', 'topicArn', 'approverRoleArn', 'approvers'] as const;

/**
 * The approval settings in `env`: undefined when PROPOSALS_TABLE is unset (no approval flow), else
 * the whole group; a partial group or a bad value is refused with every problem (ConfigError).
 */
export function readApprovalSettings(
  env: Record<string, string | undefined> = process.env,
): ApprovalSettings | undefined {
  const s = readSettings(APPROVAL_SETTINGS, env);
  const spec = APPROVAL_SETTINGS;
  if (s.proposalsTable === undefined) {
    const stray = GROUP.filter((k) => s[k] !== undefined).map((k) => spec[k].env);
    if (stray.length === 0) return undefined;
    throw new ConfigError(
      `invalid environment: PROPOSALS_TABLE is unset (no approval flow) but ${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set: the approval settings come as a group`,
    );
  }
  const missing = GROUP.filter((k) => s[k] === undefined).map((k) => `${spec[k].env}=<unset>`);
  if (missing.length > 0)
    throw new ConfigError(
      `invalid environment: PROPOSALS_TABLE is set, so the approval flow needs ${missing.join(', ')}`,
    );
  return s as ApprovalSettings;
}

/** The policy the gate judges decisions by, from the deployed settings. */
export function approvalPolicy(s: ApprovalSettings): ApprovalPolicy {
  return {
    approvers: s.approvers,
    approverRoleArn: s.approverRoleArn,
    required: s.required,
    distinctFromProposer: s.twoPerson,
    expirySeconds: s.expiry,
  };
}
