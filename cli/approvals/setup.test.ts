import { describe, expect, it } from 'vitest';
import { testDeps } from '../test-deps';
import { approvalsSetup } from './setup';

const ROLE = 'arn:aws:iam::123456789012:role/Fleetwarden-Approver';

describe('approvalsSetup', () => {
  it('takes tables, the Approver role and the policy from the stack outputs', async () => {
    const t = testDeps();
    t.approvals.outputs.set('Fleetwarden', {
      ProposalsTableName: 'Fleetwarden-Proposals',
      DecisionsTableName: 'Fleetwarden-Decisions',
      ApproverRoleArn: ROLE,
      Approvers: 'arn:aws:iam::123456789012:role/OnCall, arn:aws:iam::123456789012:user/*',
      ApprovalsRequired: '2',
      ApprovalTwoPerson: 'false',
    });
    const setup = await approvalsSetup({}, t.deps);
    expect(setup).toMatchObject({
      region: 'eu-west-1',
      stackName: 'Fleetwarden',
      proposalsTable: 'Fleetwarden-Proposals',
      decisionsTable: 'Fleetwarden-Decisions',
      approverRoleArn: ROLE,
      policy: {
        approverRoleArn: ROLE,
        approvers: ['arn:aws:iam::123456789012:role/OnCall', 'arn:aws:iam::123456789012:user/*'],
        required: 2,
        distinctFromProposer: false,
      },
    });
  });

  it('prefers flags over outputs, and outputs over the environment', async () => {
    const t = testDeps(undefined, {
      FLEETWARDEN_APPROVER_ROLE_ARN: 'arn:aws:iam::123456789012:role/FromEnv',
      FLEETWARDEN_PROPOSALS_TABLE: 'EnvProposals',
      FLEETWARDEN_DECISIONS_TABLE: 'EnvDecisions',
    });
    t.approvals.outputs.set('Other', { ApproverRoleArn: ROLE, ProposalsTableName: 'OutProposals' });
    const setup = await approvalsSetup(
      { stackName: 'Other', proposalsTable: 'FlagProposals', region: 'us-east-1', profile: 'oncall' },
      t.deps,
    );
    expect(setup).toMatchObject({
      region: 'us-east-1',
      profile: 'oncall',
      proposalsTable: 'FlagProposals',
      decisionsTable: 'EnvDecisions',
      approverRoleArn: ROLE,
    });
    expect(t.approvals.at).toEqual([{ region: 'us-east-1', profile: 'oncall' }]);
    const flag = await approvalsSetup(
      { stackName: 'Other', approverRoleArn: 'arn:aws:iam::1:role/F' },
      t.deps,
    );
    expect(flag.approverRoleArn).toBe('arn:aws:iam::1:role/F');
  });

  it('without the configured approvers there is no policy to judge by, and it says so', async () => {
    const t = testDeps(undefined, {
      FLEETWARDEN_PROPOSALS_TABLE: 'P',
      FLEETWARDEN_DECISIONS_TABLE: 'D',
      FLEETWARDEN_APPROVER_ROLE_ARN: ROLE,
    });
    const setup = await approvalsSetup({}, t.deps);
    expect(setup.policy).toBeUndefined();
    expect(setup.notes).toEqual([
      'stack Fleetwarden: not found in eu-west-1 (outputs not read)',
      'the configured approvers are not known here (stack output Approvers or FLEETWARDEN_APPROVERS): the fleet judges the decisions',
    ]);
  });

  it('reads the approvers from FLEETWARDEN_APPROVERS when the stack has no Approvers output', async () => {
    const t = testDeps(undefined, { FLEETWARDEN_APPROVERS: 'arn:aws:iam::123456789012:role/OnCall' });
    t.approvals.outputs.set('Fleetwarden', {
      ProposalsTableName: 'P',
      DecisionsTableName: 'D',
      ApproverRoleArn: ROLE,
    });
    const setup = await approvalsSetup({}, t.deps);
    expect(setup.policy).toMatchObject({
      approvers: ['arn:aws:iam::123456789012:role/OnCall'],
      required: 1,
      distinctFromProposer: true,
    });
  });

  it('refuses (usage) when the proposals or decisions table cannot be found anywhere', async () => {
    const t = testDeps();
    await expect(approvalsSetup({}, t.deps)).rejects.toThrow(
      'no proposals table: pass --proposals-table, deploy the approvals (stack output ProposalsTableName of Fleetwarden) or set FLEETWARDEN_PROPOSALS_TABLE',
    );
  });
});
