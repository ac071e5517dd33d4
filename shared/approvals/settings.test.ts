import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors';
import { settingsEnv } from '../kernel/settings';
import {
  APPROVAL_SETTINGS,
  type ApprovalSettings,
  approvalPolicy,
  isApproverPattern,
  readApprovalSettings,
} from './settings';

const deployed = {
  PROPOSALS_TABLE: 'Fleet-Proposals',
  DECISIONS_TABLE: 'Fleet-Decisions',
  PROPOSAL_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:Fleet-Proposals',
  APPROVER_ROLE_ARN: 'arn:aws:iam::123456789012:role/fleetwarden-approver-Fleet',
  APPROVERS: 'arn:aws:iam::123456789012:role/OnCall,arn:aws:iam::210987654321:user/alice',
};

const failure = (env: Record<string, string>): string => {
  try {
    readApprovalSettings(env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('approval settings (shared/approvals/settings.ts)', () => {
  it('are off as a group: no PROPOSALS_TABLE, no approval flow (the report-only gate)', () => {
    expect(readApprovalSettings({})).toBeUndefined();
  });

  it('read the deployed group with the policy defaults', () => {
    expect(readApprovalSettings(deployed)).toEqual({
      proposalsTable: 'Fleet-Proposals',
      decisionsTable: 'Fleet-Decisions',
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:Fleet-Proposals',
      approverRoleArn: 'arn:aws:iam::123456789012:role/fleetwarden-approver-Fleet',
      approvers: ['arn:aws:iam::123456789012:role/OnCall', 'arn:aws:iam::210987654321:user/alice'],
      required: 1,
      twoPerson: true,
      expiry: 86_400,
    });
  });

  it('refuse a partial group, naming every missing variable', () => {
    const msg = failure({ PROPOSALS_TABLE: 'Fleet-Proposals', APPROVERS: deployed.APPROVERS });
    expect(msg).toMatch(/DECISIONS_TABLE/);
    expect(msg).toMatch(/PROPOSAL_TOPIC_ARN/);
    expect(msg).toMatch(/APPROVER_ROLE_ARN/);
    expect(msg).not.toMatch(/APPROVERS[^_]/);
  });

  it('refuse approval variables without PROPOSALS_TABLE (a half-wired function)', () => {
    expect(failure({ DECISIONS_TABLE: 'Fleet-Decisions' })).toMatch(
      /PROPOSALS_TABLE is unset.*DECISIONS_TABLE/,
    );
  });

  it('refuse out-of-bounds values and bad approver patterns with the value given', () => {
    const msg = failure({
      ...deployed,
      APPROVALS_REQUIRED: '6',
      APPROVAL_TWO_PERSON: 'yes',
      PROPOSAL_EXPIRY: '60',
      APPROVERS: 'arn:aws:iam::123456789012:role/OnCall,OnCall',
    });
    expect(msg).toMatch(/APPROVALS_REQUIRED="6"/);
    expect(msg).toMatch(/APPROVAL_TWO_PERSON="yes"/);
    expect(msg).toMatch(/PROPOSAL_EXPIRY="60"/);
    expect(msg).toMatch(/APPROVERS=.*OnCall".*IAM principal ARN/);
  });

  it('accept IAM principal ARN patterns with literal accounts only (the trust policy names the accounts)', () => {
    for (const ok of [
      'arn:aws:iam::123456789012:role/OnCall',
      'arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*',
      'arn:aws:iam::123456789012:user/*',
      'arn:aws:sts::123456789012:assumed-role/OnCall/alice',
      'arn:aws-us-gov:iam::123456789012:root',
    ])
      expect(isApproverPattern(ok), ok).toBe(true);
    for (const bad of [
      'arn:aws:iam::*:role/OnCall',
      'arn:aws:s3:::bucket',
      'arn:aws:iam::123456789012:group/admins',
      'OnCall',
      '*',
    ])
      expect(isApproverPattern(bad), bad).toBe(false);
  });

  it('round-trip through the environment a construct writes (settingsEnv)', () => {
    const values: ApprovalSettings = {
      proposalsTable: 'P',
      decisionsTable: 'D',
      topicArn: deployed.PROPOSAL_TOPIC_ARN,
      approverRoleArn: deployed.APPROVER_ROLE_ARN,
      approvers: ['arn:aws:iam::123456789012:role/OnCall'],
      required: 2,
      twoPerson: false,
      expiry: 3600,
    };
    expect(readApprovalSettings(settingsEnv(APPROVAL_SETTINGS, values))).toEqual(values);
  });

  it('approvalPolicy: the policy the gate judges decisions by', () => {
    const s = readApprovalSettings({ ...deployed, APPROVALS_REQUIRED: '2', APPROVAL_TWO_PERSON: 'false' });
    if (!s) throw new Error('deployed');
    expect(approvalPolicy(s)).toEqual({
      approvers: ['arn:aws:iam::123456789012:role/OnCall', 'arn:aws:iam::210987654321:user/alice'],
      approverRoleArn: 'arn:aws:iam::123456789012:role/fleetwarden-approver-Fleet',
      required: 2,
      distinctFromProposer: false,
      expirySeconds: 86_400,
    });
  });
});
